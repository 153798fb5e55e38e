import unittest

import torch
import torchvision

from classify import CLASSES, boxes_kept, model, predict, preprocess, synthetic_image


class ClassifyTest(unittest.TestCase):
    def test_builds_from_the_lock(self):
        self.assertEqual(torch.__version__.split("+")[0], "2.14.1")
        self.assertEqual(torchvision.__version__.split("+")[0], "0.29.1")

    def test_preprocess(self):
        batch = preprocess()(synthetic_image())
        self.assertEqual(tuple(batch.shape), (3, 64, 64))
        self.assertEqual(batch.dtype, torch.float32)
        # the disc's centre is white: (1 - mean) / std on every channel
        centre = batch[:, 32, 32]
        expected = (1 - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
        torch.testing.assert_close(centre, expected, atol=1e-4, rtol=0)

    def test_prediction_is_deterministic(self):
        label, probabilities = predict(synthetic_image())
        again, probabilities_again = predict(synthetic_image(), model())
        self.assertIn(label, CLASSES)
        self.assertEqual(label, again)
        torch.testing.assert_close(probabilities, probabilities_again)
        self.assertAlmostEqual(float(probabilities.sum()), 1.0, places=5)

    def test_native_ops_load(self):
        # nms runs in torchvision's own shared library (torchvision/_C.so), linked against torch's
        self.assertEqual(boxes_kept(0.5), [0, 2])
        self.assertEqual(boxes_kept(0.99), [0, 1, 2])

    def test_cuda_libraries_load_without_a_gpu(self):
        # The CUDA build on a machine without a GPU: torch runs on the CPU, and its CUDA
        # libraries (from the NVIDIA wheels in the same tree) are found by the loader.
        self.assertIsNotNone(torch.version.cuda)
        if not torch.cuda.is_available():
            import ctypes

            for soname in ("libcudart.so.13", "libcublas.so.13", "libcudnn.so.9"):
                ctypes.CDLL(soname)


if __name__ == "__main__":
    unittest.main()
