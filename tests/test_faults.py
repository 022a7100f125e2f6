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
    before = {p.name: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with pytest.raises(RunFolderError, match="already holds a finished run; pass resume=True to continue it, overwrite=True"):
        quiet(small(tmp_path, run_name="r", lr=1e-2))
    assert {p.name: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before

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
def test_booleans_parse_strictly(value, capsys):
    from conftest import run_main
    from mlcstudy.train import main
    with pytest.raises(ValueError, match=f"resume: expected true/false, 1/0 or yes/no, got '{value}'"): config_from_params(resume=value)
    code, err = run_main(main, ["--resume", value], capsys)
    assert code == 2 and "argument --resume: expected true/false" in err

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
    ({"img_size": 7}, "img_size must be at least 32 for tf_efficientnet_lite0"),
    ({"lr": float("inf")}, "lr must be a finite positive number, got inf"),
    ({"workers": -1}, "workers must be >= 0, got -1"),
    ({"weight_decay": -1}, "weight_decay must be a finite number >= 0, got -1"),
    ({"protocol": "linear_init", "finetune_lr": -1}, "finetune_lr must be a finite positive number, got -1"),
    ({"protocol": "linear_init", "finetune_epochs": 0}, "finetune_epochs must be at least 1 for linear_init"),
    ({"dataset_params": {"foo": 1}}, "dataset_params: the reader of dataset 'coco-mini' takes no option 'foo'; its options are image_dir, check_files"),
    ({"label_seed": -1}, "label_seed must be in 0 .. 4294967294, got -1"),
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

def test_a_diverging_run_stops_names_its_learning_rate_and_is_recorded(tmp_path):
    logs = []
    with pytest.warns(UserWarning, match="the run is stuck or diverging"), \
         pytest.raises(TrainingError, match=r"the run stopped after epoch 4 .*lower its learning rates \(lr 1e\+06\).*allow_divergence=True"):
        train(small(tmp_path, run_name="r", lr=1e6, epochs=6), log=logs.append)
    assert any("val mAP has stayed at exactly" in l for l in logs)
    m = metrics(tmp_path / "r")
    assert not m["finished"] and "stuck or diverging" in m["warnings"][0] and len(m["history"]["linear"]) == 4
    m = metrics(quiet(small(tmp_path, run_name="r", lr=1e6, epochs=6, resume=True, allow_divergence=True)))   # allowed: to its end
    assert m["finished"] and len(m["history"]["linear"]) == 6 and "stuck or diverging" in m["warnings"][0]
    r = subprocess.run([sys.executable, "-m", "mlcstudy.train", "--lr", "1e6", "--epochs", "6", "--loss", "an", "--progress", "false",
                        "--out_dir", str(tmp_path), "--run_name", "cli"], capture_output=True, text=True)
    assert r.returncode == 1 and "lower its learning rates (lr 1e+06)" in r.stderr and "Traceback" not in r.stderr
    healthy = []
    train(small(tmp_path, run_name="ok", epochs=6), log=healthy.append)
    assert not any("stuck" in l for l in healthy) and metrics(tmp_path / "ok")["warnings"] == []

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
    assert r.stderr.strip().splitlines() == ["error: invalid training configuration:", "  - epochs must be at least 1, got 0"]
    r = subprocess.run([sys.executable, "-m", "mlcstudy.train", "--epochs", "0", "--debug"], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" in r.stderr

def test_help_describes_every_option(capsys):
    from mlcstudy.train import main
    with pytest.raises(SystemExit) as e: main(["--help"])
    assert e.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "continue an interrupted run in the same folder (same configuration) (default: False)" in text
    assert "{an,an_ls,asl," in text and "(default: tf_efficientnet_lite0)" in text

@pytest.mark.slow
def test_papermill_reports_a_bad_parameter_in_one_line(root, tmp_path):
    r = subprocess.run([sys.executable, "-m", "papermill", "train.ipynb", str(tmp_path / "o.ipynb"), "-p", "epochs", "abc",
                        "--kernel", "python3"], cwd=root / "nbs", capture_output=True, text=True)
    assert r.returncode != 0 and "epochs: expected an integer, got 'abc'" in r.stderr
    cell_error = r.stderr.split("Exception encountered at")[1].strip().splitlines()
    assert len(cell_error) == 3 and cell_error[1].startswith("ValueError: invalid parameters:")     # the cell's error, no traceback

@pytest.mark.parametrize("args,message", [
    (["--img_size", "7"], "img_size must be at least 32 for tf_efficientnet_lite0 (its stride: a smaller image has no feature map), got 7"),
    (["--label_seed", "-1"], "label_seed must be in 0 .. 4294967294, got -1"),
    (["--dataset_params", '{"foo": 1}'], "takes no option 'foo'; its options are image_dir, check_files"),
])
def test_the_command_line_names_the_field_before_any_folder(tmp_path, args, message, capsys):
    from conftest import run_main
    from mlcstudy.train import main
    code, err = run_main(main, [*args, "--out_dir", str(tmp_path)], capsys)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 2 and not any(tmp_path.iterdir())

@pytest.mark.slow
@pytest.mark.parametrize("params,messages", [
    (["-p", "val_fraction", "0.1"], ["unknown parameter val_fraction: this notebook takes preset, dry_run, dataset,"]),
    (["-p", "val_frac", "1.5", "-p", "label_seed", "-1", "-p", "img_size", "7"],      # one run lists every problem
     ["val_frac must be in (0, 1) (select_on='val' chooses the epoch on them; val_frac=0 needs select_on='test'), got 1.5",
      "label_seed must be in 0 .. 4294967294, got -1", "img_size must be at least 32"]),
])
def test_papermill_refuses_parameters_before_any_work(root, tmp_path, params, messages):
    r = subprocess.run([sys.executable, "-m", "papermill", "train.ipynb", str(tmp_path / "o.ipynb"), *params, "-p", "out_dir",
                        str(tmp_path / "runs"), "--kernel", "python3"], cwd=root / "nbs", capture_output=True, text=True)
    assert r.returncode != 0 and all(m in r.stderr for m in messages) and not (tmp_path / "runs").exists()

# the data and the files of a run

def test_labels_edited_before_a_resume_are_refused_naming_the_file(tmp_path):
    csv = _csv_set(tmp_path / "set", lambda d: None)
    run = quiet(small(tmp_path / "runs", dataset=str(csv), run_name="r", epochs=1))
    before = {p.name: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    csv.write_text(csv.read_text().replace("\n", "\n", 1))              # touched, same content: resumes
    quiet(small(tmp_path / "runs", dataset=str(csv), run_name="r", epochs=1, resume=True))
    lines = csv.read_text().splitlines()
    lines[8] = lines[8][:-1] + ("0" if lines[8].endswith("1") else "1")    # one label of data row 8 changed
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(RunFolderError, match=r"the data set changed since the run began \(changed files: labels.csv; 1 \w+ labels differ"):
        quiet(small(tmp_path / "runs", dataset=str(csv), run_name="r", epochs=2, resume=True))
    assert {p.name: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before

def test_a_feature_cache_in_another_order_is_extracted_again(tmp_path, monkeypatch):
    monkeypatch.setenv("MLCSTUDY_CACHE", str(tmp_path / "cache"))
    first = metrics(quiet(small(tmp_path, run_name="a", img_size=64)))
    for npy in (tmp_path / "cache" / "features").glob("*.npy"): np.save(npy, np.load(npy)[::-1])
    with pytest.warns(UserWarning, match=r"feature cache .*\.npy: its content is not the one written \(rows reordered"):
        again = metrics(quiet(small(tmp_path, run_name="b", img_size=64)))
    assert again["test_map"] == first["test_map"]

def test_a_finished_run_with_a_missing_file_recomputes_it_or_refuses(tmp_path):
    run = quiet(small(tmp_path, run_name="r"))
    first = metrics(run)
    assert set(first["artifacts"]) == {"predictions.npz", "data.npz", "checkpoint-linear.pt"}
    (run / "predictions.npz").unlink()
    with pytest.warns(UserWarning, match="predictions.npz is missing: recomputing predictions.npz and metrics.json from its checkpoint"):
        m = metrics(quiet(small(tmp_path, run_name="r", resume=True)))
    assert m["test_map"] == first["test_map"] and m["artifacts"]["predictions.npz"] == first["artifacts"]["predictions.npz"]
    (run / "checkpoint-linear.pt").write_bytes(b"")
    with pytest.raises(RunFolderError, match=r"checkpoint-linear.pt differs from the file the run wrote \(0 bytes.*pass overwrite=True"):
        quiet(small(tmp_path, run_name="r", resume=True))

@pytest.mark.parametrize("file,content,message", [
    ("config.json", '{"config": {"lr": 0.0', r"config.json cannot be read \(JSONDecodeError"),
    ("config.json", '{"settings": {}}', "config.json has no 'config' object"),
    ("metrics.json", '{"finished": tr', r"metrics.json cannot be read \(JSONDecodeError.*delete it and pass resume=True to recompute"),
    ("checkpoint-linear.pt", b"PK\x03\x04 cut", r"checkpoint-linear.pt cannot be read as a checkpoint .*delete it to train that phase again"),
    ("checkpoint-linear.pt", b"", r"checkpoint-linear.pt cannot be read as a checkpoint"),
])
def test_a_run_file_that_cannot_be_read_is_named_with_the_remedy(tmp_path, file, content, message):
    run = quiet(small(tmp_path, run_name="r", epochs=1))
    if file.endswith(".pt"): (run / "metrics.json").unlink()            # an interrupted run: resuming reads the checkpoint
    (run / file).write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(RunFolderError, match=message): quiet(small(tmp_path, run_name="r", epochs=2, resume=True))

def test_a_forged_image_header_is_refused_before_any_work(tmp_path, no_work):
    def forge(d):
        b = bytearray((d / "4.jpg").read_bytes())
        sof = next(i for i in range(2, len(b) - 1) if b[i] == 0xFF and b[i + 1] in (0xC0, 0xC1, 0xC2))
        b[sof + 5:sof + 9] = (10000).to_bytes(2, "big") * 2
        (d / "4.jpg").write_bytes(bytes(b))
    csv = _csv_set(tmp_path / "set", forge)
    with pytest.raises(DataError, match=r"4.jpg: 10000x10000 pixels, over the limit of 67,108,864"):
        quiet(small(tmp_path / "runs", dataset=str(csv), run_name="r"))
    assert not (tmp_path / "runs" / "r").exists()

def test_a_csv_value_is_reported_at_its_row(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.jpg")
    rows = [f"a{i}.jpg,{i % 2}" for i in range(10)]; rows[7] = "a7.jpg,yes"
    for i in range(10): (tmp_path / f"a{i}.jpg").write_bytes((tmp_path / "a.jpg").read_bytes())
    (tmp_path / "l.csv").write_text("file_name,car\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match="column 'car' must hold 0 or 1, got 'yes' on data row 8"): load_csv(tmp_path / "l.csv")

def test_a_full_disk_while_locking_names_the_folder_and_leaves_no_lock(tmp_path, monkeypatch):
    import errno, os
    def full(*a): raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "link", full)
    with pytest.raises(RunFolderError, match=rf"cannot lock {tmp_path}/r: the disk is full \([\d,]+ MB free there\)"):
        quiet(small(tmp_path, run_name="r"))
    assert not (tmp_path / "r" / ".lock").exists() and not list((tmp_path / "r").iterdir())

@pytest.mark.parametrize("content", ["", "garbage", '{"host": "x"}'])
def test_an_unreadable_lock_is_refused_unless_overwrite(tmp_path, content):
    (tmp_path / "r").mkdir(); (tmp_path / "r" / ".lock").write_text(content)
    with pytest.raises(RunFolderError, match=rf"{tmp_path}/r/.lock cannot be read as a lock .* pass overwrite=True"):
        quiet(small(tmp_path, run_name="r"))
    with pytest.warns(UserWarning, match="taking over an unreadable lock file"):
        assert metrics(quiet(small(tmp_path, run_name="r", overwrite=True)))["finished"]

# the command line's words

def test_a_prefix_of_an_option_is_refused(capsys):
    from conftest import run_main
    from mlcstudy.train import main
    code, err = run_main(main, ["--epoch", "2", "--dry_run"], capsys)
    assert code == 2 and "unrecognized arguments: --epoch 2" in err

def test_a_refused_second_run_speaks_the_command_line_s_options(tmp_path, capsys):
    from conftest import run_main
    from mlcstudy.train import main
    args = ["--epochs", "1", "--out_dir", str(tmp_path), "--run_name", "r", "--progress", "false"]
    assert run_main(main, args, capsys)[0] == 0
    code, err = run_main(main, args, capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "pass --resume true to continue it, --overwrite true to start it again, or another run_name or out_dir" in err

def test_a_preset_that_needs_its_data_set_says_so_before_any_work(tmp_path, capsys):
    from conftest import run_main
    from mlcstudy.train import main
    code, err = run_main(main, ["--preset", "cole-voc2012-an", "--dry_run"], capsys)
    assert code == 1 and err.strip() == ("error: preset cole-voc2012-an trains on Pascal VOC 2012 (the folder that holds "
                                         "VOCdevkit/VOC2012): give it with --dataset PATH")

def test_ctrl_c_ends_in_one_line_that_says_how_to_go_on(tmp_path, monkeypatch, capsys):
    import mlcstudy.experiment as E
    from conftest import run_main
    from mlcstudy.train import main
    def interrupted(cfg, log=None): raise KeyboardInterrupt
    monkeypatch.setattr(E, "train", interrupted)
    code, err = run_main(main, ["--epochs", "1", "--out_dir", str(tmp_path), "--run_name", "r"], capsys)
    assert code == 130 and err.strip() == (f"interrupted: {tmp_path / 'r'} keeps every finished epoch; the same command "
                                           "with --resume true continues it")
