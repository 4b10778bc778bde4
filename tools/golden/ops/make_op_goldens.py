"""Golden values for the eeglens-autodiff ops that the R-VGG goldens do not cover.

Writes crates/eeglens-autodiff/tests/golden_data/op_goldens.safetensors, read by
crates/eeglens-autodiff/tests/golden_ops.rs (the Rust tests never run Python).

Conventions as in fixtures/golden/pytorch/README.md: inputs are float32; every
output (values and gradients) is computed by PyTorch in float64 on those float32
inputs and then rounded to float32. `<case>.gy` is the upstream gradient dL/dy; the
gradients are dL/d<input> = vector-Jacobian products with gy. Labels are int64.
The Rust side checks `max|got - ref| <= 1e-4 * max|ref|` per tensor.

Usage: python3 make_op_goldens.py   (needs torch, numpy, safetensors)
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "..", "crates", "eeglens-autodiff", "tests", "golden_data", "op_goldens.safetensors")

torch.manual_seed(0)
out = {}


def rn(*shape):
    return torch.randn(*shape, dtype=torch.float32)


def distinct(*shape, spacing=0.05):
    """Pairwise distinct values in random order (no max-pool ties)."""
    n = int(np.prod(shape))
    grid = (torch.arange(n, dtype=torch.float32) - n / 2 + 0.5) * spacing
    return grid[torch.randperm(n)].reshape(shape)


def put(name, t):
    out[name] = t.detach().to(torch.float32).contiguous().numpy()


def case(prefix, fn, inputs, consts=None):
    """Stores the inputs, y = fn(*inputs) and the gradients for a random gy."""
    consts = consts or {}
    for k, v in inputs.items():
        put(f"{prefix}.{k}", v)
    for k, v in consts.items():
        out[f"{prefix}.{k}"] = v
    xs = {k: v.to(torch.float64).requires_grad_(True) for k, v in inputs.items()}
    y = fn(**xs)
    gy = rn(*y.shape)
    put(f"{prefix}.gy", gy)
    put(f"{prefix}.y", y)
    y.backward(gy.to(torch.float64))
    for k, v in xs.items():
        put(f"{prefix}.g{k}", v.grad)


# conv2d: stride and padding both non-trivial and different per axis, bias.
case("conv_sp", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 3), padding=(1, 2)),
     {"x": rn(2, 2, 6, 7), "w": rn(3, 2, 3, 2), "b": rn(3)})
# conv2d: two groups.
case("conv_g", lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2),
     {"x": rn(2, 4, 5, 5), "w": rn(6, 2, 3, 3), "b": rn(6)})
# conv2d: depthwise temporal (1, 5) kernel, no bias (the EEG shape of a temporal filter).
case("conv_dw", lambda x, w: F.conv2d(x, w, None, padding=(0, 2), groups=3),
     {"x": rn(2, 3, 4, 9), "w": rn(3, 1, 1, 5)})
# conv2d: spatial (4, 1) kernel with vertical stride.
case("conv_k1", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1)),
     {"x": rn(1, 3, 7, 3), "w": rn(2, 3, 4, 1), "b": rn(2)})
# max pool with overlapping windows (kernel > stride) and distinct values.
case("pool_ov", lambda x: F.max_pool2d(x, kernel_size=(3, 2), stride=(2, 1)), {"x": distinct(2, 2, 7, 6)})
# average pool, kernel (2, 3), stride (1, 2).
case("avg", lambda x: F.avg_pool2d(x, kernel_size=(2, 3), stride=(1, 2)), {"x": rn(2, 2, 5, 7)})
# element-wise
case("elu", lambda x: F.elu(x, alpha=1.3), {"x": rn(3, 5)})
case("leaky", lambda x: F.leaky_relu(x, negative_slope=0.1), {"x": rn(3, 5)})
case("square", lambda x: x * x, {"x": rn(3, 5)})
logx = torch.rand(3, 5) * 2.0
logx[0, 0] = 0.0
logx[1, 2] = -0.5
logx[2, 4] = 1e-9
case("log", lambda x: torch.log(torch.clamp_min(x, 1e-6)), {"x": logx})
# broadcasting add and mul.
case("add_bc", lambda a, b: a + b, {"a": rn(2, 1, 4), "b": rn(3, 1)})
case("mul_bc", lambda a, b: a * b, {"a": rn(2, 3, 2, 2), "b": rn(1, 3, 1, 1)})
case("linear_nb", lambda x, w: F.linear(x, w), {"x": rn(3, 6), "w": rn(2, 6)})


# batch norm, training: normalise with batch stats; running stats start at (0, 1)
# with momentum 1, so after the call they hold the batch mean and UNBIASED variance.
def bn_train(prefix, shape):
    c = shape[1]
    rm, rv = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)

    def f(x, gamma, beta):
        return F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=1.0, eps=1e-5)

    case(prefix, f, {"x": rn(*shape) * 2.0 + 0.5, "gamma": torch.rand(c) + 0.5, "beta": rn(c)})
    put(f"{prefix}.mean", rm)
    put(f"{prefix}.var_unbiased", rv)


bn_train("bn_train2d", (6, 3))
bn_train("bn_train4d", (3, 2, 3, 4))
bn_rm, bn_rv = rn(2) * 0.3, torch.rand(2) + 0.5
put("bn_eval4d.running_mean", bn_rm)
put("bn_eval4d.running_var", bn_rv)
case("bn_eval4d",
     lambda x, gamma, beta: F.batch_norm(x, bn_rm.double(), bn_rv.double(), gamma, beta, training=False, eps=1e-5),
     {"x": rn(3, 2, 3, 4), "gamma": torch.rand(2) + 0.5, "beta": rn(2)})

# weighted cross-entropy (PyTorch's weighted mean), loss gradient seeded with 1.
ce_logits, ce_labels, ce_w = rn(6, 3) * 2.0, torch.tensor([0, 2, 1, 2, 2, 0]), torch.tensor([0.2, 1.5, 3.0])
put("ce_w.logits", ce_logits)
out["ce_w.labels"] = ce_labels.numpy().astype(np.int64)
put("ce_w.weight", ce_w)
lg = ce_logits.double().requires_grad_(True)
loss = F.cross_entropy(lg, ce_labels, weight=ce_w.double())
loss.backward()
put("ce_w.loss", loss.reshape(1))
put("ce_w.glogits", lg.grad)

os.makedirs(os.path.dirname(OUT), exist_ok=True)
save_file(dict(sorted(out.items())), OUT, metadata={"generator": "tools/golden/ops/make_op_goldens.py",
                                                   "torch": torch.__version__})
print(f"wrote {len(out)} tensors to {os.path.normpath(OUT)}")
