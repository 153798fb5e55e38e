"""The hub's doctor: reports the selected torch, and fails when a library cannot be resolved."""

import contextlib
import importlib.util
import io
import os
import shutil
import tempfile
import unittest


def _doctor():
    path = os.path.join(os.environ["RUNFILES_DIR"], "_main", "torch", "private", "tools", "doctor.py")
    spec = importlib.util.spec_from_file_location("doctor", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(doctor, *argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = doctor.main(list(argv))
    return code, out.getvalue()


class DoctorTest(unittest.TestCase):
    def test_reports_cpu_build(self):
        code, out = _run(_doctor())
        self.assertEqual(code, 0, out)
        self.assertIn("variant:         cpu", out)
        self.assertIn("CUDA (build):    none", out)
        self.assertRegex(out, r"libraries:       (\d+) in \d+ directories first on LD_LIBRARY_PATH: \1 resolve, 0 unresolved")
        self.assertIn("every library resolves", out)
        # A screenful: one line per fact, not one per library (--verbose lists them).
        self.assertLessEqual(len(out.splitlines()), 15, out)
        self.assertNotIn("libtorch_cpu.so", out)
        code, verbose = _run(_doctor(), "--verbose")
        self.assertEqual(code, 0, verbose)
        self.assertTrue(any(line.split()[:1] == ["ok"] and "/libtorch_cpu.so" in line for line in verbose.splitlines()), verbose)
        # torch's own RECORD alone lists thousands of files; none was changed.
        self.assertRegex(out, r"installed files: \d{4,} checked against the wheels' RECORD \(size, sha256\): none damaged")

    def test_damaged_files_are_named(self):
        import base64
        import hashlib

        tree = tempfile.mkdtemp()
        try:
            files = {"pkg/__init__.py": b"X = 1\n", "pkg/lib/libx.so": b"\x7fELF" * 100, "pkg/gone.py": b"Y = 2\n"}
            rows = []
            for path, data in files.items():
                os.makedirs(os.path.dirname(os.path.join(tree, path)), exist_ok=True)
                with open(os.path.join(tree, path), "wb") as f:
                    f.write(data)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                rows.append(f"{path},sha256={digest},{len(data)}")
            os.makedirs(os.path.join(tree, "pkg-1.0.dist-info"))
            with open(os.path.join(tree, "pkg-1.0.dist-info", "RECORD"), "w") as f:
                f.write("\n".join(rows + ["pkg-1.0.dist-info/RECORD,,"]) + "\n")
            doctor = _doctor()
            self.assertEqual(doctor.verify_installed([tree]), (3, []))
            with open(os.path.join(tree, "pkg/__init__.py"), "wb") as f:
                f.write(b"X = 6\n")  # same size, other content
            with open(os.path.join(tree, "pkg/lib/libx.so"), "r+b") as f:
                f.truncate(10)
            os.remove(os.path.join(tree, "pkg/gone.py"))
            checked, problems = doctor.verify_installed([tree])
        finally:
            shutil.rmtree(tree)
        self.assertEqual(checked, 3)
        self.assertEqual(
            sorted(p.replace(tree + "/", "") for p in problems),
            ["pkg/__init__.py: content differs from the wheel's (sha256)", "pkg/gone.py: missing", "pkg/lib/libx.so: 10 bytes, installed with 400"],
        )

    def test_unresolved_library_fails(self):
        import torch

        lib_dir = os.path.join(os.path.dirname(torch.__file__), "lib")
        broken = tempfile.mkdtemp()
        try:
            # A copy of libshm.so whose DT_NEEDED libc10.so is renamed to one that exists nowhere.
            with open(os.path.join(lib_dir, "libshm.so"), "rb") as f:
                data = f.read()
            self.assertIn(b"libc10.so\0", data)
            with open(os.path.join(broken, "libbroken.so"), "wb") as f:
                f.write(data.replace(b"libc10.so\0", b"libzzz.so\0"))
            os.environ["RULES_TORCH_LIB_DIRS"] = broken
            code, out = _run(_doctor())
        finally:
            shutil.rmtree(broken)
        self.assertEqual(code, 1, out)
        # The problem comes first, naming what is missing and what needs it.
        self.assertTrue(out.splitlines()[0].startswith("  MISSING libzzz.so (needed by "), out)
        self.assertIn("libbroken.so", out.splitlines()[0])
        self.assertIn("1 unresolved", out)


if __name__ == "__main__":
    unittest.main()
