"""Throughput of a whole evaluation (decode, resize, forward, metrics) next to the bare forward pass of the same network.

    python bench/evaluate.py [--images 32] [--workers 0]

Two models: Query2Label's released R101-448 architecture (random-like weights in the official layout, from the
model-zoo fixtures when they are beside the project, else random: speed does not depend on the values) and a small
one, tf_efficientnet_lite0 at 224 with the CPU-sized Query2Label head. For each it prints images/s of
  - decoding and resizing alone (SquashedImages, full decode and JPEG draft decode),
  - the bare forward pass on tensors already in memory (batch 16, channels-last),
  - `mlcstudy.evaluate.evaluate` end to end on the first N coco-mini val images (folder, checks, metrics included),
and the share of the end-to-end time that the forward pass explains. With --zoo it also times the bare forward pass
of each of the six released architectures (batch 16, the evaluation default) and projects it to the 40,504 images of COCO 2014 val.
The thread count is printed first.
"""
import argparse, sys, tempfile, time
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "q2l-zoo"

def rate(fn, n, repeat=2):
    "Images per second of fn() over n images, best of `repeat`"
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t0)
    return n / best

def main(images=32, workers=0):
    from mlcstudy.datasets import load_dataset
    from mlcstudy.evaluate import EvalConfig, evaluate
    from mlcstudy.transforms import SquashedImages
    from mlcstudy.config import TrainConfig, CPU_Q2L_HEAD
    from mlcstudy.experiment import train
    from mlcstudy.zoo import fixture_checkpoint
    from mlcstudy.heads import build_model
    from mlcstudy.zoo import load_released
    val = load_dataset("coco-mini", "val").subset(range(images))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} compute threads, {workers} decoding workers, {images} coco-mini val images")
    tmp = Path(tempfile.mkdtemp())
    if (FIXTURES / "zoo.json").exists(): sd = fixture_checkpoint("q2l-r101-448", FIXTURES)
    else:
        m = build_model("resnet101", "q2l", 80, 448, frozen_bn=True, hidden_dim=2048, dim_feedforward=8192, fixed_pos=True)
        sd = {("backbone.0.body." + k[len("backbone.body."):]) if k.startswith("backbone.body.") else k.replace("head.", "", 1): v
              for k, v in m.state_dict().items() if k != "head.pos.pe"}
    torch.save(sd, tmp / "r101.pth")
    small = train(TrainConfig(head="q2l", protocol="linear", recipe="q2l", loss="asl", labels="full", epochs=1, head_params=dict(CPU_Q2L_HEAD),
                              out_dir=str(tmp), run_name="lite0-q2l", progress=False), log=lambda m: None)
    cases = [("Query2Label R101-448 (released architecture)", dict(zoo="q2l-r101-448", checkpoint=str(tmp / "r101.pth"), dataset="coco-mini"),
              lambda: load_released("q2l-r101-448", tmp / "r101.pth"), 448),
             ("tf_efficientnet_lite0-224 + Query2Label head (width 256)", dict(run=str(small)), None, 224)]
    print("| model | decode + resize (full) | decode + resize (draft) | bare forward | evaluate end to end | forward's share |")
    print("|---|---|---|---|---|---|")
    for label, kw, make, size in cases:
        loader = lambda draft: [x for x in torch.utils.data.DataLoader(SquashedImages(val.paths, size, draft), batch_size=16, num_workers=workers)]
        dec_full, dec_draft = rate(lambda: loader(False), images), rate(lambda: loader(True), images)
        if make is None:
            from mlcstudy.analysis import load_model, load_run
            make = lambda: load_model(load_run(small))
        model = make().to(memory_format=torch.channels_last)
        x = torch.randn(16, 3, size, size).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            model(x[:2])
            fwd = rate(lambda: [model(x) for _ in range(max(1, images // 16))], 16 * max(1, images // 16))
        c = EvalConfig(**kw, limit=images, workers=workers, out_dir=str(tmp / "evals"), progress=False, overwrite=True)
        e2e = rate(lambda: evaluate(c, log=lambda m: None), images)
        print(f"| {label} | {dec_full:.1f} img/s | {dec_draft:.1f} img/s | {fwd:.2f} img/s | {e2e:.2f} img/s | {e2e / fwd:.0%} |")

def zoo_table(batch=16):
    "Seconds per image of the bare forward pass of each released architecture, projected to COCO 2014 val"
    from mlcstudy.zoo import ZOO, load_released, fixture_checkpoint
    if not (FIXTURES / "zoo.json").exists(): sys.exit(f"--zoo needs the model-zoo fixtures at {FIXTURES}")
    print(f"\n{torch.get_num_threads()} threads, batch {batch}")
    print("| released model | s / image (bare forward) | 40,504 images |")
    print("|---|---|---|")
    for name, entry in ZOO.items():
        model = load_released(name, fixture_checkpoint(name, FIXTURES)).to(memory_format=torch.channels_last)
        x = torch.randn(batch, 3, entry.img_size, entry.img_size).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            model(x[:1])
            per = 1 / rate(lambda: model(x), batch, repeat=2)          # seconds per image
        print(f"| {name} | {per:.2f} | {per * 40504 / 3600:.1f} h |")
        del model

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=32); p.add_argument("--workers", type=int, default=0)
    p.add_argument("--zoo", action="store_true", help="also time the six released architectures")
    a = p.parse_args(); main(a.images, a.workers)
    if a.zoo: zoo_table()
