"""Per-class AP on a COCO-val-sized problem: mlcstudy's AP (both kinds) against a per-class sklearn loop.

    python bench/metrics_ap.py [--n 40137] [--k 80] [--repeats 3]
"""
import argparse, time
import numpy as np
from sklearn.metrics import average_precision_score
from mlcstudy.metrics import average_precision

def best_of(fn, repeats):
    "Fastest wall time of `repeats` calls, and the last result"
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); out = fn(); times.append(time.perf_counter() - t0)
    return min(times), out

def main(n=40137, k=80, repeats=3, seed=0):
    rng = np.random.default_rng(seed)
    targets = (rng.random((n, k)) < 2.9 / k).astype(np.int64)           # 2.9 positives per image, as COCO
    scores = np.round(rng.random((n, k)) * 0.7 + 0.3 * targets, 3)       # rounded: ties, as real scores have
    t_sk, ref = best_of(lambda: np.array([average_precision_score(targets[:, j], scores[:, j]) for j in range(k)]) * 100, repeats)
    t_ours, ours = best_of(lambda: average_precision(scores, targets), repeats)
    t_voc, _ = best_of(lambda: average_precision(scores, targets, "voc"), repeats)
    print(f"{n} images x {k} classes, best of {repeats}")
    print(f"per-class sklearn loop: {t_sk:.3f} s")
    print(f"mlcstudy (sklearn-style, binary search): {t_ours:.3f} s   ({t_sk / t_ours:.1f}x faster)")
    print(f"mlcstudy (voc-style, one torch sort): {t_voc:.3f} s")
    print(f"max |difference| to sklearn: {np.abs(ours - ref).max():.1e} AP points")

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=40137); p.add_argument("--k", type=int, default=80)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args(); main(a.n, a.k, a.repeats)
