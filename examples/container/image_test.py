"""The image's layers hold the program and everything it needs, and run it.

Stacks main_layers' tars in their order into an empty directory, as a container runtime stacks an
image's layers, and runs the entrypoint /app/bin/main there: no Bazel runfiles, no
LD_LIBRARY_PATH or PYTHONPATH of this test's, only what the layers hold. The base image's part,
python3, is this machine's: this example's Python toolchain is Bazel's autodetecting one, so the
image has no interpreter layer. No container runtime is needed: where the image would resolve an
absolute symlink (the runfiles' links to /opt/rules_torch) against its own root, the test points
it into the directory instead.
"""

import os
import subprocess
import sys
import tarfile
import tempfile
import unittest

# main_layers.layers.txt ($(rootpath :main_layers_listing) in BUILD.bazel): the layers' runfiles
# paths, in the order an image stacks them.
with open(sys.argv[1]) as listing:
    LAYERS = listing.read().split()


def stack(layers, root):
    """Extracts each layer over the ones before it, then points its absolute symlinks into `root`."""
    for layer in layers:
        subprocess.run(["tar", "-xf", layer, "-C", root], check=True)
        with tarfile.open(layer) as tar:
            links = [m for m in tar if m.issym() and m.linkname.startswith("/")]
        for link in links:
            path = os.path.join(root, link.name)
            os.remove(path)
            os.symlink(os.path.join(root, link.linkname.lstrip("/")), path)


class ImageTest(unittest.TestCase):
    def test_layers_run_the_program(self):
        self.assertEqual([os.path.basename(p) for p in LAYERS], ["main_layers.torch.tar", "main_layers.deps.tar", "main_layers.app.tar"])
        # In the test's own TEST_TMPDIR, which Bazel empties: a torch tree is 20,000 files.
        root = tempfile.mkdtemp(dir=os.environ["TEST_TMPDIR"])
        stack(LAYERS, root)
        # Only what a container's environment would have: no runfiles or paths of this test.
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNFILES_") and k not in ("PYTHONPATH", "LD_LIBRARY_PATH")}
        result = subprocess.run([os.path.join(root, "app", "bin", "main")], cwd=root, env=env, capture_output=True, text=True, timeout=240)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("torch 2.13.0+cpu", result.stdout)
        self.assertIn("fitted y = 2.000 * x + 1.000", result.stdout)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
