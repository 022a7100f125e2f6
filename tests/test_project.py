"The project's own promises: the nbdev_test alias, nbdev settings, the README's main job."
import json, os, shutil, subprocess, sys, tomllib
from importlib.metadata import entry_points
from pathlib import Path
import pytest

def test_nbdev_test_alias():
    eps = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert eps.get("nbdev_test") == "nbdev.test:nbdev_test"
    assert shutil.which("nbdev_test"), "nbdev_test is not on PATH"

def test_nbdev_settings(root):
    cfg = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["nbdev"]
    assert "slow" in cfg["tst_flags"].split() and "tags" in cfg["allowed_cell_metadata_keys"]
    assert not (root / "settings.ini").exists() and not (root / "setup.py").exists()

def test_clean_keeps_parameters_tag(root, tmp_path):
    "nbdev-clean must keep papermill's `parameters` tag"
    shutil.copy(root / "pyproject.toml", tmp_path); (tmp_path / "nbs").mkdir()
    nb = tmp_path / "nbs" / "00_data.ipynb"; shutil.copy(root / "nbs" / "00_data.ipynb", nb)
    subprocess.run(["nbdev-clean", "--fname", str(nb)], cwd=tmp_path, check=True)
    tags = [c["metadata"].get("tags", []) for c in json.loads(nb.read_text())["cells"]]
    assert ["parameters"] in tags

@pytest.mark.slow
def test_readme_main_job(root, tmp_path):
    "The README's first command: papermill runs train.ipynb from nbs/ and leaves a complete run folder"
    readme = (root / "README.md").read_text()
    cmd = next(l for l in readme.splitlines() if "papermill" in l and l.strip().startswith("pip install"))
    assert cmd.strip().startswith('pip install -e ".[dev]"') and "cd nbs && papermill train.ipynb out.ipynb -p loss role" in cmd
    out = tmp_path / "out.ipynb"
    r = subprocess.run([sys.executable, "-m", "papermill", "train.ipynb", str(out), "-p", "loss", "role", "-p", "epochs", "3",
                        "-p", "out_dir", str(tmp_path / "runs"), "--kernel", "python3", "--log-level", "WARNING"], cwd=root / "nbs",
                       check=True, capture_output=True, text=True, env=os.environ | {"MLCSTUDY_CACHE": str(tmp_path / "cache")})
    assert "[linear] epoch 3/3: train loss" in r.stderr and "test mAP" in r.stderr      # progress reaches the terminal
    run = next((tmp_path / "runs").iterdir())
    assert {"config.json", "metrics.json", "predictions.npz", "checkpoint-linear.pt"} <= {p.name for p in run.iterdir()}
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["finished"] and len(metrics["history"]["linear"]) == 3 and 0 < metrics["test_map"] < 100
    assert "test_map" in json.dumps(json.loads(out.read_text())["cells"])
    outputs = [o for c in json.loads(out.read_text())["cells"] for o in c.get("outputs", []) if o.get("output_type") == "stream"]
    text = "".join("".join(o["text"]) for o in outputs)
    assert text.count("[linear] epoch 3/3: train loss") == 1 and "\x1b[" not in text and "features tf_efficientnet_lite0" not in text
    assert "features tf_efficientnet_lite0" in r.stderr                  # the extraction's progress: on the terminal only

@pytest.mark.slow
def test_papermill_rejects_bad_parameters(root, tmp_path):
    "An unknown loss stops in the first cells with a message naming it"
    r = subprocess.run([sys.executable, "-m", "papermill", "train.ipynb", str(tmp_path / "o.ipynb"), "-p", "loss", "rolee",
                        "--kernel", "python3", "--log-level", "WARNING"], cwd=root / "nbs", capture_output=True, text=True)
    assert r.returncode != 0 and "unknown loss 'rolee'" in r.stdout + r.stderr

@pytest.mark.parametrize("nb", ["train", "sweep", "study_unobserved", "study_attention", "explorer", "paper_tables"])
def test_papermill_sees_every_parameter(nb):
    "Every line of a parameters cell is a parameter papermill reads (`papermill --help-notebook`, no 'unknown parameter')"
    import re, papermill as pm
    path = Path(__file__).parent.parent / "nbs" / f"{nb}.ipynb"
    cell = next(c for c in json.loads(path.read_text())["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    names = [m.group(1) for l in "".join(cell["source"]).splitlines() if (m := re.match(r"^(\w+)\s*:", l))]
    assert names and sorted(pm.inspect_notebook(str(path))) == sorted(names)

@pytest.mark.slow
def test_wheel_carries_coco_mini(root, tmp_path):
    "The built wheel, installed into a fresh virtual environment away from any checkout, loads coco-mini by name"
    import os
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), str(root)],
                   check=True, cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("mlcstudy-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)   # torch etc. from here
    py = str(venv / "bin" / "python")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    code = ("import mlcstudy, mlcstudy.data, mlcstudy.datasets as D, mlcstudy.runs as R; d = D.load_dataset('coco-mini', 'val'); "
            "print(mlcstudy.__file__); print(len(d), d.n_classes); print(mlcstudy.data.data_dir()); print(R.runs_dir())")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLCSTUDY_")}
    out = subprocess.run([py, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0].startswith(str(venv)) and out[1] == "105 80"                  # the wheel's package, not the checkout's
    assert out[2].startswith(str(venv)) and out[3] == str(tmp_path / "runs")    # data inside the wheel; runs in the cwd

def test_train_notebook_declares_every_field():
    "train.ipynb's parameters are TrainConfig's fields (and preset, dry_run): a new field cannot be left out of papermill"
    import dataclasses, re
    from mlcstudy.config import TrainConfig
    cell = next(c for c in json.loads((Path(__file__).parent.parent / "nbs" / "train.ipynb").read_text())["cells"]
                if "parameters" in c.get("metadata", {}).get("tags", []))
    names = {m.group(1) for l in "".join(cell["source"]).splitlines() if (m := re.match(r"^(\w+)\s*:", l))}
    assert names == {f.name for f in dataclasses.fields(TrainConfig)} | {"preset", "dry_run"}

@pytest.mark.slow
def test_readme_sweep_of_a_preset_rehearsed(root, tmp_path):
    "The README's sweep of a preset's grid, through papermill to its last cell, on coco-mini at 32 px with one grid point"
    readme = (root / "README.md").read_text()
    assert "papermill sweep.ipynb out_sweep.ipynb -p preset cole-role-linear-init -p dataset /data/coco2014" in readme
    out = tmp_path / "out_sweep.ipynb"
    overrides = '{overrides: {weights: random, img_size: 32, epochs: 1, finetune_epochs: 1, lrs: [0.0001], batch_sizes: [8]}, out_dir: %s}' % (tmp_path / "runs")
    subprocess.run([sys.executable, "-m", "papermill", "sweep.ipynb", str(out), "-p", "preset", "cole-role-linear-init",
                    "-y", overrides, "--kernel", "python3", "--log-level", "WARNING"], cwd=root / "nbs", check=True, capture_output=True, text=True)
    table = (tmp_path / "runs" / "sweep.md").read_text()
    assert "role" in table and "0.0001" in table
    run = json.loads(next((tmp_path / "runs").glob("*/config.json")).read_text())["config"]
    assert (run["backbone"], run["lr"], run["batch_size"], run["finetune_lr"], run["finetune_batch_size"]) == ("resnet50.tv_in1k", 1e-3, 16, 1e-4, 8)
    assert "test_map" in json.dumps(json.loads(out.read_text())["cells"][-1]["outputs"])     # the last cell ran: the runs' table

def test_the_command_line_help_starts_without_torch():
    "`import mlcstudy` and the training command's help import neither torch nor timm, and answer in under 2 s"
    code = ("import sys, mlcstudy; from mlcstudy.train import arg_parser; arg_parser().format_help(); "
            "print(sorted(m for m in ('torch', 'torchvision', 'timm') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    import time
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "mlcstudy.train", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--preset" in r.stdout and time.perf_counter() - t0 < 2
