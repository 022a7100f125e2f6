"Runs: determinism, resume after a kill, atomic files, NaN stop, protocols."
import dataclasses, json, tempfile
from pathlib import Path
import numpy as np, pytest, torch
import mlcstudy.experiment as E
import mlcstudy.fast_linear as FL
from mlcstudy.config import TrainConfig
from mlcstudy.experiment import train, train_grid
from mlcstudy.loop import FeatureSource, ImageSource, TrainingError, new_run, fit
from mlcstudy.run_data import prepare_data
from mlcstudy.losses import get_loss
from mlcstudy.runs import atomic_save, run_folder
from mlcstudy.sweeps import sweep
from conftest import cxx_available

def metrics(run): return json.loads((Path(run) / "metrics.json").read_text())

def events(folder) -> dict:
    "Every scalar of the TensorBoard event files in `folder`, read back with tensorboard's own reader: {tag: [(step, value)]}"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0}); acc.Reload()
    return {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}

def small(tmp_path, **kw):
    return TrainConfig(**({"out_dir": str(tmp_path), "epochs": 4, "progress": False} | kw))

def test_same_seed_same_metrics_other_seed_differs(tmp_path):
    a = metrics(train(small(tmp_path, run_name="a")))
    b = metrics(train(small(tmp_path, run_name="b")))
    c = metrics(train(small(tmp_path, run_name="c", seed=1)))
    curve = lambda m: [(h["train_loss"], h["val_map"]) for h in m["history"]["linear"]]   # seconds differ, the rest must not
    assert curve(a) == curve(b) and a["test_map"] == b["test_map"]
    assert curve(a) != curve(c) and a["test_map"] != c["test_map"]

def test_resume_after_a_kill_gives_the_same_result(tmp_path):
    full = metrics(train(small(tmp_path, run_name="full")))
    class Killed(Exception): pass
    def kill_after_first_epoch(msg):
        if "epoch 1/" in msg: raise Killed(msg)
    with pytest.raises(Killed): train(small(tmp_path, run_name="killed"), log=kill_after_first_epoch)
    run = tmp_path / "killed"
    assert (run / "checkpoint-linear.pt").exists() and not (run / "metrics.json").exists()
    logs = []
    resumed = metrics(train(small(tmp_path, run_name="killed", resume=True), log=logs.append))
    assert any("resumed after epoch 1" in l for l in logs)
    assert resumed["test_map"] == full["test_map"] and resumed["selected_epoch"] == full["selected_epoch"]
    assert [h["val_map"] for h in resumed["history"]["linear"]] == [h["val_map"] for h in full["history"]["linear"]]
    # TensorBoard: each step once across the kill, the values of metrics.json, the test metrics and the hparams
    ev = events(run / "tensorboard" / "linear")
    steps = [s for s, _ in ev["linear/loss"]]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) % 4 == 0
    per_epoch = len(steps) // 4
    assert [s for s, _ in ev["linear/val_mAP"]] == [per_epoch * e for e in (1, 2, 3, 4)]
    assert np.allclose([v for _, v in ev["linear/val_mAP"]], [h["val_map"] for h in resumed["history"]["linear"]], rtol=1e-6)
    assert np.allclose([v for _, v in ev["linear/train_loss"]], [h["train_loss"] for h in resumed["history"]["linear"]], rtol=1e-6)
    assert np.allclose(np.mean([v for _, v in ev["linear/loss"][:per_epoch]]), full["history"]["linear"][0]["train_loss"], rtol=1e-3)
    assert [v for _, v in ev["linear/lr"]] == pytest.approx([1e-3] * 4)
    test = events(run / "tensorboard" / "test")
    assert test["test/map"][0][1] == pytest.approx(resumed["test_map"]) and test["test/map_voc"][0][1] == pytest.approx(resumed["test_map_voc"])
    assert test["hparam/test_map"][0][1] == pytest.approx(resumed["test_map"])

def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "metrics.json"; target.write_text('{"old": true}')
    def broken(f):
        f.write(b'{"new": '); raise OSError("disk full")
    with pytest.raises(OSError): atomic_save(target, broken)
    assert json.loads(target.read_text()) == {"old": True} and [p.name for p in tmp_path.iterdir()] == ["metrics.json"]

def test_nan_loss_stops_with_epoch_and_step(tmp_path, monkeypatch):
    real = E.get_loss
    def nan_later(*a, **kw):
        loss = real(*a, **kw); calls = {"n": 0}; compute, value_and_grad = loss.compute, loss.value_and_grad
        def patched(logits, obs, idx):                 # the autograd step
            calls["n"] += 1
            v = compute(logits, obs, idx)
            return v * float("nan") if calls["n"] == 20 else v
        def patched_vg(logits, obs, idx):              # the linear protocol's written-out step
            calls["n"] += 1
            v, g = value_and_grad(logits, obs, idx)
            return (v * float("nan"), g) if calls["n"] == 20 else (v, g)
        loss.compute, loss.value_and_grad = patched, patched_vg
        return loss
    monkeypatch.setattr(E, "get_loss", nan_later)
    # 274 training images, 18 batches per epoch: call 20 is epoch 2, step 2
    with pytest.raises(TrainingError, match="loss is nan at epoch 2, step 2; the last good checkpoint is .*checkpoint-linear.pt \\(epoch 1\\)"):
        train(small(tmp_path, run_name="nan"))
    ck = torch.load(tmp_path / "nan" / "checkpoint-linear.pt", weights_only=False)
    assert ck["state"]["epoch"] == 1

@pytest.mark.parametrize("loss,compiled", [("an", False), ("role", False), ("em", False), ("ll_r", False),
                                           pytest.param("role", True, marks=pytest.mark.slow)])
def test_linear_step_equals_the_autograd_step(loss, compiled):
    "The written-out linear step (closed-form or autograd loss gradient, fused Adam kernel; compiled) trains as the autograd step"
    if compiled and not cxx_available(): pytest.skip("no C++ compiler for torch.compile")
    g = np.random.default_rng(0)
    y = (g.random((300, 12)) < 0.2).astype(np.uint8); y[np.arange(300), g.integers(0, 12, 300)] = 1
    x = (y @ g.standard_normal((12, 32)) + g.standard_normal((300, 32))).astype(np.float32)
    from mlcstudy.labels import observe_single_positive
    from mlcstudy.heads import LinearHead
    obs = observe_single_positive(y[:200])
    runs = {}
    for fast, compile_step in ((False, "off"), (True, "on" if compiled else "off")):
        cfg = TrainConfig(batch_size=16, epochs=3, lr=1e-2, progress=False, loss=loss, compile_step=compile_step)
        src = FeatureSource({"train": x[:200], "val": x[200:]}, obs, 16, 0, torch.device("cpu"))
        torch.manual_seed(0); head = LinearHead(32, 12); lf = get_loss(loss, obs)
        run = new_run(cfg, head, lf, 1e-2, src.n_batches(), 3, Path(tempfile.mkdtemp()) / "checkpoint-linear.pt")
        step = FL.make_step(run, compile_step, fast=fast)
        assert isinstance(step, FL.LinearStep) == fast
        fit(step, src, y[200:], cfg, 3, "linear", log=lambda m: None)
        st = run.state
        runs[fast, compile_step] = (head.fc.weight.detach().clone(), [h["val_map"] for h in st["history"]], [h["train_loss"] for h in st["history"]])
        if compile_step == "on": assert lf.compiled_ran()                    # compiled, not fallen back to eager
    ref = runs[False, "off"]
    for key, run in runs.items():
        torch.testing.assert_close(run[0], ref[0], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(run[1], ref[1], atol=1e-3)
        np.testing.assert_allclose(run[2], ref[2], rtol=1e-5)
    torch.manual_seed(0)
    assert (ref[0] - LinearHead(32, 12).fc.weight).abs().max() > 1e-2          # it trained away from the same init

@pytest.mark.parametrize("classes", [12, 13])
def test_linear_step_logits_are_the_heads_output(classes):
    "The forward product split by rows across 2 threads (12 classes) or whole (13 classes) gives nn.Linear's logits"
    from mlcstudy.heads import LinearHead
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch.manual_seed(0); head = LinearHead(32, classes)
        step = FL.LinearStep(new_run(TrainConfig(loss="an"), head, get_loss("an"), 1e-3, 1, 1, "c.pt"))
    finally: torch.set_num_threads(threads)
    assert step.parts == (2 if classes == 12 else 1)
    x = torch.randn(16, 32)
    torch.testing.assert_close(step.logits(x), head(x), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(step.logits(x[:1]), head(x[:1]), rtol=1e-5, atol=1e-6)      # an epoch's last batch of one

def test_feature_batches_gathered_by_chunks_are_the_rows_of_their_index():
    "Batches cut from chunks (here 3 batches per chunk) hold the features and labels of their rows, each row once"
    g = np.random.default_rng(0)
    feats, obs = g.standard_normal((50, 8)).astype(np.float32), (g.random((50, 4)) < 0.3).astype(np.int64)
    src = FeatureSource({"train": feats}, obs, 4, 0, torch.device("cpu"), chunk_bytes=3 * 4 * 8 * 4)
    assert src.chunk == 3
    batches = list(src.batches(1))
    assert [len(b[2]) for b in batches] == [4] * 12 + [2]
    for x, z, idx in batches:
        np.testing.assert_array_equal(x.numpy(), feats[idx.numpy()]); np.testing.assert_array_equal(z.numpy(), obs[idx.numpy()])
    assert sorted(torch.cat([b[2] for b in batches]).tolist()) == list(range(50))

def test_flush_denormals_on_every_thread():
    """Inside `flush_denormals` a parallel kernel (2 threads) flushes denormal floats on both threads, outside it keeps
    them (PyTorch's default). torch.set_flush_denormal alone reaches the calling thread only."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        tiny, half = torch.full((1 << 22,), 1e-39), torch.full((1 << 22,), 0.5)       # large enough to run on 2 threads
        with FL.flush_denormals(): inside = torch.mul(tiny, half)
        outside = torch.mul(tiny, half)
    finally: torch.set_num_threads(threads)
    assert (outside > 0).all()
    if FL._omp_flush_denormal(False): assert (inside == 0).all()      # Linux on x86-64 with PyTorch's libgomp
    else: assert (inside == 0).any()                                  # the calling thread's share at least

def test_linear_protocol_uses_the_linear_step(tmp_path, monkeypatch):
    calls = []
    real = FL.LinearStep.update
    monkeypatch.setattr(FL.LinearStep, "update", lambda self: (calls.append(1), real(self)))
    train(small(tmp_path, run_name="fast", epochs=1))
    assert len(calls) == 18                                                       # 274 training images, batch size 16

def test_val_labels_and_full_labels(tmp_path):
    obs = metrics(train(small(tmp_path, run_name="obs", val_labels="observed", loss="an")))
    full = metrics(train(small(tmp_path, run_name="bce", labels="full", loss="bce")))
    assert 0 < obs["best_val_map"] <= 100 and full["test_map"] > 0
    with pytest.raises(ValueError, match="set labels='full'"): train(small(tmp_path, loss="bce"))

def test_report_on_another_data_set(tmp_path, coco2k):
    m = metrics(train(small(tmp_path, run_name="x", test_dataset=str(coco2k), epochs=2, img_size=64)))
    preds = np.load(tmp_path / "x" / "predictions.npz")
    assert preds["test_scores"].shape == (1907, 80) and m["finished"]

def test_finetune_and_linear_init_hand_off(tmp_path, monkeypatch, few_images):
    "End to end on a few images; linear_init starts fine-tuning from the linear head and ROLE's estimates"
    seen = {}
    real_fit = E.fit
    def spy(step, source, *a, **kw):
        model, loss_fn = step.runs[0].model, step.runs[0].loss_fn
        est = lambda: loss_fn.estimates().copy() if hasattr(loss_fn, "estimates") else None
        if isinstance(source, ImageSource): seen["start_head"], seen["start_est"] = model.head.fc.weight.detach().clone(), est()
        out = real_fit(step, source, *a, **kw)
        if isinstance(source, FeatureSource): seen["linear_head"], seen["linear_est"] = model.fc.weight.detach().clone(), est()
        return out
    monkeypatch.setattr(E, "fit", spy)
    run = train(small(tmp_path, run_name="li", protocol="linear_init", epochs=2, finetune_epochs=1, img_size=64, batch_size=8))
    m = metrics(run)
    assert len(m["history"]["linear"]) == 2 and len(m["history"]["finetune"]) == 1
    assert torch.equal(seen["start_head"], seen["linear_head"]) and np.array_equal(seen["start_est"], seen["linear_est"])
    ft = metrics(train(small(tmp_path, run_name="ft", protocol="finetune", epochs=1, img_size=64, batch_size=8, loss="an")))
    assert ft["finished"] and (tmp_path / "ft" / "checkpoint-finetune.pt").exists()

def test_single_split_data_set_gets_its_own_test_images(coco2k):
    d = prepare_data(TrainConfig(dataset=str(coco2k)))
    assert (len(d.train), len(d.val), len(d.test)) == (1221, 305, 381)
    ids = [set(x.image_ids) for x in (d.train, d.val, d.test)]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])

def test_q2l_recipe(tmp_path, few_images):
    "Query2Label head, AdamW + OneCycle + EMA + RandAugment/Cutout, ASL by default, early stopping, resume state"
    cfg = small(tmp_path, run_name="q2l", protocol="finetune", head="q2l", recipe="q2l", epochs=3, img_size=64,
                batch_size=8, lr=1e-3, patience=1)
    m = metrics(train(cfg))
    hist = m["history"]["finetune"]
    assert all("val_map_ema" in h for h in hist) and 1 <= len(hist) <= 3
    ev = events(tmp_path / "q2l" / "tensorboard" / "finetune")
    assert np.allclose([v for _, v in ev["finetune/val_mAP_ema"]], [h["val_map_ema"] for h in hist], rtol=1e-6)
    assert len({v for _, v in ev["finetune/lr"]}) == len(hist)              # OneCycle: another learning rate every epoch
    ck = torch.load(tmp_path / "q2l" / "checkpoint-finetune.pt", weights_only=False)
    assert ck["scheduler"]["total_steps"] == 3 * 3 and ck["ema"] is not None
    assert json.loads((tmp_path / "q2l" / "config.json").read_text())["config"]["loss"] == "asl"
    if len(hist) < 3: assert ck["state"]["stopped_early"]

@pytest.mark.slow
def test_two_process_ddp_matches_one_process(tmp_path):
    "torchrun with 2 gloo processes on CPU: same metrics as one process, one test row per image"
    import subprocess, sys, os
    args = ["--loss", "an", "--epochs", "3", "--out_dir", str(tmp_path), "--progress", "false"]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
                    "-m", "mlcstudy.train", *args, "--run_name", "ddp"], check=True, env=env, cwd=tmp_path, timeout=600)
    subprocess.run([sys.executable, "-m", "mlcstudy.train", *args, "--run_name", "one"], check=True, env=env, cwd=tmp_path, timeout=600)
    ddp, one = metrics(tmp_path / "ddp"), metrics(tmp_path / "one")
    assert json.loads((tmp_path / "ddp" / "config.json").read_text())["environment"]["world_size"] == 2
    assert abs(ddp["test_map"] - one["test_map"]) < 0.5, (ddp["test_map"], one["test_map"])
    p, q = np.load(tmp_path / "ddp" / "predictions.npz"), np.load(tmp_path / "one" / "predictions.npz")
    assert p["test_scores"].shape == (105, 80) and not np.isnan(p["test_scores"]).any()
    np.testing.assert_array_equal(p["test_image_ids"], q["test_image_ids"])
    np.testing.assert_allclose(p["test_scores"], q["test_scores"], atol=1e-3)
    assert not any(tmp_path.glob("ddp/*.tmp"))

@pytest.mark.slow
def test_sweep_engines_skip_and_refuse(tmp_path):
    "The papermill engine runs train.ipynb per run; finished runs are skipped; a changed configuration is refused"
    base = small(tmp_path, epochs=2)
    runs, table = sweep(base, losses=("an",), lrs=(1e-3,), batch_sizes=(16,), seeds=(0,), engine="papermill", log=lambda m: None)
    run = Path(runs["run"][0])
    assert (run / "train.ipynb").exists() and metrics(run)["finished"]
    again, _ = sweep(base, losses=("an",), lrs=(1e-3,), batch_sizes=(16,), seeds=(0,), engine="inprocess",
                       log=lambda m: pytest.fail(f"ran again: {m}"))
    assert again["test_map"].tolist() == runs["test_map"].tolist()
    assert (tmp_path / "sweep.md").read_text().count("| an ") == 1
    cfg = json.loads((run / "config.json").read_text()); cfg["config"]["val_frac"] = 0.3
    (run / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="finished with another configuration \\(val_frac\\)"):
        sweep(base, losses=("an",), lrs=(1e-3,), batch_sizes=(16,), seeds=(0,), log=lambda m: None)

def _curve(run): return [(h["train_loss"], h["val_map"]) for h in metrics(run)["history"]["linear"]]

@pytest.mark.parametrize("loss,compile_step", [("an", "off"), ("role", "off"), pytest.param("role", "on", marks=pytest.mark.slow)])
def test_train_grid_equals_separate_runs(tmp_path, monkeypatch, loss, compile_step):
    "Learning rates side by side end where they end one by one: curves, test metrics, scores and ROLE's estimates"
    if compile_step == "on" and not cxx_available(): pytest.skip("no C++ compiler for torch.compile")
    stacks = []
    real = E.stack_losses
    monkeypatch.setattr(E, "stack_losses", lambda ls: stacks.append(real(ls)) or stacks[-1])
    cfgs = [small(tmp_path, epochs=3, loss=loss, lr=lr, run_name=f"grid-{lr:g}", compile_step=compile_step) for lr in (1e-2, 1e-3, 1e-4)]
    together = train_grid(cfgs, log=lambda m: None)
    assert len(stacks) == 1 and (compile_step == "off" or stacks[0].compiled_ran())
    for cfg, run in zip(cfgs, together):
        alone = train(dataclasses.replace(cfg, run_name=f"alone-{cfg.lr:g}", compile_step="off"), log=lambda m: None)
        assert sorted(p.name for p in run.iterdir()) == ["checkpoint-linear.pt", "config.json", "data.npz", "metrics.json", "predictions.npz", "tensorboard"]
        np.testing.assert_allclose(_curve(run), _curve(alone), rtol=1e-5)
        a, b = metrics(run), metrics(alone)
        assert a["selected_epoch"] == b["selected_epoch"] and a["test_map"] == pytest.approx(b["test_map"], abs=1e-4)
        pa, pb = np.load(run / "predictions.npz"), np.load(alone / "predictions.npz")
        np.testing.assert_allclose(pa["test_scores"], pb["test_scores"], atol=1e-5)
        if loss == "role": np.testing.assert_allclose(pa["role_estimates"], pb["role_estimates"], atol=1e-5)
        ck = torch.load(run / "checkpoint-linear.pt", weights_only=False)
        assert ck["model"]["fc.weight"].untyped_storage().nbytes() == ck["model"]["fc.weight"].numel() * 4   # its own, not the stack
    assert len({metrics(r)["test_map"] for r in together}) == 3                   # the learning rates differ

def test_train_grid_resumes_a_killed_group(tmp_path):
    cfgs = [small(tmp_path, loss="role", lr=lr, run_name=f"g-{lr:g}") for lr in (1e-2, 1e-3)]
    full = [_curve(r) for r in train_grid(cfgs, log=lambda m: None)]
    class Killed(Exception): pass
    def kill(msg):
        if "epoch 2/" in msg: raise Killed(msg)
    killed = [small(tmp_path, loss="role", lr=c.lr, run_name=f"k-{c.lr:g}") for c in cfgs]
    with pytest.raises(Killed): train_grid(killed, log=kill)
    assert all(torch.load(tmp_path / f"k-{c.lr:g}" / "checkpoint-linear.pt", weights_only=False)["state"]["epoch"] == 2 for c in cfgs)
    logs = []
    resumed = train_grid([dataclasses.replace(c, resume=True) for c in killed], log=logs.append)
    assert any("2 runs resumed after epoch 2" in l for l in logs)
    assert [_curve(r) for r in resumed] == full
    logs.clear()                                   # finished runs are skipped
    assert train_grid([dataclasses.replace(c, resume=True) for c in killed], log=logs.append) == resumed and logs == []

def test_train_grid_nan_in_one_run_keeps_the_others(tmp_path, monkeypatch):
    real = E.stack_losses
    def nan_in_first(losses):
        st = real(losses); vg = st.value_and_grad; calls = {"n": 0}
        def patched(logits, obs, idx):
            calls["n"] += 1
            v, g = vg(logits, obs, idx)
            return (v * torch.tensor([float("nan"), 1.0]), g) if calls["n"] == 20 else (v, g)
        st.value_and_grad = patched
        return st
    monkeypatch.setattr(E, "stack_losses", nan_in_first)
    cfgs = [small(tmp_path, loss="an", lr=lr, run_name=f"n-{lr:g}") for lr in (1e-2, 1e-3)]
    with pytest.raises(TrainingError, match="lr 0.01: loss is nan at epoch 2, step 2; the last good checkpoint is .*n-0.01.*\\(epoch 1\\)"):
        train_grid(cfgs, log=lambda m: None)
    assert metrics(tmp_path / "n-0.001")["finished"] and not (tmp_path / "n-0.01" / "metrics.json").exists()
    assert torch.load(tmp_path / "n-0.01" / "checkpoint-linear.pt", weights_only=False)["state"]["epoch"] == 1

def test_train_grid_refuses_or_hands_over(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="differ only in lr"):
        train_grid([small(tmp_path, lr=1e-2, run_name="a"), small(tmp_path, lr=1e-3, seed=1, run_name="b")])
    with pytest.raises(ValueError, match="share a folder"):
        train_grid([small(tmp_path, lr=1e-2, run_name="a"), small(tmp_path, lr=1e-3, run_name="a")])
    alone = []
    monkeypatch.setattr(E, "train", lambda cfg, log=print: alone.append(cfg.lr) or run_folder(cfg))
    train_grid([small(tmp_path, loss="em", lr=lr, run_name=f"em-{lr:g}") for lr in (1e-2, 1e-3)])    # no closed form
    assert alone == [1e-2, 1e-3]

@pytest.mark.slow
def test_sweep_jobs_survive_preemption_and_resubmission(tmp_path):
    """Two runs as two submitit LocalExecutor processes at once: one preempted (SLURM's signal, SIGUSR2: submitit's
    checkpoint hook requeues it and it resumes), one killed (the sweep submitted again resumes it); both end as runs
    trained without a break"""
    import os, subprocess, time
    from submitit.local.local import LocalJobEnvironment
    from mlcstudy.runs import finished
    from mlcstudy.sweeps import plan_grid, submit_runs
    base, grid = small(tmp_path / "sweep", epochs=60), dict(losses=("an",), lrs=(1e-3, 1e-2), batch_sizes=(16,), seeds=(0,))
    threads = torch.get_num_threads(); torch.set_num_threads(1)                 # as each of the two jobs computes
    try: ref = {lr: metrics(train(small(tmp_path / "ref", epochs=60, lr=lr, loss="an"))) for lr in grid["lrs"]}
    finally: torch.set_num_threads(threads)
    cfgs = [cfg for group in plan_grid(base, *grid.values()).values() for _, cfg in group]
    jobs = submit_runs(cfgs, "submitit-local", tmp_path / "jobs", {"parallel": 2}, log=lambda m: None)
    checkpoints, deadline = [run_folder(c) / "checkpoint-linear.pt" for c in cfgs], time.time() + 180
    while not all(p.exists() for p in checkpoints) and time.time() < deadline: time.sleep(0.01)
    assert not any(j.done() for j in jobs)                                      # both started, both training
    task = int(subprocess.run(["pgrep", "-P", str(jobs[0]._process.pid)], capture_output=True, text=True).stdout.split()[0])
    os.kill(task, LocalJobEnvironment._usr_sig())                              # preempted, as SLURM signals a job's task
    jobs[1].cancel()                                                            # killed
    assert jobs[0].result() == str(run_folder(cfgs[0]))
    log = jobs[0].stdout()
    assert "requeued job" in log.lower() and "resumed after epoch" in log
    with pytest.raises(Exception): jobs[1].result()
    assert not finished(run_folder(cfgs[1]))
    sweep(base, **grid, executor="submitit-local", jobs_dir=str(tmp_path / "jobs"), log=lambda m: None)   # submitted again
    for cfg in cfgs:
        m = metrics(run_folder(cfg))
        assert m["test_map"] == ref[cfg.lr]["test_map"]
        assert [h["val_map"] for h in m["history"]["linear"]] == [h["val_map"] for h in ref[cfg.lr]["history"]["linear"]]

def test_a_sweep_on_slurm_submits_one_job_array_with_the_cluster_s_settings(tmp_path, monkeypatch):
    "Through submitit's SLURM executor, with stand-ins for srun and sbatch that keep the script they are given"
    import os, pickle
    from mlcstudy.sweeps import plan_grid, submit_runs, SweepJob
    bin_dir = tmp_path / "bin"; bin_dir.mkdir()
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "sbatch").write_text(f'#!/bin/sh\ncp "$1" {tmp_path}/submitted.sh\necho "Submitted batch job 4242"\n')
    for f in bin_dir.iterdir(): f.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    cfgs = [c for g in plan_grid(small(tmp_path / "runs"), ("an", "role"), (1e-3,), (16,), (0,)).values() for _, c in g]
    jobs = submit_runs(cfgs, "slurm", tmp_path / "jobs", {"partition": "gpu", "gpus": 1, "cpus": 8, "time": 600,
                                                            "parallel": 24, "account": "lab"}, log=lambda m: None)
    script = (tmp_path / "submitted.sh").read_text()
    for line in ("--partition=gpu", "--gpus-per-node=1", "--cpus-per-task=8", "--time=600", "--array=0-1%2", "--account=lab",   # (the % limit: at most the array's size)
                 "--signal=USR2@"):                               # USR2 before the time limit: submitit's checkpoint and requeue
        assert f"#SBATCH {line}" in script, line
    assert [j.job_id for j in jobs] == ["4242_0", "4242_1"]
    with open(jobs[1].paths.submitted_pickle, "rb") as f: job = pickle.load(f).function
    assert isinstance(job, SweepJob) and job.cfg == cfgs[1] and job.cfg.resume
