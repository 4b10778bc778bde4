"""Runs the PyTorch snippet of `crates/eeglens-nn/src/checkpoint.rs` (the
"From eeglens to PyTorch" section) exactly as the docs show it, on a run's
best checkpoint, and compares its logits with `eeglens forward` on the same
random batch.

    pip install torch safetensors numpy
    cargo build --release
    python3 tools/golden/checkpoint_snippet.py RUN_DIR [--eeglens target/release/eeglens]

Exits 1 when the logits differ by more than 1e-3 (relative to their scale).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file, save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def snippet():
    src = open(os.path.join(ROOT, "crates", "eeglens-nn", "src", "checkpoint.rs")).read()
    body = src.split("//! ```python\n")[1].split("//! ```")[0]
    return "\n".join(line[4:] if line.startswith("//! ") else line[3:] for line in body.splitlines())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("run")
    p.add_argument("--eeglens", default=os.path.join(ROOT, "target", "release", "eeglens"))
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        torch.manual_seed(0)
        x = torch.randn(4, 1, 24, 256)
        save_file({"input": x}, os.path.join(d, "x.safetensors"))
        subprocess.run(
            [a.eeglens, "forward", "--weights", os.path.join(a.run, "checkpoint-best.safetensors"),
             "--input", os.path.join(d, "x.safetensors"), "--out", os.path.join(d, "out.safetensors")],
            check=True,
        )
        ours = load_file(os.path.join(d, "out.safetensors"))["logits"]
        # The snippet's paths are relative to the directory that holds `run/` and `x.safetensors`.
        os.symlink(os.path.abspath(a.run), os.path.join(d, "run"))
        cwd = os.getcwd()
        os.chdir(d)
        try:
            ns = {}
            exec(snippet(), ns)
        finally:
            os.chdir(cwd)
        theirs = ns["logits"].detach()
    err = (theirs - ours).abs().max().item() / max(ours.abs().max().item(), 1e-6)
    print(f"eeglens forward:\n{ours}\nthe docs' torch snippet:\n{theirs}\nlargest relative difference {err:.2e}")
    sys.exit(0 if err < 1e-3 else 1)


if __name__ == "__main__":
    main()
