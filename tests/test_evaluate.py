"Evaluation: a released checkpoint and a run folder end to end on coco-mini, resumed after kill -9, split by torchrun, refused inputs."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pytest, torch
from mlcstudy.config import TrainConfig
from mlcstudy.experiment import train
from mlcstudy.evaluate import EvalConfig, evaluate
from mlcstudy.metrics import mean_average_precision, summary_metrics
from conftest import SHARED

FIXTURES = SHARED / "fixtures" / "q2l-zoo"

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    "A small finished run on coco-mini"
    return train(TrainConfig(loss="an", epochs=2, out_dir=str(tmp_path_factory.mktemp("runs")), run_name="an", progress=False),
                 log=lambda m: None)

def read(folder): return json.loads((folder / "metrics.json").read_text()), np.load(folder / "predictions.npz")

def test_a_released_checkpoint_on_coco_mini(tmp_path):
    "R101-448 with random-like weights of the official layout: the files, and metrics that equal the metrics functions' on its scores"
    if not (FIXTURES / "zoo.json").exists(): pytest.skip(f"the model-zoo fixtures are not at {FIXTURES}")
    from mlcstudy.zoo import fixture_checkpoint
    ckpt = tmp_path / "checkpoint.pkl"
    torch.save({"state_dict": fixture_checkpoint("q2l-r101-448", FIXTURES)}, ckpt)
    folder = evaluate(EvalConfig(zoo="q2l-r101-448", checkpoint=str(ckpt), dataset="coco-mini", limit=6, batch_size=3, block=4,
                                 attention=True, out_dir=str(tmp_path), progress=False), log=lambda m: None)
    m, p = read(folder)
    assert folder.name == "q2l-r101-448-coco-mini-val-first6" and p["test_scores"].shape == (6, 80) and p["attention"].shape == (6, 80, 14, 14)
    assert m["test_map"] == pytest.approx(summary_metrics(p["test_scores"], p["test_labels"], "sklearn", "skip")["mAP"])
    assert m["test_map_voc"] == pytest.approx(mean_average_precision(p["test_scores"], p["test_labels"], "voc", "skip"))
    assert m["test_CF1_top3"] == pytest.approx(summary_metrics(p["test_scores"], p["test_labels"], "sklearn", "skip")["CF1_top3"])
    stored = json.loads((folder / "config.json").read_text())
    assert stored["config"]["zoo"] == "q2l-r101-448" and len(stored["model"]) == 64 and stored["data"]["images"] == 6
    assert not list(folder.glob("checkpoint-block-*"))

def test_an_evaluation_killed_with_sigkill_resumes_to_the_same_scores(run, tmp_path):
    args = [sys.executable, "-m", "mlcstudy.evaluate", "--run", str(run), "--block", "8", "--batch_size", "2", "--out_dir", str(tmp_path),
            "--progress", "false"]
    whole = subprocess.run([*args, "--name", "whole"], capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr
    p = subprocess.Popen([*args, "--name", "killed"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not list((tmp_path / "killed").glob("checkpoint-block-00002.npz")) and time.time() < deadline and p.poll() is None: time.sleep(0.05)
    assert p.poll() is None, "the evaluation ended before it could be killed"
    os.kill(p.pid, signal.SIGKILL); p.wait()
    again = subprocess.run([*args, "--name", "killed"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 1 and "already holds a run; pass --resume true" in again.stderr
    again = subprocess.run([*args, "--name", "killed", "--resume", "true"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    (mw, pw), (mk, pk) = read(tmp_path / "whole"), read(tmp_path / "killed")
    np.testing.assert_array_equal(pw["test_scores"], pk["test_scores"])
    assert mw["test_map"] == mk["test_map"] and mk["images"] == 105

def test_resume_refuses_data_that_changed(run, tmp_path, monkeypatch):
    import mlcstudy.evaluate as E
    from mlcstudy.datasets import load_dataset
    src = load_dataset("coco-mini", "val")
    csv = tmp_path / "labels.csv"
    csv.write_text(",".join(["file_name"] + src.classes) + "\n" + "".join(",".join([p] + [str(v) for v in y]) + "\n" for p, y in zip(src.paths[:40], src.labels[:40])))
    c = EvalConfig(run=str(run), dataset=str(csv), block=16, out_dir=str(tmp_path), name="e", progress=False)
    real, calls = E.score_block, []
    def dies(*a, **k):
        if calls: raise KeyboardInterrupt                     # killed while scoring the second block
        calls.append(1); return real(*a, **k)
    monkeypatch.setattr(E, "score_block", dies)
    with pytest.raises(KeyboardInterrupt): evaluate(c, log=lambda m: None)
    monkeypatch.setattr(E, "score_block", real)
    assert [f.name for f in (tmp_path / "e").glob("checkpoint-block-*")] == ["checkpoint-block-00000.npz"]
    lines = csv.read_text().splitlines(); lines[5] = lines[5][:-1] + ("0" if lines[5].endswith("1") else "1")
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(Exception, match="the data set differs from the one this evaluation began with"):
        evaluate(EvalConfig(**{**c.__dict__, "resume": True}), log=lambda m: None)

@pytest.mark.parametrize("args,message", [
    (["--zoo", "q2l-r101-448", "--checkpoint", "nowhere.pkl", "--dataset", "coco-mini"], "checkpoint 'nowhere.pkl' is not a file"),
    (["--zoo", "q2l-r50"], "argument --zoo: invalid choice: 'q2l-r50'"),
    (["--run", "nowhere"], "run 'nowhere' is not a run folder (no metrics.json)"),
    (["--run", "x", "--batch", "4"], "unrecognized arguments: --batch"),
])
def test_the_command_line_refuses_in_one_message(args, message, tmp_path, capsys):
    from conftest import run_main
    from mlcstudy.evaluate import main
    code, err = run_main(main, [*args, "--out_dir", str(tmp_path)], capsys)
    assert code in (1, 2) and message in err and "Traceback" not in err and not any(tmp_path.iterdir())

def test_the_command_line_process_ends_with_one_line(tmp_path):
    "As a process: exit status 1, the message alone on stderr (no traceback)"
    r = subprocess.run([sys.executable, "-m", "mlcstudy.evaluate", "--run", "nowhere", "--out_dir", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.strip().splitlines() == ["error: invalid evaluation:", "  - run 'nowhere' is not a run folder (no metrics.json)"]

@pytest.mark.slow
def test_torchrun_splits_the_images_and_gives_the_same_scores(run, tmp_path):
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    args = ["-m", "mlcstudy.evaluate", "--run_dir", str(run), "--block", "16", "--out_dir", str(tmp_path), "--progress", "false"]
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29541", *args,
                    "--name", "two"], check=True, env=env, timeout=600, capture_output=True)
    subprocess.run([sys.executable, *args, "--name", "one"], check=True, env=env, timeout=600, capture_output=True)
    (m2, p2), (m1, p1) = read(tmp_path / "two"), read(tmp_path / "one")
    assert m2["world_size"] == 2 and m2["images"] == 105
    np.testing.assert_allclose(p2["test_scores"], p1["test_scores"], atol=1e-6)
    np.testing.assert_array_equal(p2["test_image_ids"], p1["test_image_ids"])

@pytest.mark.slow
def test_study_attention_and_paper_tables_read_evaluation_folders(tmp_path):
    "An evaluation with attention maps feeds study_attention.ipynb; a released checkpoint's evaluation shows in paper_tables.ipynb"
    root = Path(__file__).resolve().parents[1]
    q2l = train(TrainConfig(head="q2l", recipe="q2l", loss="asl", labels="full", epochs=2, lr=1e-3, out_dir=str(tmp_path / "runs"), run_name="q2l",
                            progress=False, head_params={"hidden_dim": 64, "dim_feedforward": 128, "nheads": 2, "dec_layers": 2}), log=lambda m: None)
    ev = evaluate(EvalConfig(run=str(q2l), attention=True, out_dir=str(tmp_path / "evals"), progress=False), log=lambda m: None)
    assert np.load(ev / "predictions.npz")["attention"].shape == (105, 80, 7, 7)
    if (FIXTURES / "zoo.json").exists():
        from mlcstudy.zoo import fixture_checkpoint
        torch.save(fixture_checkpoint("q2l-r101-448", FIXTURES), tmp_path / "r101.pth")
        evaluate(EvalConfig(zoo="q2l-r101-448", checkpoint=str(tmp_path / "r101.pth"), dataset="coco-mini", limit=4, out_dir=str(tmp_path / "evals"),
                            progress=False), log=lambda m: None)
    (tmp_path / "empty").mkdir()
    for nb, params in (("study_attention.ipynb", ["-p", "eval_dir", str(ev), "-p", "images", "0,1"]),
                       ("paper_tables.ipynb", ["-p", "runs_dir", str(tmp_path / "empty"), "-p", "evals_dir", str(tmp_path / "evals")])):
        r = subprocess.run([sys.executable, "-m", "papermill", str(root / "nbs" / nb), str(tmp_path / nb), *params, "--cwd", str(root / "nbs")],
                           capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stderr[-2000:]
    assert "attention, last decoder layer" in (tmp_path / "study_attention.ipynb").read_text()
    text = (tmp_path / "paper_tables.ipynb").read_text()
    assert "no evaluation" in text and (not (FIXTURES / "zoo.json").exists() or "q2l-r101-448-coco-mini-val-first4 (not Table I" in text)
