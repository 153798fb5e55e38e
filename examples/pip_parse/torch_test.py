"""torch from a pip.parse hub, through the rules_torch hub and launcher."""

import os
import unittest

import torch


class PipParseTorchTest(unittest.TestCase):
    def test_torch_from_pip_parse(self):
        self.assertEqual(torch.__version__, "2.13.0+cpu")
        # pip.parse keeps each wheel in its own repository (pypi_cpu_torch).
        self.assertIn("pypi_cpu_torch", torch.__file__)
        self.assertEqual(torch.ones(2, 2).sum().item(), 4.0)
        self.assertFalse(torch.cuda.is_available())

    def test_launcher_found_torch_libs(self):
        # The launcher found torch/lib in pip.parse's repository through the deps' files.
        self.assertIn("pypi_cpu_torch", os.environ.get("RULES_TORCH_LIB_DIRS", ""))


if __name__ == "__main__":
    unittest.main()
