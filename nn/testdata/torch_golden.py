#!/usr/bin/env python3
"""Writes torch_golden.json: PyTorch's view of small fmnist models, for golden_test.go.

    /usr/bin/python3 nn/testdata/torch_golden.py > nn/testdata/torch_golden.json

For the reference models of /work/shared/bench/torch_ref.py it records the state_dict names and shapes. For a few
small specs it builds the PyTorch twin that nn/doc.go documents, and records its initial state_dict, one training
forward and backward (logits, loss, parameter gradients), the state_dict after that step (running statistics) and
the eval-mode logits. Dropout is left out of the numeric cases, since the two sides draw different masks.
"""
import json, os, sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.environ.get("TORCH_REF_DIR", "/work/shared/bench"))
import torch_ref  # noqa: E402

torch.set_num_threads(1)


class CNN(nn.Module):
    def __init__(self, backbone, head):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, x):
        return self.head(self.backbone(x))


def build(s):
    """The PyTorch twin of an nn.Spec, as nn/doc.go writes it."""
    bn, p, k = s.get("batch_norm", False), s.get("dropout", 0), s.get("classes") or 10
    if s["kind"] == "mlp":
        layers, c = [nn.Flatten()], s.get("in") or 784
        layers += [nn.Dropout(s["input_dropout"])] * (s.get("input_dropout", 0) > 0)
        for h in s.get("hidden") or [512, 256]:
            layers += [nn.Linear(c, h, bias=not bn)] + [nn.BatchNorm1d(h)] * bn + [nn.ReLU()] + [nn.Dropout(p)] * (p > 0)
            c = h
        return nn.Sequential(*layers, nn.Linear(c, k))
    widths = s.get("widths") or [32, 64, 128, 256, 256]
    pools = s.get("pool_after") or ([1, 2, 3] if not s.get("widths") and s.get("pool_after") is None else [])
    layers, c = [], s.get("in") or 1
    for i, o in enumerate(widths):
        layers += [nn.Conv2d(c, o, 3, padding=1, bias=not bn)] + [nn.BatchNorm2d(o)] * bn + [nn.ReLU()]
        layers += [nn.MaxPool2d(2)] * (i in pools)
        c = o
    layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten()] + [nn.Dropout(p)] * (p > 0)
    return CNN(nn.Sequential(*layers), nn.Linear(c, k))


def names(m):
    return [[n, list(t.shape)] for n, t in m.state_dict().items()]


def state(m):
    return [[n, list(t.shape), t.detach().double().flatten().tolist()] for n, t in m.state_dict().items()]


REFS = {"mlp-ref": (torch_ref.mlp(), {"kind": "mlp", "in": 784, "hidden": [512, 256], "classes": 10}),
        "cnn-ref": (torch_ref.CNN(), {"kind": "cnn", "classes": 10}),
        "cnn-ref-bn": (torch_ref.CNN(bn=True), {"kind": "cnn", "batch_norm": True, "classes": 10})}

# Twins whose names the Go side must reproduce (dropout included: it shifts indices).
NAMED = [{"kind": "mlp", "in": 12, "hidden": [8, 6], "dropout": 0.5, "classes": 4},
         {"kind": "mlp", "in": 12, "hidden": [8, 6, 5], "batch_norm": True, "dropout": 0.5, "classes": 4},
         {"kind": "cnn", "widths": [3, 4], "pool_after": [1], "batch_norm": True, "dropout": 0.5, "classes": 4}]

CASES = [("mlp", {"kind": "mlp", "in": 12, "hidden": [8, 6], "classes": 4}, [5, 12], 0.0),
         ("mlp-bn", {"kind": "mlp", "in": 12, "hidden": [8, 6], "batch_norm": True, "classes": 4}, [5, 3, 4, 1], 0.1),
         ("cnn", {"kind": "cnn", "widths": [3, 4, 5], "pool_after": [0, 1], "classes": 4}, [3, 9, 9, 1], 0.0),
         ("cnn-bn", {"kind": "cnn", "in": 2, "widths": [3, 4, 5], "pool_after": [0, 1], "batch_norm": True,
                     "classes": 4}, [3, 7, 9, 2], 0.1)]


def case(i, name, spec, shape, eps):
    torch.manual_seed(100 + i)
    m = build(spec)
    with torch.no_grad():  # move batch norm off its defaults, so that a mix-up of its tensors shows
        for mod in m.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                mod.weight.uniform_(0.5, 1.5); mod.bias.normal_(0, 0.3)
                mod.running_mean.normal_(0, 0.3); mod.running_var.uniform_(0.5, 1.5)
                mod.num_batches_tracked.fill_(3)
    x = torch.randn(*shape)
    xt = x.permute(0, 3, 1, 2).contiguous() if len(shape) == 4 and spec["kind"] == "cnn" else x
    y = torch.randint(0, spec["classes"], (shape[0],))
    before = state(m)
    m.train()
    logits = m(xt)
    loss = F.cross_entropy(logits, y, label_smoothing=eps)
    loss.backward()
    grads = {n: p.grad.double().flatten().tolist() for n, p in m.named_parameters()}
    after = state(m)
    m.eval()
    with torch.no_grad():
        ev = m(xt)
    return {"name": name, "spec": spec, "smoothing": eps, "x_shape": shape, "x": x.double().flatten().tolist(),
            "labels": y.tolist(), "state": before, "logits": logits.detach().double().flatten().tolist(),
            "loss": loss.item(), "grads": grads, "state_after": after, "eval_logits": ev.double().flatten().tolist()}


def main():
    refs = {}
    for k, (m, spec) in REFS.items():
        assert names(m) == names(build(spec)), k  # the documented twin is torch_ref.py's model
        refs[k] = names(m)
    out = {"torch": torch.__version__, "refs": refs,
           "named": [{"spec": s, "names": names(build(s))} for s in NAMED],
           "cases": [case(i, *c) for i, c in enumerate(CASES)]}
    json.dump(out, sys.stdout, separators=(",", ":"))
    print()


if __name__ == "__main__":
    main()
