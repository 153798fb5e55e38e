import sys
import unittest

import torch

from model import train


@unittest.skipUnless(torch.cuda.is_available(), "no CUDA device (run with --config=cuda130 on a GPU machine)")
class GpuTest(unittest.TestCase):
    def test_trains_on_the_gpu(self):
        net, accuracy = train(torch.device("cuda"))
        self.assertEqual(next(net.parameters()).device.type, "cuda")
        self.assertGreater(accuracy, 0.95)

    def test_cudnn_conv(self):
        conv = torch.nn.Conv2d(3, 8, 3).cuda()
        out = conv(torch.randn(2, 3, 16, 16, device="cuda"))
        self.assertEqual(tuple(out.shape), (2, 8, 14, 14))
        self.assertTrue(torch.backends.cudnn.is_available())


if __name__ == "__main__":
    if not torch.cuda.is_available():
        print(f"SKIPPED: no CUDA device (torch {torch.__version__}, CUDA build: {torch.version.cuda})", file=sys.stderr)
    unittest.main()
