"""Seconds per epoch of the linear protocol at COCO size (evaluation included), with random features.

    python bench/linear_protocol.py [--losses role role-dense an] [--batch-size 16] [--epochs 2] [--compile on|off]
    python bench/linear_protocol.py --grid [--one-by-one] [--losses an role] [--epochs 2]
    python bench/linear_protocol.py --official DIR [--losses an] [--lr 1e-3]

`role` is ROLE with its default (lazy, row-wise) estimator update, `role-dense` the official dense Adam over the whole
N x K estimator (about 110 s per epoch here). Seconds per epoch are wall-clock from one epoch's end to the next:
training, evaluation and checkpoint. The first epoch, which includes torch.compile's compilation of the loss step
(`--compile on`, what `compile_step='auto'` does for runs this long), is printed apart.
`--grid` trains Cole et al.'s 8 configurations (lr in {1e-2, 1e-3, 1e-4, 1e-5} x batch size in {8, 16}) for
--epochs epochs, the 4 learning rates of a batch size side by side (`GridLinearStep`, as `sweep` does) or each alone
(`--one-by-one`), and projects the 25-epoch grid from the first epoch and the mean of the others.

`--official DIR` runs Cole et al.'s released loop (`train.py` of a checkout of elijahcole/single-positive-multi-label in
DIR, its linear_fixed_features mode; loader workers --official-workers, default 0: its own 4 are slower on 2 cores) for one epoch (train, val and test phases) on the same
features in its file layout, and mlcstudy's epoch plus its test report on the same split, each in a process of its
own with glibc's allocator told to keep freed memory (`keep_freed_memory`) on both sides. It prints the in-process
seconds, the whole-process seconds (start to exit, imports and data loading included) and the test mAP of each side.

65,665 train x 2048 features, 16,416 val, 80 classes, single positives (2.9 positives per image on average),
as Cole et al.'s COCO-2014 linear protocol.
"""
import argparse, json, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np, torch
from mlcstudy.config import TrainConfig
from mlcstudy.loop import FeatureSource, new_run, fit
from mlcstudy.fast_linear import make_step, GridLinearStep
from mlcstudy.heads import LinearHead
from mlcstudy.labels import observe_single_positive
from mlcstudy.losses import get_loss, stack_losses

def coco_sized(seed=0, n_train=65665, n_val=16416, d=2048, k=80):
    "Random features whose labels are learnable, with COCO's label density"
    g = np.random.default_rng(seed)
    labels = (g.random((n_train + n_val, k)) < 2.9 / k).astype(np.uint8)
    labels[np.arange(len(labels)), g.integers(0, k, len(labels))] = 1
    proto = g.standard_normal((k, d)).astype(np.float32)
    feats = (labels @ proto / 3 + g.standard_normal((len(labels), d)).astype(np.float32)).astype(np.float32)
    return feats[:n_train], feats[n_train:], labels[:n_train], labels[n_train:]

N_TRAIN, N_TEST = 82081, 40137        # COCO 2014 train and val images with a positive label (Cole et al.'s files)

def split_like_cole(n, frac=0.2, seed=1200):
    "Cole et al.'s train / val split of the official training set (datasets.py generate_split, split_seed 1200)"
    perm = np.random.RandomState(seed).permutation(n)
    n_val = int(np.round(frac * n))
    return np.sort(perm[:n - n_val]), np.sort(perm[-n_val:])

def write_official_layout(root: Path, seed=0):
    "The same random features and labels as files of Cole et al.'s COCO layout (data/coco/formatted_*.npy, features)"
    xtr, xte, ytr, yte = coco_sized(seed, n_train=N_TRAIN, n_val=N_TEST)
    d = root / "data" / "coco"; d.mkdir(parents=True)
    for phase, x, y in (("train", xtr, ytr), ("val", xte, yte)):
        np.save(d / f"formatted_{phase}_labels.npy", y.astype(np.float64))
        np.save(d / f"formatted_{phase}_labels_obs.npy", observe_single_positive(y, seed=seed).astype(np.float64))
        np.save(d / f"formatted_{phase}_images.npy", np.array([f"{phase}{i}.jpg" for i in range(len(y))]))
        np.save(d / f"{phase}_features.npy", x)

OFFICIAL = """
import json, sys, time
sys.path.insert(0, {dir!r})
from mlcstudy.backbones import keep_freed_memory
keep_freed_memory()
import numpy as np, torch
np.Inf, np.bool = np.inf, bool             # NumPy 1 names the released code uses (removed in NumPy 2)
import train
P = dict(dataset="coco", loss={loss!r}, train_mode="linear_fixed_features", val_set_variant="clean", experiment_name="bench",
         load_path="./data", save_path="./results/bench", lr_mult=10.0, stop_metric="map", ls_coef=0.1, seed=1200,
         use_pretrained=True, num_workers={workers}, split_seed=1200, val_frac=0.2, ss_seed=999, ss_frac_train=1.0, ss_frac_val=1.0,
         train_set_variant="observed", num_epochs=1, freeze_feature_extractor=True, use_feats=True, arch="linear",
         feature_extractor_arch="resnet50", feat_dim=2048, expected_num_pos=2.9, bsize={bs}, lr={lr},
         train_feats_file="./data/coco/train_features.npy", val_feats_file="./data/coco/val_features.npy")
t0 = time.perf_counter()
logs = train.execute_training_run(P, feature_extractor=None, linear_classifier=None)[3]
print(json.dumps(dict(seconds=time.perf_counter() - t0, val_map=logs["metrics"]["val"][0]["map_clean"],
                      test_map=logs["metrics"]["test"][0]["map_clean"])))
"""

OURS = """
import json, sys, time
sys.path.insert(0, {bench!r})
from mlcstudy.backbones import keep_freed_memory
keep_freed_memory()
import numpy as np, torch
from pathlib import Path
from linear_protocol import split_like_cole
from mlcstudy.config import TrainConfig
from mlcstudy.loop import FeatureSource, new_run, fit
from mlcstudy.fast_linear import make_step
from mlcstudy.heads import LinearHead
from mlcstudy.losses import get_loss
from mlcstudy.experiment import report
d = Path("data/coco")
x, y, obs = np.load(d / "train_features.npy"), np.load(d / "formatted_train_labels.npy"), np.load(d / "formatted_train_labels_obs.npy")
xt, yt = np.load(d / "val_features.npy"), np.load(d / "formatted_val_labels.npy")
tr, va = split_like_cole(len(x))
cfg = TrainConfig(batch_size={bs}, epochs=1, lr={lr}, seed=0, progress=False, loss={loss!r})
src = FeatureSource({{"train": x[tr], "val": x[va], "test": xt}}, obs[tr], {bs}, 0, torch.device("cpu"))
torch.manual_seed(0)
head, loss = LinearHead(x.shape[1], y.shape[1]), get_loss({loss!r}, obs[tr])
Path("ours").mkdir()
run = new_run(cfg, head, loss, cfg.lr, src.n_batches(), 1, Path("ours/checkpoint-linear.pt"), "")
t0 = time.perf_counter()
fit(make_step(run, "auto"), src, y[va], cfg, 1, "linear", log=lambda m: None)
t1 = time.perf_counter()
test = report(src.predict(head, "test"), yt)
t2 = time.perf_counter()
print(json.dumps(dict(fit=t1 - t0, test_report=t2 - t1, seconds=t2 - t0, val_map=run.state["history"][-1]["val_map"],
                      test_map=test["test_map"])))
"""

def against_official(official: Path, loss="an", bs=16, lr=1e-3, workers=0):
    "One epoch of Cole et al.'s loop and of mlcstudy on the same files, each in its own process"
    with tempfile.TemporaryDirectory() as d:
        write_official_layout(Path(d))
        out = {}
        for side, code in (("official", OFFICIAL.format(dir=str(official), loss=loss, bs=bs, lr=lr, workers=workers)),
                           ("mlcstudy", OURS.format(bench=str(Path(__file__).parent), loss=loss, bs=bs, lr=lr))):
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-c", code], cwd=d, capture_output=True, text=True)
            if r.returncode: sys.exit(f"{side} failed:\n{r.stderr[-2000:]}")
            out[side] = json.loads(r.stdout.strip().splitlines()[-1]) | {"process": time.perf_counter() - t0}
    o, m = out["official"], out["mlcstudy"]
    print(f"{loss}, lr {lr:g}, batch size {bs}, one epoch on {N_TRAIN:,} train (80/20 split) and {N_TEST:,} test feature rows")
    print(f"  reference, Cole et al.'s loop (train, val and test phases; {workers} loader workers): {o['seconds']:.1f} s in process, "
          f"{o['process']:.1f} s whole process; val mAP {o['val_map']:.2f}, test mAP {o['test_map']:.2f}")
    print(f"  mlcstudy (epoch {m['fit']:.2f} s + test report {m['test_report']:.2f} s): {m['seconds']:.2f} s in process "
          f"({o['seconds'] / m['seconds']:.1f}x the reference), {m['process']:.1f} s whole process "
          f"({o['process'] / m['process']:.1f}x); val mAP {m['val_map']:.2f}, test mAP {m['test_map']:.2f}")

def run(loss_name, batch_size=16, epochs=2, lrs=(1e-4,), seed=0, compile_step="on", **loss_kw):
    """Train one run per learning rate, one lr alone, several side by side with a `GridLinearStep` (as `sweep` does):
    (seconds of the first epoch, mean seconds of the others, last val mAP per lr), evaluation and checkpoint included"""
    xtr, xva, ytr, yva = coco_sized(seed)
    obs = observe_single_positive(ytr)
    cfgs = [TrainConfig(batch_size=batch_size, epochs=epochs, lr=lr, seed=seed, progress=False, loss=loss_name, compile_step=compile_step)
            for lr in lrs]
    src = FeatureSource({"train": xtr, "val": xva}, obs, batch_size, seed, torch.device("cpu"))
    heads = []
    for _ in lrs:
        torch.manual_seed(seed); heads.append(LinearHead(xtr.shape[1], ytr.shape[1]))
    losses = [get_loss(loss_name, obs, **loss_kw) for _ in lrs]
    stamps = [time.perf_counter()]               # both log once per epoch, after the checkpoints are written
    log = lambda m: stamps.append(time.perf_counter()) if "epoch" in m and "/" in m else None
    with tempfile.TemporaryDirectory() as d:
        dirs = [Path(d) / f"lr{lr:g}" for lr in lrs]
        for p in dirs: p.mkdir()
        runs = [new_run(c, h, l, c.lr, src.n_batches(), epochs, p / "checkpoint-linear.pt", f"lr {c.lr:g}: ")
                for c, h, l, p in zip(cfgs, heads, losses, dirs)]
        step = make_step(runs[0], compile_step) if len(lrs) == 1 else GridLinearStep(runs, stack_losses(losses), compile_step)
        fit(step, src, yva, cfgs[0], epochs, "linear", log=log)
        states = [r.state for r in runs]
    secs = np.diff(stamps).tolist()
    return secs[0], float(np.mean(secs[1:] or secs)), [st["history"][-1]["val_map"] for st in states]

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--losses", nargs="+", default=["role", "an"]); p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--epochs", type=int, default=2); p.add_argument("--grid", action="store_true")
    p.add_argument("--compile", default="on", choices=["on", "off"], help="torch.compile the loss step (what 'auto' does for runs this size)")
    p.add_argument("--one-by-one", action="store_true", help="--grid: each configuration alone (default: the 4 learning rates of a batch size side by side)")
    p.add_argument("--official", type=Path, default=None, help="a checkout of Cole et al.'s code: one epoch of its loop beside mlcstudy's")
    p.add_argument("--lr", type=float, default=1e-3, help="--official: the learning rate of both sides")
    p.add_argument("--official-workers", type=int, default=0, help="--official: its loader workers (its own default, 4, is slower on 2 cores)")
    a = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch size {a.batch_size}, {a.epochs} epochs")
    if a.official:
        for name in a.losses: against_official(a.official, name, a.batch_size, a.lr, a.official_workers)
        sys.exit()
    for name in a.losses:
        loss, kw = (name.split("-")[0], {"update": name.split("-")[1]}) if "-" in name else (name, {})
        if a.grid and not a.one_by_one:
            per = {bs: run(loss, bs, a.epochs, lrs=(1e-2, 1e-3, 1e-4, 1e-5), compile_step=a.compile, **kw) for bs in (8, 16)}
            print(f"{name}: " + ", ".join(f"bs {bs}: {s:.2f} s per epoch of 4 learning rates (first {first:.2f})" for bs, (first, s, _) in per.items()))
            total = sum(first + 24 * s for first, s, _ in per.values())
            print(f"{name}: 8-config grid of 25 epochs (4 learning rates side by side per batch size), projected: {total / 60:.1f} min")
        elif a.grid:
            per = {(lr, bs): run(loss, bs, a.epochs, lrs=(lr,), compile_step=a.compile, **kw) for lr in (1e-2, 1e-3, 1e-4, 1e-5) for bs in (8, 16)}
            print(f"{name}: " + ", ".join(f"lr {lr:g} bs {bs}: {s:.2f}" for (lr, bs), (_, s, _) in per.items()) + " s per epoch")
            total = sum(first + 24 * s for first, s, _ in per.values())
            print(f"{name}: 8-config grid of 25 epochs, projected from these epochs (first epochs as measured): {total / 60:.1f} min")
        else:
            first, s, m = run(loss, a.batch_size, a.epochs, compile_step=a.compile, **kw)
            print(f"{name}: {s:.2f} s per epoch after the first ({first:.2f} s, compilation included), evaluation and "
                  f"checkpoint included; last val mAP {m[0]:.2f}")
