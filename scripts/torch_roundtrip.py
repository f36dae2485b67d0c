#!/usr/bin/env python3
"""Loads fmnist model files into PyTorch and checks that both compute the same logits.

    /usr/bin/python3 scripts/torch_roundtrip.py [--n 200] [--fmnist BIN] [--tol 1e-4] MODEL.safetensors...

For each file (mlp, cnn or cnn_mlp, as `fmnist run` writes them) it builds the PyTorch module from the
architecture in the metadata, loads the weights with load_state_dict(strict=True), and runs the first N test
images, read from the IDX file and normalised with the file's pixel_mean and pixel_std. fmnist's logits for
the same images come from `fmnist data export --split test --n N` and `fmnist predict --json --logits` on
those PNGs (a 28×28 picture goes into the model unchanged). Then the other direction: each module's
state_dict, written back by PyTorch (save_file below, no checksum), goes through fmnist predict the same way.
It prints the largest absolute difference of the logits per file and direction, and exits 1 when one is over
--tol.

BIN defaults to a binary built from this checkout with `go build`. Data: FMNIST_DIR (default
/usr/share/datasets/fashion-mnist). Needs python3-torch; python3-safetensors is not packaged for Debian, so
load_file below reads the format itself. torch_make_testdata.py imports this file for the modules.
"""
import argparse, gzip, json, os, subprocess, sys, tempfile

import torch
import torch.nn as nn

DATA = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DTYPES = {"F32": torch.float32, "I64": torch.int64}


def save_file(path, tensors, meta):
    """Writes a safetensors file: int64 tensors first, so that every tensor is aligned to its size."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors, key=lambda n: tensors[n].dtype != torch.int64):
        b = tensors[name].detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": {torch.float32: "F32", torch.int64: "I64"}[tensors[name].dtype],
                        "shape": list(tensors[name].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))


def load_file(path):
    """Reads a safetensors file: ({name: tensor}, {metadata key: string})."""
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = bytearray(raw[8 + n:])
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        dtype = DTYPES[t["dtype"]]
        flat = torch.frombuffer(data[begin:end], dtype=dtype) if end > begin else torch.zeros(0, dtype=dtype)
        tensors[name] = flat.reshape(t["shape"])
    return tensors, meta


class CNN(nn.Module):
    """The convolutional model: head(backbone(x)), as /work/shared/bench/torch_ref.py's."""

    def __init__(self, backbone, head):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, x):
        return self.head(self.backbone(x))


class CNNMLP(nn.Module):
    """A CNN's features, standardised with the training features' statistics, into an MLP."""

    def __init__(self, cnn, mlp, dim):
        super().__init__()
        self.cnn, self.mlp = cnn, mlp
        self.register_buffer("feature_mean", torch.zeros(dim))
        self.register_buffer("feature_std", torch.ones(dim))

    def forward(self, x):
        return self.mlp((self.cnn.backbone(x) - self.feature_mean) / self.feature_std)


def build(s):
    """The PyTorch twin of an nn.Spec (the "arch" metadata), as nn/doc.go writes it."""
    bn, p, k = s.get("batch_norm", False), s.get("dropout", 0), s.get("classes") or 10
    if s["kind"] == "mlp":
        layers, c = [nn.Flatten()], s.get("in") or 784
        if s.get("input_dropout", 0) > 0:
            layers.append(nn.Dropout(s["input_dropout"]))
        for h in s.get("hidden") or [512, 256]:
            layers += [nn.Linear(c, h, bias=not bn)] + [nn.BatchNorm1d(h)] * bn + [nn.ReLU()] + [nn.Dropout(p)] * (p > 0)
            c = h
        return nn.Sequential(*layers, nn.Linear(c, k))
    pools = s.get("pool_after")
    if pools is None:
        pools = [] if s.get("widths") else [1, 2, 3]
    layers, c = [], s.get("in") or 1
    for i, o in enumerate(s.get("widths") or [32, 64, 128, 256, 256]):
        layers += [nn.Conv2d(c, o, 3, padding=1, bias=not bn)] + [nn.BatchNorm2d(o)] * bn + [nn.ReLU()]
        layers += [nn.MaxPool2d(2)] * (i in pools)
        c = o
    layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten()] + [nn.Dropout(p)] * (p > 0)
    return CNN(nn.Sequential(*layers), nn.Linear(c, k))


def load_model(path):
    """The module of an fmnist model file, weights loaded strictly, in eval mode; and the metadata."""
    tensors, meta = load_file(path)
    if meta["kind"] == "cnn_mlp":
        cnn, mlp = build(json.loads(meta["cnn_arch"])), build(json.loads(meta["mlp_arch"]))
        model = CNNMLP(cnn, mlp, tensors["feature_mean"].numel())
    else:
        model = build(json.loads(meta["arch"]))
    model.load_state_dict(tensors, strict=True)
    return model.eval(), meta


def normalise(pixels, meta):
    """(pixel/255 - mean)/std in float32, as fmnist's loader; pixels (N, 28, 28) uint8 -> (N, 1, 28, 28)."""
    mean = torch.tensor(float(meta["pixel_mean"]), dtype=torch.float32)
    std = torch.tensor(float(meta["pixel_std"]), dtype=torch.float32)
    return ((pixels.float() / 255 - mean) / std).unsqueeze(1)


def test_images(n):
    with gzip.open(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")) as f:
        b = f.read()
    return torch.frombuffer(bytearray(b[16:16 + n * 784]), dtype=torch.uint8).reshape(n, 28, 28)


def fmnist_logits(fmnist, models, n, tmp):
    """fmnist's logits of the first n test images for each model, through exported PNGs."""
    pngs = os.path.join(tmp, "png")
    subprocess.run([fmnist, "data", "export", "--data", DATA, "--split", "test", "--n", str(n), pngs], check=True,
                   stdout=subprocess.DEVNULL)
    files = sorted(os.path.join(pngs, f) for f in os.listdir(pngs))
    out = {}
    for m in models:
        res = subprocess.run([fmnist, "predict", "--json", "--logits", m] + files, check=True, capture_output=True)
        out[m] = torch.tensor([im["logits"] for im in json.loads(res.stdout)["images"]], dtype=torch.float32)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--n", type=int, default=200, help="test images (default 200)")
    ap.add_argument("--fmnist", help="the fmnist binary (default: go build this checkout)")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest allowed |logit difference| (default 1e-4)")
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    loaded = {path: load_model(path) for path in a.models}
    with tempfile.TemporaryDirectory() as tmp:
        fmnist = a.fmnist
        if not fmnist:
            fmnist = os.path.join(tmp, "fmnist")
            subprocess.run(["go", "build", "-o", fmnist, "./cmd/fmnist"], cwd=ROOT, check=True)
        # The other direction: each module's state_dict, written by PyTorch (no checksum), read by fmnist.
        resaved = {}
        for i, (path, (model, meta)) in enumerate(loaded.items()):
            resaved[path] = os.path.join(tmp, f"torch_{i}_{os.path.basename(path)}")
            save_file(resaved[path], model.state_dict(),
                      {k: v for k, v in meta.items() if k not in ("checksum", "header_checksum", "format")})
        theirs = fmnist_logits(fmnist, a.models + list(resaved.values()), a.n, tmp)
    pixels = test_images(a.n)
    worst = 0.0
    for path, (model, meta) in loaded.items():
        with torch.no_grad():
            ours = model(normalise(pixels, meta))
        for direction, go in (("fmnist -> PyTorch", theirs[path]), ("PyTorch -> fmnist", theirs[resaved[path]])):
            diff = (ours - go).abs().max().item()
            agree = (ours.argmax(1) == go.argmax(1)).sum().item()
            worst = max(worst, diff)
            print(f"{path} ({meta['kind']}), {direction}: {a.n} test images, max |logit difference| {diff:.3g}, "
                  f"argmax agrees on {agree}/{a.n}")
    if worst > a.tol:
        print(f"FAIL: {worst:.3g} > {a.tol:g}")
        sys.exit(1)


if __name__ == "__main__":
    main()
