"""Only the program's dependencies are importable: not the interpreter's own site-packages.

Usage: check_hermetic.py MODULE...: each MODULE (installed in the interpreter's site-packages,
absent from the lock) must not be importable; torch (a dependency) must be. Exit 0 when so.
"""

import importlib.util
import sys

leaks = {name: importlib.util.find_spec(name).origin for name in sys.argv[1:] if importlib.util.find_spec(name)}
torch = importlib.util.find_spec("torch")
print("sys.path:", sys.path)
print("importable although not a dependency:", leaks)
print("torch:", torch and torch.origin)
sys.exit(0 if not leaks and torch and sys.argv[1:] else 1)
