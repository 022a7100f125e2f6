"""Cost of the paper presets on a GPU, estimated from one training step measured on this CPU.

    python bench/preset_cost.py [--presets q2l-r101-448 cole-role] [--gpu-tflops 100]

For each model of the presets (backbone, head and image size; the losses do not change the cost), one training step
of one image on the CPU gives: the FLOPs of forward and backward (`torch.utils.flop_counter`), the bytes the
backward pass keeps (saved tensors, counted once each), the parameters, and the step's seconds. From them:

- GPU hours = epochs x the COCO 2014 training images the preset keeps (82,783 with rows='all', Query2Label; 82,081
  with rows='annotated', Cole et al.) x FLOPs per image / the GPU's effective throughput (`--gpu-tflops`, default
  100 TFLOP/s: a recent data-centre GPU under fp16 AMP at a third of its peak). Query2Label's
  80 epochs are the most its early stop lets it run; image decoding can be the bound instead on few CPU cores.
- GPU memory = weights, gradients and Adam's two moments (and the EMA for Query2Label), plus batch x saved bytes per
  image (halved under fp16 AMP), plus 1.5 GB for the CUDA context and workspaces.
- checkpoint = what a run writes after every epoch: the trained weights, the best state's copy of them, Adam's two
  moments (and the EMA for Query2Label), 4 bytes each; frozen weights are left out (their digest is kept).

These are estimates until measured on a GPU; the CPU step time is printed to show the FLOP counts' scale.
"""
import argparse, time
import torch
from torch.utils.flop_counter import FlopCounterMode
from mlcstudy.config import PRESETS, PRESET_DATA, resolve
from mlcstudy.heads import build_model

COCO14_TRAIN = {"all": 82783, "annotated": 82081}     # train2014 images by row policy (00_data)

def step_cost(cfg):
    "(FLOPs, saved bytes, parameters, seconds) of one training step of one image"
    model = build_model(cfg.backbone, cfg.head, 80, cfg.img_size, freeze_upto=cfg.freeze, frozen_bn=cfg.frozen_bn, **cfg.head_params).train()
    x = torch.randn(1, 3, cfg.img_size, cfg.img_size)
    seen, saved = set(), [0]
    def pack(t):
        key = (t.untyped_storage().data_ptr(), t.dtype, tuple(t.shape))
        if key not in seen: seen.add(key); saved[0] += t.numel() * t.element_size()
        return t
    with FlopCounterMode(display=False) as fc, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x).sum().backward()
    t0 = time.perf_counter(); model(x).sum().backward(); seconds = time.perf_counter() - t0
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return fc.get_total_flops(), saved[0], sum(p.numel() for p in model.parameters()), trainable, seconds

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", nargs="+", default=[n for n in PRESETS if n != "cole-linear"])
    p.add_argument("--gpu-tflops", type=float, default=100.0)
    a = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads; GPU at an assumed {a.gpu_tflops:g} TFLOP/s effective")
    print("| preset | GFLOPs / image (train step) | CPU s / image | params (M) | batch | images | epochs | est. GPU hours | est. GPU memory (GB) | checkpoint (GB) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    cache = {}
    for name in a.presets:
        cfg = resolve(name, **({"dataset": "its data set"} if name in PRESET_DATA else {}))   # the cost does not depend on it
        key = (cfg.backbone, cfg.head, cfg.img_size, cfg.freeze, cfg.frozen_bn, str(cfg.head_params))
        flops, saved, params, trainable, secs = cache.setdefault(key, step_cost(cfg))
        epochs = cfg.finetune_epochs if cfg.protocol == "linear_init" else cfg.epochs   # the linear phase runs on cached features
        hours = epochs * COCO14_TRAIN[cfg.rows] * flops / (a.gpu_tflops * 1e12) / 3600
        amp = cfg.recipe == "q2l"                                                      # fp16 AMP on a GPU
        state = trainable * (16 + (4 if cfg.recipe == "q2l" else 0)) + (params - trainable) * 4 * (2 if cfg.recipe == "q2l" else 1)
        memory = (state + cfg.batch_size * saved * (0.5 if amp else 1)) / 2**30 + 1.5
        checkpoint = trainable * 4 * (5 if cfg.recipe == "q2l" else 4) / 2**30
        print(f"| {name} | {flops / 1e9:.0f} | {secs:.2f} | {params / 1e6:.0f} | {cfg.batch_size} | {COCO14_TRAIN[cfg.rows]:,} | {epochs} "
              f"| {hours:.1f} | {memory:.0f} | {checkpoint:.1f} |")

if __name__ == "__main__": main()
