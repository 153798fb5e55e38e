"""A suite run by its main as one torch_py_test, whose test starts processes with spawn.

multiprocessing starts each spawned child by importing this module again (as __mp_main__), so the
suite starts only under `if __name__ == "__main__":` (README, "A suite as one test"): unguarded,
every worker would run the whole suite again, start workers of its own, and the run would hang.
The root module has no pytest, so unittest runs the suite here; `pytest.main([...])` in the same
place is the same.
"""

import sys
import unittest

if __name__ == "__main__":
    suite = unittest.defaultTestLoader.loadTestsFromName("tests.torch_cpu.spawn_cases")
    sys.exit(0 if unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful() else 1)
