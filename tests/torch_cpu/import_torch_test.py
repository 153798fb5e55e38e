"""torch 2.13.0+cpu from the rules_torch spoke imports and computes, with no CUDA."""

import os
import sys
import unittest


def _tree():
    import torch

    return os.path.dirname(os.path.dirname(torch.__file__))


def _shared():
    """Whether the launcher reads a shared tree (nothing may write into it, and its pycs were made
    when it was installed): Bazel's own, or one of a machine's tree cache; not one it installed
    from the wheels for this run alone (into TEST_TMPDIR, or outside a test the user's cache)."""
    private = os.environ.get("TEST_TMPDIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "rules_torch", "trees")
    return not os.path.realpath(_tree()).startswith(os.path.realpath(private) + os.sep)


class ImportTorchTest(unittest.TestCase):
    def test_version_and_origin(self):
        import torch

        self.assertEqual(torch.__version__, "2.13.0+cpu")
        # From the spoke's single site-packages tree, not from the interpreter's own.
        # (where the install action left it, or installed from the wheels where it is not on the
        # disk: either way it holds the cell's stamp).
        self.assertIn(os.sep + "site-packages" + os.sep + "torch", torch.__file__)
        self.assertTrue(os.path.isfile(os.path.join(os.path.dirname(os.path.dirname(torch.__file__)), ".rules_torch_stamp")))

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
        if not _shared():
            self.skipTest("a tree the launcher installed from the wheels gets pycs as Python imports")
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

    def test_tree_not_staged_and_not_written(self):
        # A test's runfiles hold the tree's stamp, not the tree (which a sandbox would stage one
        # symlink per file), and nothing the test imports writes a pyc into the shared tree.
        if os.environ.get("RUNFILES_DIR"):
            staged = [d for d, _, _ in os.walk(os.environ["RUNFILES_DIR"]) if os.path.basename(d) == "site-packages"]
        else:
            with open(os.environ["RUNFILES_MANIFEST_FILE"]) as f:
                staged = [line for line in f if line.split(" ")[0].endswith("/site-packages")]
        self.assertEqual(staged, [])
        tree = _tree()
        with open(os.path.join(tree, ".rules_torch_stamp")) as f:
            self.assertRegex(f.read(), r"^[0-9a-f]{64}\n$")
        # A shared tree is read-only in use; a tree the launcher installed for this run is its own.
        self.assertEqual(sys.dont_write_bytecode, _shared())
        if _shared():
            # A test suite in the tree has no pyc of the install's: importing it writes none.
            import sympy.core.tests  # noqa: F401 - imported for the side effect it must not have

            self.assertFalse(os.path.exists(os.path.join(tree, "sympy", "core", "tests", "__pycache__")))

    def test_hermetic_sys_path(self):
        # -S -s: the interpreter's own site-packages is not importable, as in a venv.
        import sysconfig

        self.assertNotIn(sysconfig.get_paths()["purelib"], sys.path)


if __name__ == "__main__":
    unittest.main()
