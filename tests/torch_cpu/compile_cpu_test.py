"""torch.compile on CPU inside a torch_py_test: inductor generates C++ against the headers of
the cell's torch (torch/include, read where the tree lies) and compiles it with the host's g++."""

import glob
import os
import unittest


class CompileCpuTest(unittest.TestCase):
    def test_inductor_compiles_cpp(self):
        cache = os.path.join(os.environ["TEST_TMPDIR"], "inductor")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
        import torch

        def f(x, y):
            return torch.sin(x) * y + torch.cos(y).sum()

        compiled = torch.compile(f, backend="inductor")
        x = torch.randn(64, 32)
        y = torch.randn(64, 32)
        torch.testing.assert_close(compiled(x, y), f(x, y))
        # The kernel was C++ built here (not a Python fallback): its shared object is in the cache.
        built = glob.glob(os.path.join(cache, "**", "*.so"), recursive=True)
        self.assertTrue(built, f"no compiled kernel under {cache}")
        headers = os.path.join(os.path.dirname(torch.__file__), "include", "ATen", "ATen.h")
        self.assertTrue(os.path.isfile(headers), headers)


if __name__ == "__main__":
    unittest.main()
