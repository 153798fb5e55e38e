"""Module extensions of rules_torch.

```starlark
torch = use_extension("@rules_torch//torch:extensions.bzl", "torch")
torch.wheels(hub = "torch", lock = "//third_party:torch.lock.json", default_variant = "cpu")
use_repo(torch, "torch")
```
"""

load("//torch/private/extension:extension.bzl", _torch = "torch")

torch = _torch
