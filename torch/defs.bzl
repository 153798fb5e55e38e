"""Rules for torch programs: torch_py_library, torch_py_binary, torch_py_test, C++ extensions
built against the same torch (torch_cc_extension; plain cc_* targets depend on `@torch//:libtorch`),
and venvs of them for editors and notebooks (torch_py_venv).

```starlark
load("@rules_torch//torch:defs.bzl", "torch_py_binary", "torch_py_library", "torch_py_test")

torch_py_library(name = "model", srcs = ["model.py"], deps = ["@torch//:torch"])
torch_py_binary(name = "train", srcs = ["train.py"], deps = [":model"])
torch_py_test(name = "model_test", srcs = ["model_test.py"], deps = [":model"])
```

`torch_py_binary` and `torch_py_test` run the program behind a small launcher that puts the
directories of every shared library in the program's dependencies (torch's own, the NVIDIA
wheels', triton's; from rules_torch hubs or rules_python `pip.parse` hubs alike) first on
`LD_LIBRARY_PATH`, points triton at the driver's `libcuda.so.1` when the loader cannot find it,
and runs Python with only the program's dependencies importable (`-S -s`, as in a venv). It works
under `bazel run`, `bazel test` and when `bazel-bin/<target>` is executed directly.

Each of the three also declares `<name>.venv` (tagged `manual`): `bazel run //:train.venv` makes a
standard venv at `.venv` in the workspace whose `bin/python` imports what the target imports,
the selected variant's torch included, for editors, type checkers and notebooks (torch_py_venv).
"""

load(
    "//torch/private/macros:py.bzl",
    _torch_cc_extension = "torch_cc_extension",
    _torch_py_binary = "torch_py_binary",
    _torch_py_image_layers = "torch_py_image_layers",
    _torch_py_library = "torch_py_library",
    _torch_py_test = "torch_py_test",
)
load("//torch/private/rules:runtime.bzl", _TorchRuntimeInfo = "TorchRuntimeInfo", _torch_runtime_aspect = "torch_runtime_aspect")
load("//torch/private/rules:venv.bzl", _torch_py_venv = "torch_py_venv")

torch_py_library = _torch_py_library
torch_py_binary = _torch_py_binary
torch_py_test = _torch_py_test
torch_py_image_layers = _torch_py_image_layers
torch_cc_extension = _torch_cc_extension
torch_py_venv = _torch_py_venv
TorchRuntimeInfo = _TorchRuntimeInfo
torch_runtime_aspect = _torch_runtime_aspect
