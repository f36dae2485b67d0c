# Loads a safetensors file into torch tensors the way the safetensors
# library does (python3-safetensors is not packaged for Debian bookworm, so
# this follows the format description instead), checking what its Rust
# reader checks and our checksum. Not run by the tests: a manual check that
# PyTorch can use our files.
#   /usr/bin/python3 checkpoint/testdata/load_torch.py FILE
import hashlib
import json
import struct
import sys

import torch

DTYPES = {"F32": (torch.float32, 4), "I64": (torch.int64, 8)}


def load(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n <= 100_000_000 and 8 + n <= len(raw), "bad header length"
    assert n % 8 == 0, "header not padded to 8 bytes"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    assert all(isinstance(v, str) for v in meta.values())
    data = raw[8 + n:]
    end = 0
    out = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        dtype, size = DTYPES[info["dtype"]]
        begin, stop = info["data_offsets"]
        assert begin == end, "gap or overlap at " + name
        count = 1
        for d in info["shape"]:
            count *= d
        assert stop - begin == count * size, "shape/offset mismatch at " + name
        assert (8 + n + begin) % size == 0, "misaligned " + name
        buf = bytearray(data[begin:stop])
        t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"])
        end = stop
    assert end == len(data), "data does not end with the last tensor"
    if "checksum" in meta:
        assert hashlib.sha256(data).hexdigest() == meta["checksum"], "checksum mismatch"
    if "header_checksum" in meta:
        head = raw[8:8 + n]
        marker = b'"header_checksum":"'
        assert head.count(marker) == 1, "header_checksum not found"
        at = head.index(marker) + len(marker)
        sealed = raw[:8] + head[:at] + b"0" * 64 + head[at + 64:]
        assert hashlib.sha256(sealed).hexdigest() == meta["header_checksum"], "header checksum mismatch"
    return out, meta


if __name__ == "__main__":
    tensors, meta = load(sys.argv[1])
    for name, t in tensors.items():
        print(name, t.dtype, tuple(t.shape), t.reshape(-1)[:6].tolist())
    print(meta)
