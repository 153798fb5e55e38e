"""torch.utils.cpp_extension.load_inline inside a torch_py_test: a C++ function compiled against
the cell's torch headers (torch/include) with the host's g++ and ninja, loaded and called."""

import os
import unittest

SOURCE = """
#include <torch/extension.h>

torch::Tensor scaled_add(torch::Tensor a, torch::Tensor b, double alpha) {
  return a + alpha * b;
}
"""


class LoadInlineTest(unittest.TestCase):
    def test_compile_load_and_call(self):
        from torch.utils import cpp_extension

        import torch

        build = os.path.join(os.environ["TEST_TMPDIR"], "ext")
        os.makedirs(build, exist_ok=True)
        module = cpp_extension.load_inline(
            name="rules_torch_inline",
            cpp_sources=[SOURCE],
            functions=["scaled_add"],
            build_directory=build,
            verbose=False,
        )
        a = torch.arange(4, dtype=torch.float32)
        b = torch.ones(4)
        self.assertEqual(module.scaled_add(a, b, 2.0).tolist(), [2.0, 3.0, 4.0, 5.0])
        self.assertTrue(module.__file__.startswith(build), module.__file__)


if __name__ == "__main__":
    unittest.main()
