"""Per-class AP on a COCO-val-sized problem: mlcstudy's AP (both kinds) against a per-class sklearn loop, in one run.

    python bench/metrics_ap.py [--n 40137] [--k 80] [--repeats 3] [--threads 2]
"""
import argparse, time
import numpy as np
import torch
from sklearn.metrics import average_precision_score
from mlcstudy.metrics import average_precision

def best_of(fn, repeats):
    "Fastest wall time of `repeats` calls, and the last result"
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); out = fn(); times.append(time.perf_counter() - t0)
    return min(times), out

def main(n=40137, k=80, repeats=3, threads=None, seed=0):
    if threads: torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    targets = (rng.random((n, k)) < 2.9 / k).astype(np.int64)           # 2.9 positives per image, as COCO
    scores = np.round(rng.random((n, k)) * 0.7 + 0.3 * targets, 3)       # rounded: ties, as real scores have
    scores32 = scores.astype(np.float32)                                 # what a model's sigmoid gives
    sklearn_ap = lambda s: np.array([average_precision_score(targets[:, j], s[:, j]) for j in range(k)]) * 100
    t_sk, ref = best_of(lambda: sklearn_ap(scores), repeats)
    ref32 = sklearn_ap(scores32)
    print(f"{n} images x {k} classes, best of {repeats}; mlcstudy on {torch.get_num_threads()} thread(s), sklearn on 1")
    print(f"reference, per-class sklearn loop (float64 scores): {t_sk:.3f} s")
    for name, s, r in (("float64", scores, ref), ("float32", scores32, ref32)):
        t, ours = best_of(lambda: average_precision(s, targets), repeats)
        print(f"mlcstudy sklearn-style, {name} scores: {t:.3f} s ({t_sk / t:.1f}x the reference), "
              f"max |difference| to sklearn {np.abs(ours - r).max():.1e} AP points")
    for name, s in (("float64", scores), ("float32", scores32)):
        t_voc, _ = best_of(lambda: average_precision(s, targets, "voc"), repeats)
        print(f"mlcstudy voc-style, {name} scores: {t_voc:.3f} s ({t_sk / t_voc:.1f}x the reference)")

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=40137); p.add_argument("--k", type=int, default=80)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="mlcstudy's threads (default: torch's, one per core)")
    a = p.parse_args(); main(a.n, a.k, a.repeats, a.threads)
