"""Imports the pybind11 module torch_cc_extension built, through a torch_py_library."""

import importlib

import torch

# After torch: the module's undefined symbols come from the libraries torch loaded.
pyext = importlib.import_module("pyext")

assert pyext.built_against == "2.13.0", pyext.built_against
got = pyext.twice_plus(torch.tensor([1.0, 2.0]), 0.5)
assert torch.equal(got, torch.tensor([2.5, 4.5])), got
print("pybind module ok:", pyext.__file__, got.tolist())
