"""The suite that spawn_suite_test.py runs: a test that starts torch workers with spawn."""

import os
import sys
import unittest

import torch.multiprocessing as mp

import torch


def _norm(seed):
    """In a spawned worker: a seeded tensor's norm, and the file the worker imported as its main."""
    torch.manual_seed(seed)
    main = sys.modules.get("__mp_main__")
    return float(torch.randn(4, 4).norm()), os.path.basename(getattr(main, "__file__", "") or "")


class SpawnPoolTest(unittest.TestCase):
    def test_spawn_pool_of_torch_workers(self):
        with mp.get_context("spawn").Pool(2) as pool:
            results = pool.map(_norm, range(4))
        torch.manual_seed(0)
        self.assertAlmostEqual(results[0][0], float(torch.randn(4, 4).norm()), places=5)
        # Every worker ran the main module's top level again, as __mp_main__: why the main
        # starts the suite only under `if __name__ == "__main__":`.
        self.assertEqual({main for _, main in results}, {"spawn_suite_test.py"})
