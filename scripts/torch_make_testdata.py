#!/usr/bin/env python3
"""Writes model/testdata/torch_*.safetensors: tiny models made in PyTorch, for model/torch_test.go.

    /usr/bin/python3 scripts/torch_make_testdata.py [OUTDIR]     (default: model/testdata of this checkout)

Three models, the modules of torch_roundtrip.py with random weights and batch-norm statistics, saved as
safetensors with the metadata fmnist's loader needs (kind, arch or cnn_arch/mlp_arch, pixel_mean, pixel_std)
and without fmnist's checksum, as a file from elsewhere would be:

  torch_mlp.safetensors      mlp 784-16-10 (dropout on the input, batch norm, dropout)
  torch_cnn.safetensors      cnn widths 4-4-8-8-8, batch norm, 2x2 max-pools after convs 1, 2 and 3
  torch_cnn_mlp.safetensors  cnn 4-8 (pool after conv 0, dropout) -> features standardised -> mlp 8-16-12-10 (batch
                             norm, dropout)

and torch_inputs.safetensors: "pixels", six 28x28 pictures (values 0..255 as F32), and each model's eval-mode
logits for them, "logits_mlp", "logits_cnn", "logits_cnn_mlp". The Go test normalises the pixels with the
model file's pixel_mean/pixel_std, as predict does, and compares.
"""
import json, os, sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_roundtrip import CNNMLP, ROOT, build, normalise, save_file  # noqa: E402

META = {"pixel_mean": "0.286", "pixel_std": "0.353"}
SPECS = {
    "mlp": {"kind": "mlp", "in": 784, "hidden": [16], "input_dropout": 0.1, "batch_norm": True, "dropout": 0.2,
            "classes": 10},
    "cnn": {"kind": "cnn", "in": 1, "widths": [4, 4, 8, 8, 8], "pool_after": [1, 2, 3], "batch_norm": True,
            "classes": 10},
    "stack_cnn": {"kind": "cnn", "in": 1, "widths": [4, 8], "pool_after": [0], "dropout": 0.25, "classes": 10},
    "stack_mlp": {"kind": "mlp", "in": 8, "hidden": [16, 12], "batch_norm": True, "dropout": 0.3, "classes": 10},
}


def randomise(model, x):
    """Gives the model weights as fmnist initialises them (Kaiming normal, fan-in) and random biases, and batch
    norms statistics from x and random affine parameters, so that a mix-up of any tensor shows in the logits."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.momentum = None  # running statistics: the plain mean over the batches
        model.train()
        for i in range(3):
            model(x + 0.3 * torch.randn(x.shape))
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.momentum = 0.1
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    return model.eval()


def pictures():
    g = torch.Generator().manual_seed(7)
    y, x = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    shirt = torch.zeros(28, 28)
    shirt[4:26, 6:22] = 200
    shirt[4:12, 0:28] = 180
    return torch.stack([
        torch.zeros(28, 28),                                    # blank
        torch.full((28, 28), 255.0),                            # white
        torch.randint(0, 256, (28, 28), generator=g).float(),   # noise
        shirt,                                                  # a rough shirt
        (x + y) * 255 / 54,                                     # a ramp
        (torch.rand(28, 28, generator=g) > 0.8).float() * 255,  # sparse dots
    ]).round()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "train", "testdata")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    pixels = pictures()
    x = normalise(pixels.to(torch.uint8), META)
    mlp, cnn = randomise(build(SPECS["mlp"]), x), randomise(build(SPECS["cnn"]), x)
    stack = CNNMLP(build(SPECS["stack_cnn"]), build(SPECS["stack_mlp"]), 8)
    randomise(stack.cnn, x)
    with torch.no_grad():
        feats = stack.cnn.backbone(x)
        stack.feature_mean.copy_(feats.mean(0))
        stack.feature_std.copy_(feats.std(0) + 0.1)
    randomise(stack.mlp, (feats - stack.feature_mean) / stack.feature_std)
    inputs = {"pixels": pixels}
    for kind, model, meta in (
            ("mlp", mlp, {"kind": "mlp", "arch": json.dumps(SPECS["mlp"])}),
            ("cnn", cnn, {"kind": "cnn", "arch": json.dumps(SPECS["cnn"])}),
            ("cnn_mlp", stack, {"kind": "cnn_mlp", "cnn_arch": json.dumps(SPECS["stack_cnn"]),
                                "mlp_arch": json.dumps(SPECS["stack_mlp"])})):
        save_file(os.path.join(out, f"torch_{kind}.safetensors"), model.state_dict(), {**meta, **META})
        with torch.no_grad():
            inputs["logits_" + kind] = model(x)
    save_file(os.path.join(out, "torch_inputs.safetensors"), inputs, {"about": "scripts/torch_make_testdata.py"})
    for name in sorted(os.listdir(out)):
        if name.startswith("torch_"):
            print(f"{os.path.join(out, name)}: {os.path.getsize(os.path.join(out, name))} bytes")


if __name__ == "__main__":
    main()
