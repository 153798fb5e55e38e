"""The providers a user of rules_torch can meet, in one place.

```starlark
load("@rules_torch//torch:providers.bzl", "TorchCcInfo", "TorchCellInfo", "TorchRuntimeInfo")
```

- `TorchRuntimeInfo`: what a torch program needs at run time from its dependencies (library
  directories and cell trees); `torch_runtime_aspect` (defs.bzl) attaches it.
- `TorchCellInfo`: one lock cell's installed tree, its stamp and how to install it again
  (`@<hub>//:torch`'s cell, through the spoke's `:tree`).
- `TorchCcInfo`: the compile settings a torch wheel requires of C++ built against its libtorch
  (`@<hub>//:libtorch`).
"""

load("//torch/private/rules:cc.bzl", _TorchCcInfo = "TorchCcInfo")
load("//torch/private/rules:cell_tree.bzl", _TorchCellInfo = "TorchCellInfo")
load("//torch/private/rules:runtime.bzl", _TorchRuntimeInfo = "TorchRuntimeInfo")

TorchCcInfo = _TorchCcInfo
TorchCellInfo = _TorchCellInfo
TorchRuntimeInfo = _TorchRuntimeInfo
