#!/usr/bin/env python3
"""Tiles an epoch store K times into a larger one, for memory benchmarks only.

Usage: tile_store.py IN.safetensors K OUT.safetensors

Copy k of the windows gets its own subjects (`sub-<id>-t<k>`), so the subject split and the
class balance of IN hold in OUT, which is a valid `eeglens-epochs/1` store (content hash
recomputed by the scheme of `eeglens_data::store`). Standard library only; OUT is streamed,
never held in memory. The windows repeat: OUT is for measuring memory and throughput, not
accuracy.
"""
import hashlib
import json
import struct
import sys


def main():
    src, k, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(src, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n

        def tensor(name):
            a, b = header[name]["data_offsets"]
            f.seek(base + a)
            return f.read(b - a)

        x, y, s, p = (tensor(t) for t in ("x", "y", "subject", "split"))
    meta = dict(header["__metadata__"])
    subjects = json.loads(meta["subjects"])
    n_sub = len(subjects)
    meta["subjects"] = json.dumps([f"{s}-t{c}" for c in range(k) for s in subjects], separators=(",", ":"))
    settings = json.loads(meta["settings"])
    settings["tiled"] = {"from": src, "copies": k}
    meta["settings"] = json.dumps(settings, separators=(",", ":"))
    subj = [struct.unpack_from("<i", s, 4 * i)[0] for i in range(len(s) // 4)]
    s_all = b"".join(struct.pack(f"<{len(subj)}i", *[v + c * n_sub for v in subj]) for c in range(k))
    y_all, p_all = y * k, p * k
    n_win = len(y) // 8
    shape_x = header["x"]["shape"]
    parts = [("x", "F32", [n_win * k] + shape_x[1:], len(x) * k), ("y", "I64", [n_win * k], len(y_all)),
             ("subject", "I32", [n_win * k], len(s_all)), ("split", "U8", [n_win * k], len(p_all))]
    # The content hash: each tensor's name, length and bytes, then the metadata but the hash, by key.
    h = hashlib.sha256()
    h.update(b"x" + struct.pack("<Q", len(x) * k))
    for _ in range(k):
        h.update(x)
    for name, data in (("y", y_all), ("subject", s_all), ("split", p_all)):
        h.update(name.encode() + struct.pack("<Q", len(data)) + data)
    meta.pop("content_sha256", None)
    for key in sorted(meta):
        kb, vb = key.encode(), meta[key].encode()
        h.update(struct.pack("<Q", len(kb)) + kb + struct.pack("<Q", len(vb)) + vb)
    meta["content_sha256"] = h.hexdigest()
    out = {"__metadata__": meta}
    at = 0
    for name, dtype, shape, size in parts:
        out[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + size]}
        at += size
    hb = json.dumps(out, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb)
        for _ in range(k):
            f.write(x)
        f.write(y_all + s_all + p_all)


if __name__ == "__main__":
    main()
