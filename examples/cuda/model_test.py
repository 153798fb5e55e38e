import ctypes
import unittest

import torch

from model import train

# What a CUDA 13 build of torch opens by soname at run time (from the NVIDIA wheels in the
# same tree): the loader must find each under rules_torch's launcher, GPU or not.
CUDA_LIBRARIES = ("libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13", "libcudnn.so.9", "libcusparse.so.12", "libnccl.so.2")


class ModelTest(unittest.TestCase):
    def test_trains_on_the_cpu(self):
        _, accuracy = train(torch.device("cpu"))
        self.assertGreater(accuracy, 0.95)

    def test_build_matches_the_config(self):
        # --config=cpu: torch 2.13.0's CPU build; --config=cuda130: torch 2.14.1 for CUDA 13.
        if torch.version.cuda is None:
            self.assertTrue(torch.__version__.startswith("2.13.0"), torch.__version__)
            self.assertFalse(torch.cuda.is_available())
        else:
            self.assertTrue(torch.__version__.startswith("2.14.1"), torch.__version__)
            self.assertEqual(torch.version.cuda.split(".")[0], "13")

    def test_cuda_libraries_load(self):
        if torch.version.cuda is None:
            self.skipTest("the CPU build has no CUDA libraries")
        for soname in CUDA_LIBRARIES:
            with self.subTest(soname=soname):
                ctypes.CDLL(soname)
        # cuDNN is linked into torch; its version proves torch found the wheel's library.
        self.assertGreaterEqual(torch.backends.cudnn.version(), 90000)


if __name__ == "__main__":
    unittest.main()
