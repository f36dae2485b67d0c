#!/usr/bin/env python3
"""PyTorch twin of fmnist's default CNN recipe, timed to marks of validation accuracy.

  /usr/bin/python3 scripts/torch_to_accuracy.py [--epochs 30] [--marks 93,94,94.5] [--json]

The fmnist side of the comparison is `fmnist bench --to-accuracy` (same marks, same recipe). Both stop
at the end of the first epoch whose validation accuracy reaches the last mark. The recipe, from
pipeline.DefaultConfig: five 3x3 convs 32-64-128-256-256 with batch norm (convs without bias) and
ReLU, 2x2 max-pool after convs 2, 3 and 4, global max-pool, linear 256->10; SGD with Nesterov momentum
0.9, weight decay 5e-4 on conv and linear weights only, label smoothing 0.1, batch 128, one epoch of
linear warm-up to lr 0.08 then a cosine to 0 over the rest, stepped every batch; augmentation: a
random shift of up to 2 pixels (the background fills in), a horizontal flip half the time, and random
erasing (to 0 after normalisation, area 2-20%, aspect 0.3-3.3) a quarter of the time. 10000 of the
60000 training images are held out for validation (a seeded split, not fmnist's own permutation)
and the pixels are normalised with the train split's mean and std. Initial weights are PyTorch's
defaults (fmnist draws Kaiming-normal ones). The wall time counts training with its augmentation and
the validation pass of every epoch, as fmnist's does.

Set-up (Debian): apt-get install -y python3-torch python3-numpy dataset-fashion-mnist
Threads: THREADS (default 2). Data: FMNIST_DIR (default /usr/share/datasets/fashion-mnist).
"""
import argparse, gzip, json, math, os, random, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("THREADS", "2")))
DATA = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")
BATCH, LR, EPOCHS_DEFAULT = 128, 0.08, 30


def idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)


def load(seed):
    x = idx("train-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    y = idx("train-labels-idx1-ubyte.gz").astype(np.int64)
    p = np.random.default_rng(seed).permutation(len(x))
    tr, va = p[:50000], p[50000:]
    mean, std = float(x[tr].mean()), float(x[tr].std())
    f = lambda a: torch.from_numpy((a - mean) / std).unsqueeze(1)
    return (f(x[tr]), torch.from_numpy(y[tr])), (f(x[va]), torch.from_numpy(y[va])), -mean / std


class CNN(nn.Module):
    def __init__(self, widths=(32, 64, 128, 256, 256), pool_after=(1, 2, 3)):
        super().__init__()
        layers, c = [], 1
        for i, o in enumerate(widths):
            layers += [nn.Conv2d(c, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
            if i in pool_after:
                layers.append(nn.MaxPool2d(2))
            c = o
        self.backbone = nn.Sequential(*layers, nn.AdaptiveMaxPool2d(1), nn.Flatten())
        self.head = nn.Linear(c, 10)

    def forward(self, x):
        return self.head(self.backbone(x))


def augment(x, bg, g, rnd):
    """Shift by up to 2 pixels, flip half, erase a quarter: a new batch tensor."""
    n = len(x)
    padded = torch.full((n, 1, 32, 32), bg)  # (F.pad with a value is slow in torch 1.13 on CPU)
    padded[:, :, 2:30, 2:30] = x
    off = torch.randint(0, 5, (n, 2), generator=g)
    ar28 = torch.arange(28)
    rows = (off[:, 0:1] + ar28)[:, :, None]  # (n, 28, 1)
    cols = (off[:, 1:2] + ar28)[:, None, :]  # (n, 1, 28)
    out = padded[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)
    flip = torch.rand(n, generator=g) < 0.5
    out[flip] = out[flip].flip(3)
    for i in range(n):
        if rnd.random() >= 0.25:
            continue
        for _ in range(10):
            area = rnd.randint(15, 156)
            ar = math.exp(rnd.uniform(math.log(0.3), math.log(3.3)))
            h, w = round(math.sqrt(area * ar)), round(math.sqrt(area / ar))
            if 1 <= h < 28 and 1 <= w < 28:
                y0, x0 = rnd.randint(0, 28 - h), rnd.randint(0, 28 - w)
                out[i, :, y0:y0 + h, x0:x0 + w] = 0
                break
    return out


def accuracy(model, d, batch=BATCH):
    """Validation accuracy, in batches of 128: torch 1.13's CPU convolutions ran this CNN at 164 img/s in batches
    of 1000 and at 594 in batches of 128 here, so a large batch would slow PyTorch's side of the comparison."""
    model.eval()
    with torch.no_grad():
        hits = sum((model(d[0][i:i + batch]).argmax(1) == d[1][i:i + batch]).sum().item()
                   for i in range(0, len(d[0]), batch))
    return hits / len(d[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=EPOCHS_DEFAULT, help="epochs of the recipe (its schedule spans them)")
    ap.add_argument("--marks", default="93,94,94.5", help="validation accuracies in percent")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--subset", type=int, default=0, help="train on only the first N training images, for a quick try")
    ap.add_argument("--json", action="store_true", help="print one JSON object at the end")
    a = ap.parse_args()
    marks = sorted({float(m) / 100 for m in a.marks.split(",")})
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    rnd = random.Random(a.seed)
    tr, va, bg = load(a.seed)
    if a.subset > 0:
        tr = (tr[0][:a.subset], tr[1][:a.subset])
    model = CNN()
    decay = [p for n, p in model.named_parameters() if n.endswith("weight") and p.dim() > 1]
    rest = [p for n, p in model.named_parameters() if not (n.endswith("weight") and p.dim() > 1)]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": rest, "weight_decay": 0}],
                          lr=LR, momentum=0.9, nesterov=True)
    per_epoch = (len(tr[0]) + BATCH - 1) // BATCH
    total_steps, warm = a.epochs * per_epoch, per_epoch

    def lr_at(step):
        if step < warm:
            return LR * (step + 1) / warm
        return LR * (1 + math.cos(math.pi * min((step - warm) / max(total_steps - warm, 1), 1))) / 2

    print(f"time to validation accuracy: PyTorch {torch.__version__} twin of fmnist's default cnn, "
          f"{torch.get_num_threads()} threads, {len(tr[0])} training images", flush=True)
    print(f"{'epoch':>5} {'val acc':>8} {'train img/s':>12} {'epoch s':>8} {'total s':>8}", flush=True)
    step, total, recs, reached = 0, 0.0, [], [None] * len(marks)
    for ep in range(a.epochs):
        model.train()
        t0 = time.perf_counter()
        p = torch.randperm(len(tr[0]), generator=g)
        for i in range(0, len(p), BATCH):
            b = p[i:i + BATCH]
            for grp in opt.param_groups:
                grp["lr"] = lr_at(step)
            opt.zero_grad()
            loss = F.cross_entropy(model(augment(tr[0][b], bg, g, rnd)), tr[1][b], label_smoothing=0.1)
            loss.backward()
            opt.step()
            step += 1
        t_train = time.perf_counter() - t0
        acc = accuracy(model, va)
        secs = time.perf_counter() - t0
        total += secs
        recs.append({"epoch": ep + 1, "val_acc": acc, "img_per_s": len(p) / t_train, "seconds": secs})
        print(f"{ep + 1:5d} {100 * acc:7.2f}% {len(p) / t_train:12.1f} {secs:8.1f} {total:8.1f}", flush=True)
        for k, m in enumerate(marks):
            if reached[k] is None and acc >= m:
                reached[k] = {"mark": m, "epoch": ep + 1, "seconds": total}
        if reached[-1] is not None:
            break
    for k, m in enumerate(marks):
        r = reached[k]
        name = f"cnn/to-{100 * m:g}%"
        print(f"{name:16s} " + (f"{r['seconds']:8.1f} s (epoch {r['epoch']})" if r else f"not reached in {len(recs)} epochs"))
    if a.json:
        print(json.dumps({"engine": "pytorch " + torch.__version__, "model": "cnn", "preset": "default",
                          "seed": a.seed, "train_images": len(tr[0]), "threads": torch.get_num_threads(),
                          "marks": [r or {"mark": m, "epoch": 0, "seconds": 0} for r, m in zip(reached, marks)],
                          "epochs": recs}))


if __name__ == "__main__":
    main()
