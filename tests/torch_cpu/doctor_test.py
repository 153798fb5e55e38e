"""The hub's doctor: reports the selected torch, and fails when a library cannot be resolved."""

import contextlib
import importlib.util
import io
import os
import shutil
import tempfile
import unittest


def _doctor():
    path = os.path.join(os.environ["RUNFILES_DIR"], "_main", "torch", "private", "doctor.py")
    spec = importlib.util.spec_from_file_location("doctor", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(doctor):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = doctor.main()
    return code, out.getvalue()


class DoctorTest(unittest.TestCase):
    def test_reports_cpu_build(self):
        code, out = _run(_doctor())
        self.assertEqual(code, 0, out)
        self.assertIn("variant:         cpu", out)
        self.assertIn("CUDA (build):    none", out)
        self.assertIn("libtorch_cpu.so", out)
        self.assertIn("every library resolves", out)

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
        self.assertIn("MISSING libzzz.so", out)


if __name__ == "__main__":
    unittest.main()
