"""torch from a pip.parse hub, through the rules_torch hub and launcher (--config=cpu or
--config=cuda130)."""

import ctypes
import os
import unittest

import torch

# pip.parse keeps each wheel in its own repository (pypi_cpu_torch, pypi_cu130_nvidia_cudnn_cu13, ...).
HUB = "pypi_cu130" if torch.version.cuda else "pypi_cpu"


class PipParseTorchTest(unittest.TestCase):
    def test_torch_from_pip_parse(self):
        expected = "2.14.1" if torch.version.cuda else "2.13.0+cpu"
        self.assertTrue(torch.__version__.startswith(expected), torch.__version__)
        self.assertIn(f"{HUB}_torch", torch.__file__)
        self.assertEqual(torch.ones(2, 2).sum().item(), 4.0)

    def test_launcher_found_torch_libs(self):
        # The launcher found torch/lib in pip.parse's repository through the deps' files.
        self.assertIn(f"{HUB}_torch", os.environ.get("RULES_TORCH_LIB_DIRS", ""))

    def test_cuda_libraries_load(self):
        # The NVIDIA wheels are separate pip.parse repositories, where torch's $ORIGIN RUNPATHs
        # never reach: the launcher's library path makes them loadable, GPU or not.
        if torch.version.cuda is None:
            self.skipTest("the CPU build has no CUDA libraries")
        for soname in ("libcudart.so.13", "libcublas.so.13", "libcudnn.so.9", "libnccl.so.2"):
            with self.subTest(soname=soname):
                ctypes.CDLL(soname)
        self.assertGreaterEqual(torch.backends.cudnn.version(), 90000)


if __name__ == "__main__":
    unittest.main()
