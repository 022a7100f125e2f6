"""Seconds per epoch of the linear protocol at COCO size (evaluation included), with random features.

    python bench/linear_protocol.py [--losses role role-dense an] [--batch-size 16] [--epochs 2] [--compile on|off]
    python bench/linear_protocol.py --grid [--one-by-one] [--losses an role] [--epochs 2]

`role` is ROLE with its default (lazy, row-wise) estimator update, `role-dense` the official dense Adam over the whole
N x K estimator (about 110 s per epoch here). Seconds per epoch are wall-clock from one epoch's end to the next:
training, evaluation and checkpoint. The first epoch, which includes torch.compile's compilation of the loss step
(`--compile on`, what `compile_step='auto'` does for runs this long), is printed apart.
`--grid` trains Cole et al.'s 8 configurations (lr in {1e-2, 1e-3, 1e-4, 1e-5} x batch size in {8, 16}) for
--epochs epochs, the 4 learning rates of a batch size side by side (`GridLinearStep`, as `sweep` does) or each alone
(`--one-by-one`), and projects the 25-epoch grid from the first epoch and the mean of the others.

65,665 train x 2048 features, 16,416 val, 80 classes, single positives (2.9 positives per image on average),
as Cole et al.'s COCO-2014 linear protocol.
"""
import argparse, tempfile, time
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
    a = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch size {a.batch_size}, {a.epochs} epochs")
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
