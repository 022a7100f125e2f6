"""Feature-extraction throughput of the offline tf_efficientnet_lite0 backbone on coco-mini (decode + resize included),
beside the machine's float32 matrix-multiply rate measured in the same process, for each thread count.

    python bench/extract_features.py [--size 224] [--threads 1 2] [--repeats 2]

Each thread count runs in its own process (torch.compile's kernels keep the thread count they were built with). For
each: the matmul rate (2048 x 2048, best of 3), the FLOPs of one image through the backbone (torch's FLOP counter),
and `extract_features` over all 448 images with compile='off' (eager) and compile='on' (its compile time is paid on
a warm-up before the timing), the default batch size, no workers, no cache.
"""
import argparse, json, subprocess, sys, time
import numpy as np, torch

def best_rate(fn, work, repeats):
    "The most work per second over `repeats` calls of fn"
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t0)
    return work / best

def one(threads: int, size: int, repeats: int, name="tf_efficientnet_lite0") -> dict:
    from torch.utils.flop_counter import FlopCounterMode
    from mlcstudy.data import MultiLabelData
    from mlcstudy.datasets import load_dataset
    from mlcstudy.backbones import Backbone, extract_features
    torch.set_num_threads(threads)
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    matmul = best_rate(lambda: [a @ b for _ in range(5)], 5 * 2 * 2048**3, 3) / 1e9
    train, val = load_dataset("coco-mini", "train"), load_dataset("coco-mini", "val")
    data = MultiLabelData(np.concatenate([train.paths, val.paths]), np.vstack([train.labels, val.labels]), train.classes,
                          np.concatenate([train.image_ids, val.image_ids]), name="coco-mini/all")
    bb = Backbone(name, pretrained=True).eval()
    with FlopCounterMode(display=False) as fc, torch.inference_mode(): bb(torch.zeros(1, 3, size, size))
    gflop = fc.get_total_flops() / 1e9
    out = {"threads": threads, "matmul_gflops": matmul, "gflop_per_image": gflop, "images": len(data)}
    for mode in ("off", "on"):
        run = lambda: extract_features(bb, data, size, cache_dir=False, progress=False, compile=mode)
        extract_features(bb, data.subset(range(32)), size, cache_dir=False, progress=False, compile=mode)   # warm-up (compiles)
        out[mode] = best_rate(run, len(data), repeats)
    return out

def main(size=224, threads=(1, 2), repeats=2):
    print(f"torch {torch.__version__}; tf_efficientnet_lite0 @ {size} on coco-mini (448 images), decode + resize included")
    for t in threads:
        r = json.loads(subprocess.run([sys.executable, __file__, "--one", str(t), "--size", str(size), "--repeats", str(repeats)],
                                      capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
        print(f"{t} thread(s): reference matmul {r['matmul_gflops']:.0f} GFLOP/s; one image {r['gflop_per_image']:.2f} GFLOP")
        for mode, label in (("off", "eager   "), ("on", "compiled")):
            rate = r[mode] * r["gflop_per_image"]
            print(f"  {label}: {r[mode]:6.1f} images/s = {rate:5.1f} GFLOP/s, {100 * rate / r['matmul_gflops']:.0f}% of the matmul rate")

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=224); p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=2); p.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one: print(json.dumps(one(a.one, a.size, a.repeats)))
    else: main(a.size, a.threads, a.repeats)
