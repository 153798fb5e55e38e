"""Runs the CUDA extension's kernel (needs a GPU: tagged requires-gpu)."""

import os

import torch

assert torch.__version__.startswith("2.14.1"), torch.__version__
assert torch.cuda.is_available(), "no GPU"
torch.ops.load_library(os.path.join(os.path.dirname(os.path.abspath(__file__)), "add_one.so"))
x = torch.arange(1000, dtype=torch.float32, device="cuda")
got = torch.ops.rules_torch_cuda.add_one(x)
assert torch.equal(got.cpu(), torch.arange(1000, dtype=torch.float32) + 1), got
print("cuda kernel ok on", torch.cuda.get_device_name())
