"Faults a user meets: each is refused before any work with a message that names what is wrong, or survived with nothing lost."
import json, socket, subprocess, sys
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image
import mlcstudy.experiment as E
from mlcstudy.config import TrainConfig, config_from_params
from mlcstudy.data import DataError, load_csv
from mlcstudy.experiment import train
from mlcstudy.loop import TrainingError
from mlcstudy.runs import RunFolderError, atomic_save

def small(tmp_path, **kw): return TrainConfig(**({"out_dir": str(tmp_path), "epochs": 2, "progress": False, "loss": "an"} | kw))
def quiet(cfg): return train(cfg, log=lambda m: None)
def metrics(run): return json.loads((Path(run) / "metrics.json").read_text())

# run folders bound to their configuration

def test_a_second_run_into_a_finished_folder_is_refused_and_changes_nothing(tmp_path):
    run = quiet(small(tmp_path, run_name="r"))
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with pytest.raises(RunFolderError, match="already holds a finished run; pass resume=True to continue it, overwrite=True"):
        quiet(small(tmp_path, run_name="r", lr=1e-2))
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before

def test_resume_with_another_configuration_names_each_field(tmp_path):
    quiet(small(tmp_path, run_name="r"))
    with pytest.raises(RunFolderError, match=r"cannot change lr \(0.001 there, 0.01 asked\), batch_size \(16 there, 8 asked\)"):
        quiet(small(tmp_path, run_name="r", lr=1e-2, batch_size=8, resume=True))
    with pytest.raises(RunFolderError, match=r"cannot change loss \('an' there, 'role' asked\)"):
        quiet(small(tmp_path, run_name="r", loss="role", resume=True))
    assert json.loads((tmp_path / "r" / "config.json").read_text())["config"]["lr"] == 1e-3       # not rewritten

def test_a_linear_run_resumed_with_more_epochs_goes_on(tmp_path):
    quiet(small(tmp_path, run_name="r"))
    m = metrics(quiet(small(tmp_path, run_name="r", epochs=3, resume=True)))
    assert len(m["history"]["linear"]) == 3 and m["finished"]

def test_overwrite_starts_again_without_the_old_runs_files(tmp_path):
    run = quiet(small(tmp_path, run_name="r"))
    (run / "checkpoint-finetune.pt").write_bytes(b"old"); (run / "notes.txt").write_text("mine")
    m = metrics(quiet(small(tmp_path, run_name="r", lr=1e-2, overwrite=True)))
    assert not (run / "checkpoint-finetune.pt").exists() and (run / "notes.txt").exists()        # a run's files go, others stay
    assert json.loads((run / "config.json").read_text())["config"]["lr"] == 1e-2 and m["finished"]

def test_a_second_writer_is_kept_out_and_a_stale_lock_is_taken_over(tmp_path):
    run = tmp_path / "r"; run.mkdir()
    (run / ".lock").write_text(json.dumps({"pid": 1, "host": socket.gethostname()}))     # pid 1 is alive
    with pytest.raises(RunFolderError, match="is in use by process 1"): quiet(small(tmp_path, run_name="r"))
    assert not (run / "config.json").exists()
    (run / ".lock").write_text(json.dumps({"pid": 2 ** 22 + 7, "host": socket.gethostname()}))
    with pytest.warns(UserWarning, match="which is gone"): quiet(small(tmp_path, run_name="r"))
    assert not (run / ".lock").exists() and metrics(run)["finished"]

def test_orphan_temporary_files_are_removed(tmp_path):
    run = quiet(small(tmp_path, run_name="r", epochs=1))
    (run / ".checkpoint-linear.pt.abc.tmp").write_bytes(b"half")
    quiet(small(tmp_path, run_name="r", epochs=2, resume=True))
    assert not list(run.glob("*.tmp")) and not list(run.glob(".*.tmp"))

@pytest.mark.parametrize("value", ["treu", "on", "y"])
def test_booleans_parse_strictly(value):
    with pytest.raises(ValueError, match=f"resume: expected true/false, 1/0 or yes/no, got '{value}'"): config_from_params(resume=value)
    r = subprocess.run([sys.executable, "-m", "mlcstudy.train", "--resume", value], capture_output=True, text=True)
    assert r.returncode == 2 and "argument --resume: expected true/false" in r.stderr

# bad input found before any work

@pytest.fixture
def no_work(monkeypatch):
    "Fails the test if feature extraction (the first work of a run) starts"
    monkeypatch.setattr(E, "features", lambda *a, **k: pytest.fail("features were extracted before the input was refused"))

def _csv_set(tmp_path, make_bad):
    "A CSV data set of 60 coco-mini images, with some images broken by `make_bad`"
    from mlcstudy.datasets import load_dataset
    src = load_dataset("coco-mini", "val")
    (tmp_path / "images").mkdir(parents=True)
    rows = []
    for i in range(60):
        f = tmp_path / "images" / f"{i}.jpg"; f.write_bytes(Path(src.paths[i]).read_bytes())
        rows.append(",".join([f.name] + [str(v) for v in src.labels[i]]))
    make_bad(tmp_path / "images")
    (tmp_path / "labels.csv").write_text(",".join(["file_name"] + list(src.classes)) + "\n" + "\n".join(rows) + "\n")
    return tmp_path / "labels.csv"

def test_corrupt_images_are_all_reported_before_any_work(tmp_path, no_work):
    def breaks(d):
        (d / "3.jpg").write_bytes(b""); (d / "5.jpg").write_text("not an image")
        (d / "7.jpg").write_bytes((d / "7.jpg").read_bytes()[:3000])
    csv = _csv_set(tmp_path / "set", breaks)
    with pytest.raises(DataError) as e: quiet(small(tmp_path / "runs", dataset=str(csv), run_name="r"))
    msg = str(e.value)
    assert "3 of 60 images cannot be used" in msg and all(f"{i}.jpg" in msg for i in (3, 5, 7)) and "truncated JPEG" in msg
    assert not (tmp_path / "runs" / "r").exists()

def test_a_16_bit_png_keeps_its_content(tmp_path):
    from mlcstudy.data import read_image
    Image.fromarray((np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)).save(tmp_path / "g.png")
    assert (np.asarray(read_image(tmp_path / "g.png"))[..., 0].ravel() == np.arange(256)).all()

def test_duplicate_file_names_are_refused(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.jpg")
    (tmp_path / "l.csv").write_text("file_name,cat\na.jpg,1\na.jpg,0\n")
    with pytest.raises(DataError, match=r"a.jpg \(data rows 1, 2\)"): load_csv(tmp_path / "l.csv")

def test_a_tiny_data_set_warns_that_its_map_says_little(tmp_path):
    csv = _csv_set(tmp_path / "set", lambda d: None)
    with pytest.warns(UserWarning, match=r"has \d+ images: its mAP says little"):
        quiet(small(tmp_path / "runs", dataset=str(csv), run_name="r", epochs=1))

@pytest.mark.parametrize("kw,message", [
    ({"loss_params": {"lss": 0.2}, "loss": "an_ls"}, "unknown hyperparameters ['lss']"),
    ({"loss_params": {"ls": 5}, "loss": "an_ls"}, "an_ls: ls must be a number in [0, 1], got 5"),
    ({"loss_params": {"gamma_neg": -4}, "loss": "asl"}, "asl: gamma_neg must be a number in [0, 100], got -4"),
    ({"loss": "em_apl", "epochs": 4}, "em_apl: epochs (4) must exceed warmup (5)"),
    ({"head": "q2l", "head_params": {"hidden": 64}}, "head_params: q2l takes hidden_dim"),
    ({"device": "cdua"}, "device 'cdua' is not a torch device"),
    ({"device": "cuda"}, "no CUDA GPU is visible"),
])
def test_parameters_are_refused_before_the_folder_exists(tmp_path, kw, message):
    if kw.get("device") == "cuda" and torch.cuda.is_available(): pytest.skip("a GPU is visible")
    with pytest.raises(ValueError) as e: quiet(small(tmp_path, run_name="r", **kw))
    assert message in str(e.value) and not (tmp_path / "r").exists()

def test_a_head_that_cannot_be_built_fails_before_extraction(tmp_path, no_work):
    with pytest.raises(ValueError, match="hidden_dim 30 is not divisible by nheads 4"):
        quiet(small(tmp_path, run_name="r", head="q2l", head_params={"hidden_dim": 30, "nheads": 4}))
    assert not (tmp_path / "r").exists()

# divergence and disks

def test_nan_in_the_first_epoch_says_there_is_no_checkpoint(tmp_path, monkeypatch):
    real = E.get_loss
    def nan_loss(*a, **kw):
        loss = real(*a, **kw); vg = loss.value_and_grad
        loss.value_and_grad = lambda *x: (vg(*x)[0] * float("nan"), vg(*x)[1])
        return loss
    monkeypatch.setattr(E, "get_loss", nan_loss)
    with pytest.raises(TrainingError, match="loss is nan at epoch 1, step 1; there is no checkpoint yet"):
        quiet(small(tmp_path, run_name="r"))

def test_non_finite_validation_scores_name_the_split_and_epoch(tmp_path, monkeypatch):
    from mlcstudy.loop import FeatureSource
    real = FeatureSource.predict
    monkeypatch.setattr(FeatureSource, "predict", lambda self, m, split, **k: real(self, m, split) * (np.inf if split == "val" else 1))
    with pytest.raises(TrainingError, match=r"\[linear\] the model's validation scores after epoch 1: \d+ of 69 images have non-finite scores \(NaN or inf\); there is no checkpoint yet"):
        quiet(small(tmp_path, run_name="r"))

def test_inf_in_the_features_is_refused(tmp_path, monkeypatch):
    real = E.extract_features
    def broken(backbone, data, *a, **k):
        f = real(backbone, data, *a, **k).copy(); f[2, 0] = np.inf
        return f
    monkeypatch.setattr(E, "extract_features", broken)
    with pytest.raises(DataError, match="the train features of tf_efficientnet_lite0 are not finite"): quiet(small(tmp_path, run_name="r"))

def test_a_diverging_run_says_so(tmp_path):
    logs = []
    with pytest.warns(UserWarning, match="the run is stuck or diverging"):
        train(small(tmp_path, run_name="r", lr=1e6, epochs=6), log=logs.append)
    assert any("val mAP has stayed at exactly" in l for l in logs)
    healthy = []
    train(small(tmp_path, run_name="ok", epochs=6), log=healthy.append)
    assert not any("stuck" in l for l in healthy)

def test_a_full_disk_names_the_file_and_the_free_space(tmp_path, monkeypatch):
    def full(obj, f): f.write(b"xx"); raise RuntimeError("[enforce fail at inline_container.cc:672] unexpected pos 128 vs 0")
    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(OSError, match=r"cannot write .*checkpoint-linear.pt: the disk is full \([\d,]+ MB free there"):
        quiet(small(tmp_path, run_name="r"))
    with pytest.raises(OSError, match="cannot write .*x.npy: the disk is full"):
        atomic_save(tmp_path / "x.npy", lambda f: (_ for _ in ()).throw(OSError("350720 requested and 25568 written")))

# one clear message

def test_the_command_line_ends_with_one_message(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mlcstudy.train", "--epochs", "0", "--out_dir", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == ["error: invalid training configuration:", "  - epochs must be positive, got 0"]
    r = subprocess.run([sys.executable, "-m", "mlcstudy.train", "--epochs", "0", "--debug"], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" in r.stderr

def test_help_describes_every_option():
    r = subprocess.run([sys.executable, "-m", "mlcstudy.train", "--help"], capture_output=True, text=True, check=True)
    text = " ".join(r.stdout.split())
    assert "continue an interrupted run in the same folder (same configuration) (default: False)" in text
    assert "{an,an_ls,asl," in text and "(default: tf_efficientnet_lite0)" in text

@pytest.mark.slow
def test_papermill_reports_a_bad_parameter_in_one_line(root, tmp_path):
    r = subprocess.run([sys.executable, "-m", "papermill", "train.ipynb", str(tmp_path / "o.ipynb"), "-p", "epochs", "abc",
                        "--kernel", "python3"], cwd=root / "nbs", capture_output=True, text=True)
    assert r.returncode != 0 and "epochs: expected an integer, got 'abc'" in r.stderr
    cell_error = r.stderr.split("Exception encountered at")[1].strip().splitlines()
    assert len(cell_error) == 3 and cell_error[1].startswith("ValueError: invalid parameters:")     # the cell's error, no traceback
