"""Loads the TORCH_LIBRARY custom op that Bazel built against the same torch, and checks it."""

import os

import torch

assert torch.__version__ == "2.13.0+cpu", torch.__version__
library = os.path.join(os.path.dirname(os.path.abspath(__file__)), "my_ops.so")
torch.ops.load_library(library)
a = torch.tensor([1.0, 2.0, 3.0])
b = torch.tensor([10.0, 20.0, 30.0])
got = torch.ops.rules_torch_test.scaled_add(a, b, 0.5)
assert torch.equal(got, torch.tensor([1006.0, 1012.0, 1018.0])), got
print("custom op ok:", got.tolist())
