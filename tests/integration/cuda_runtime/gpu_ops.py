"""GPU ops through torch_py_test: a CUDA matmul (cuBLAS), a cuDNN conv2d, torch.compile of a
small function (a triton kernel through inductor) and a jiterator op (nvrtc). Each result is
checked against the CPU. Without a usable GPU the test prints a SKIPPED line and passes: the
target is tagged requires-gpu and is meant to run on GPU machines.

Prints one line `RESULT {json}` with what ran.
"""

import json
import os
import sys

import torch


def main() -> int:
    if not torch.cuda.is_available():
        print("SKIPPED: no usable CUDA device (torch.cuda.is_available() is False)")
        return 0
    result = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name(0),
        "ld_library_path_set": bool(os.environ.get("LD_LIBRARY_PATH")),
    }
    torch.manual_seed(0)

    a, b = torch.randn(512, 512), torch.randn(512, 512)
    product = (a.cuda() @ b.cuda()).cpu()
    torch.testing.assert_close(product, a @ b, rtol=1e-2, atol=1e-2)
    result["matmul"] = "ok"

    conv = torch.nn.Conv2d(3, 8, kernel_size=3, padding=1)
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        expected = conv(x)
        torch.backends.cudnn.enabled = True
        got = conv.cuda()(x.cuda()).cpu()
    torch.testing.assert_close(got, expected, rtol=1e-2, atol=1e-2)
    result["cudnn_conv2d"] = "ok"
    result["cudnn_version"] = torch.backends.cudnn.version()

    def f(t):
        return torch.sin(t) * 2.0 + t * t

    compiled = torch.compile(f)
    t = torch.randn(4096)
    torch.testing.assert_close(compiled(t.cuda()).cpu(), f(t), rtol=1e-4, atol=1e-4)
    result["torch_compile_triton"] = "ok"
    import triton

    result["triton"] = triton.__version__

    from torch.cuda.jiterator import _create_jit_fn

    fma = _create_jit_fn("template <typename T> T fma_plus_one(T x, T y) { return x * y + T(1); }")
    u, v = torch.randn(1000), torch.randn(1000)
    torch.testing.assert_close(fma(u.cuda(), v.cuda()).cpu(), u * v + 1)
    result["jiterator_nvrtc"] = "ok"

    print("RESULT " + json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
