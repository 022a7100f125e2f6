"""Query2Label head alone: forward and forward+backward time, fused attention against the attention-weights path.

    python bench/q2l_head.py [--repeats 3] [--device cpu]

Sizes: the official R101 configuration (features (8, 2048, 14, 14), hidden 2048, feed-forward 8192, 80 classes)
and a CPU configuration (lite0 features (32, 1280, 7, 7) projected to 512, feed-forward 2048).
"""
import argparse, time
import torch
from mlcstudy.heads import Query2LabelHead

CONFIGS = {
    "R101 official (B=8, 2048x14x14, d=2048, ff=8192)": dict(shape=(8, 2048, 14, 14), hidden_dim=2048, dim_feedforward=8192),
    "CPU lite0 (B=32, 1280x7x7 -> d=512, ff=2048)": dict(shape=(32, 1280, 7, 7), hidden_dim=512, dim_feedforward=2048),
}

def best_of(fn, repeats):
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return min(ts)

def main(repeats=3, device="cpu"):
    print(f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads, best of {repeats}")
    for name, cfg in CONFIGS.items():
        torch.manual_seed(0)
        shape = cfg.pop("shape")
        head = Query2LabelHead(shape[1], 80, **cfg).to(device)
        x = torch.randn(*shape, device=device)
        head.eval()
        with torch.no_grad():
            fused = best_of(lambda: head(x), repeats)
            weights = best_of(lambda: head(x, return_attn="mean"), repeats)
            diff = (head(x) - head(x, return_attn="mean")[0]).abs().max().item()
        head.train()
        def step():
            head.zero_grad(set_to_none=True); head(x).sum().backward()
        train = best_of(step, repeats)
        for m in head.modules():
            if isinstance(m, torch.nn.Dropout): m.p = 0.0
        train_nodrop = best_of(step, repeats)
        print(f"{name}:\n  forward (eval, fused attention): {fused * 1e3:.0f} ms;  with attention maps: {weights * 1e3:.0f} ms;"
              f"  max |logit difference| {diff:.1e}\n  forward+backward (train): {train * 1e3:.0f} ms  (dropout 0: {train_nodrop * 1e3:.0f} ms)")

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3); p.add_argument("--device", default="cpu")
    a = p.parse_args(); main(a.repeats, a.device)
