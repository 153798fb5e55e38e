"""torch 2.13.0+cpu from the rules_torch spoke imports and computes, with no CUDA."""

import os
import sys
import unittest


class ImportTorchTest(unittest.TestCase):
    def test_version_and_origin(self):
        import torch

        self.assertEqual(torch.__version__, "2.13.0+cpu")
        # From the spoke's single site-packages tree, not from the interpreter's own.
        self.assertIn(os.sep + "site-packages" + os.sep + "torch", torch.__file__)
        self.assertIn("torch_cpu__cpu_linux_x86_64_cp311", torch.__file__)

    def test_tree_read_where_it_lies(self):
        # The launcher puts the cell's tree itself on sys.path, not the sandbox's copy of it
        # (one symlink per file, which every import would resolve): torch's files are no links.
        import torch

        self.assertEqual(os.path.realpath(torch.__file__), torch.__file__)
        sandboxed = [p for p in os.environ.get("RULES_TORCH_LIB_DIRS", "").split(os.pathsep) if p and os.path.realpath(p) != p]
        self.assertEqual(sandboxed, [])

    def test_tensor_op(self):
        import torch

        a = torch.arange(6, dtype=torch.float32).reshape(2, 3)
        b = torch.ones(3, 2)
        self.assertEqual((a @ b).tolist(), [[3.0, 3.0], [12.0, 12.0]])

    def test_no_cuda(self):
        import torch

        self.assertFalse(torch.cuda.is_available())
        self.assertIsNone(torch.version.cuda)

    def test_imported_modules_have_fetch_time_pycs(self):
        # The cell's install action byte-compiles the tree: nothing `import torch` loads from it
        # is compiled again inside the sandbox (whose writes are thrown away after each run).
        import torch

        spoke = os.path.dirname(os.path.dirname(torch.__file__))
        from_spoke = [m for m in list(sys.modules.values()) if (getattr(m, "__file__", None) or "").startswith(spoke + os.sep)]
        sources = [m for m in from_spoke if m.__file__.endswith(".py")]
        self.assertGreater(len(sources), 500)
        missing = [m.__name__ for m in sources if not (m.__cached__ and os.path.isfile(m.__cached__))]
        self.assertEqual(missing, [])
        # The spoke's pycs are unchecked-hash ones (PEP 552 flags 0b01); a pyc that Python wrote
        # itself while importing (where the sandbox lets it write) would be timestamp-based.
        not_ours = []
        for m in sources:
            with open(m.__cached__, "rb") as f:
                if int.from_bytes(f.read(8)[4:8], "little") != 0b01:
                    not_ours.append(m.__name__)
        self.assertEqual(not_ours, [])

    def test_hermetic_sys_path(self):
        # -S -s: the interpreter's own site-packages is not importable, as in a venv.
        self.assertFalse(any(p.endswith("site-packages") and "runfiles" not in p and "external" not in p for p in sys.path), sys.path)


if __name__ == "__main__":
    unittest.main()
