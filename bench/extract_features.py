"""Feature-extraction throughput of the offline tf_efficientnet_lite0 backbone on coco-mini (decode + resize included).

    python bench/extract_features.py [--sizes 224 448] [--workers 0]

Prints images per second with extract_features' defaults (batch 8 on CPU, channels-last) and with
batch 32 in the default NCHW memory format, for comparison.
"""
import argparse, time
import numpy as np, torch
from mlcstudy.data import MultiLabelData
from mlcstudy.datasets import load_dataset
from mlcstudy.backbones import Backbone, extract_features

def main(sizes=(224, 448), workers=0, name="tf_efficientnet_lite0"):
    train, val = load_dataset("coco-mini", "train"), load_dataset("coco-mini", "val")
    data = MultiLabelData(np.concatenate([train.paths, val.paths]), np.vstack([train.labels, val.labels]), train.classes,
                          np.concatenate([train.image_ids, val.image_ids]), name="coco-mini/all")
    bb = Backbone(name, pretrained=True)
    extract_features(bb, train.subset(range(16)), min(sizes), cache_dir=False, progress=False)  # warm-up
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(data)} images")
    for size in sizes:
        rates = {}
        for label, kw in [("batch 8, channels-last", dict(batch_size=8)), ("batch 32 NCHW", dict(batch_size=32, channels_last=False))]:
            t0 = time.perf_counter()
            extract_features(bb, data, size, cache_dir=False, num_workers=workers, progress=False, **kw)
            rates[label] = len(data) / (time.perf_counter() - t0)
        (l1, r1), (l2, r2) = rates.items()
        print(f"{name} @ {size}: {r1:.1f} images/s  ({l1}; {l2}: {r2:.1f})")

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[224, 448]); p.add_argument("--workers", type=int, default=0)
    a = p.parse_args(); main(a.sizes, a.workers)
