"""Feature-extraction throughput of the offline tf_efficientnet_lite0 backbone on coco-mini (decode + resize included).

    python bench/extract_features.py [--sizes 224 448] [--batch-size 32] [--workers 0]
"""
import argparse, time
import numpy as np, torch
from mlcstudy.data import MultiLabelData, load_dataset
from mlcstudy.backbones import Backbone, extract_features

def main(sizes=(224, 448), batch_size=32, workers=0, name="tf_efficientnet_lite0"):
    train, val = load_dataset("coco-mini", "train"), load_dataset("coco-mini", "val")
    data = MultiLabelData(np.concatenate([train.paths, val.paths]), np.vstack([train.labels, val.labels]), train.classes,
                          np.concatenate([train.image_ids, val.image_ids]), name="coco-mini/all")
    bb = Backbone(name, pretrained=True)
    extract_features(bb, train.subset(range(batch_size)), min(sizes), batch_size, cache_dir=False, progress=False)  # warm-up
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for size in sizes:
        t0 = time.perf_counter()
        f = extract_features(bb, data, size, batch_size, cache_dir=False, num_workers=workers, progress=False)
        dt = time.perf_counter() - t0
        print(f"{name} @ {size}: {len(data) / dt:.1f} images/s  ({len(data)} images, batch {batch_size})")

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[224, 448]); p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, default=0)
    a = p.parse_args(); main(a.sizes, a.batch_size, a.workers)
