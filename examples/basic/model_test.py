import unittest

import torch

from model import fit


class FitTest(unittest.TestCase):
    def test_fit_recovers_line(self):
        layer = fit()
        self.assertAlmostEqual(layer.weight.item(), 2.0, places=2)
        self.assertAlmostEqual(layer.bias.item(), 1.0, places=2)

    def test_cpu_build(self):
        self.assertTrue(torch.__version__.startswith("2."))
        self.assertFalse(torch.cuda.is_available())


if __name__ == "__main__":
    unittest.main()
