"""Makes or refreshes the venv of a torch_py_venv target; its launcher runs this under `bazel run`.

    make_venv.py RUNFILES MANIFEST [PATH]

MANIFEST (written by venv.bzl at analysis, a path under RUNFILES) says what the venv holds: the
cells (their Python), the import roots (a cell's tree, or a probe file whose real directory, some
levels up, is the root). The venv is standard: `pyvenv.cfg`, `bin/python` linked to the Python
running this (the target's interpreter, resolved: an autodetected toolchain's wrapper becomes the
`python3` it found), and one `.pth` file that puts the roots on `sys.path`. Nothing is copied.

PATH is relative to the directory `bazel run` was typed in (BUILD_WORKING_DIRECTORY); default
`.venv` in the workspace (BUILD_WORKSPACE_DIRECTORY). The venv is made in a directory beside PATH
and moved there with a rename: an existing venv is replaced whole, never left half-updated.
Stdlib only: it runs with `-S -s` on whatever interpreter the venv gets.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import types
import venv

# pyvenv.cfg's key that marks a venv rules_torch made (other tools add keys of their own: uv, virtualenv).
MARKER = "rules_torch"
PTH = "_rules_torch.pth"


class VenvError(Exception):
    """A problem the user can fix; printed without a traceback."""


def _free_threaded() -> bool:
    return "t" in getattr(sys, "abiflags", "")


def _python_tag() -> str:
    return "{}.{}{}".format(*sys.version_info[:2], "t" if _free_threaded() else "")


def check_python(manifest: dict, interpreter: str) -> None:
    """The running Python must be the one every cell is locked for (torch's compiled modules)."""
    wanted = sorted({cell["python"] for cell in manifest["cells"]})
    if not wanted:
        return
    target = manifest["target"]
    if len(wanted) > 1:
        cells = ", ".join(f"{c['cell']} (Python {c['python']})" for c in manifest["cells"])
        raise VenvError(f"{target}: its cells are locked for different Pythons ({cells}); one venv has one Python. Depend on cells of one Python.")
    want, have = wanted[0], _python_tag()
    if have != want:
        cell = next(c["cell"] for c in manifest["cells"] if c["python"] == want)
        build = " (free-threaded)" if _free_threaded() else ""
        raise VenvError(
            f"{target}: the venv would run Python {have}{build} ({interpreter}), but cell {cell} is locked for "
            f"Python {want}: torch's compiled modules load in no other Python.\n"
            f"The interpreter is {manifest['interpreter']}.\n"
            f"Fix: register a Python {want} toolchain (rules_python: python.toolchain(python_version = \"{want}\")), "
            f"or lock a cell for this Python (the lock tool's --python {have}). Nothing was written."
        )


def destination(argument: str | None, target: str) -> str:
    """The venv's absolute path: PATH from the command line, else `.venv` in the workspace."""
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    if argument is None:
        if not workspace:
            raise VenvError(f"{target}: no workspace (BUILD_WORKSPACE_DIRECTORY is unset): make the venv with `bazel run {target}`, or give its path")
        return os.path.join(workspace, ".venv")
    base = os.environ.get("BUILD_WORKING_DIRECTORY") or os.getcwd()
    return os.path.normpath(os.path.join(base, os.path.expanduser(argument)))


def owner(path: str) -> str | None:
    """The target that made the rules_torch venv at `path`, or None where it is not one."""
    try:
        with open(os.path.join(path, "pyvenv.cfg"), encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition("=")
                if key.strip() == MARKER:
                    return value.strip()
    except OSError:
        return None
    return None


def check_destination(path: str, target: str) -> str | None:
    """Refuses a path that is not free or a rules_torch venv; returns the previous owner."""
    again = f"give another path (bazel run {target} -- <path>)"
    if not os.path.lexists(path):
        return None
    if os.path.islink(path):
        raise VenvError(f"{path} is a symbolic link (to {os.readlink(path)}), not a venv rules_torch made: remove it, or {again}. Nothing was written.")
    if not os.path.isdir(path):
        raise VenvError(f"{path} is a file, not a venv: remove it, or {again}. Nothing was written.")
    made_by = owner(path)
    if made_by is None and os.listdir(path):
        raise VenvError(
            f"{path} exists and is not a venv rules_torch made (its pyvenv.cfg has no '{MARKER}' key): "
            f"it is left as it is. Remove it if it is yours to lose, or {again}. Nothing was written."
        )
    return made_by


def resolve(runfiles: str, root: dict) -> str:
    """The real directory of an import root (see the module docstring)."""
    if "tree" in root:
        tree = os.path.realpath(os.path.join(runfiles, root["tree"]))
        if not os.path.isdir(tree):
            raise VenvError(f"the tree of cell {root['cell']} is not at {tree}: build it again (bazel run builds it)")
        return tree
    probe = os.path.join(runfiles, root["probe"])
    if not os.path.exists(probe):
        raise VenvError(f"{probe} is missing from the runfiles: run the target with bazel run, which makes them")
    depth = root["depth"]
    below = os.path.join(*root["probe"].split("/")[-depth:]) if depth else ""
    # Follow the runfiles symlink one link at a time, to the real file: the last directory that
    # still holds the probe at the same relative path is the realest (the workspace for a source
    # file, bazel-bin for a generated one; a user's own symlink inside it is not followed out).
    chain = [probe]
    while os.path.islink(chain[-1]) and len(chain) < 40:
        chain.append(os.path.join(os.path.dirname(chain[-1]), os.readlink(chain[-1])))
    chain.append(os.path.realpath(probe))
    found = os.path.dirname(probe)
    for path in chain:
        directory = path
        for _ in range(depth):
            directory = os.path.dirname(directory)
        candidate = os.path.join(directory, below) if below else directory
        if os.path.exists(candidate) and os.path.samefile(candidate, probe):
            found = directory
    return os.path.normpath(found)


def build(path: str, final: str, interpreter: str, roots: list[str], target: str) -> None:
    """Writes a venv at `path` that will work once moved to `final`."""
    version = _python_tag()
    bin_dir = os.path.join(path, "bin")
    site_packages = os.path.join(path, "lib", f"python{version}", "site-packages")
    os.makedirs(bin_dir)
    os.makedirs(site_packages)
    os.makedirs(os.path.join(path, "include"))
    if sys.maxsize > 2**32 and sys.platform != "darwin":
        os.symlink("lib", os.path.join(path, "lib64"))  # as venv does on 64-bit POSIX
    exe = "python" + version
    os.symlink(interpreter, os.path.join(bin_dir, exe))
    for name in ("python", "python3"):
        os.symlink(exe, os.path.join(bin_dir, name))
    with open(os.path.join(path, "pyvenv.cfg"), "w", encoding="utf-8") as f:
        f.write(f"home = {os.path.dirname(interpreter)}\n")
        f.write("include-system-site-packages = false\n")
        f.write("version = {}.{}.{}\n".format(*sys.version_info[:3]))
        f.write(f"executable = {interpreter}\n")
        f.write(f"command = bazel run {target} -- {final}\n")
        f.write(f"{MARKER} = {target}\n")
    with open(os.path.join(site_packages, PTH), "w", encoding="utf-8") as f:
        f.write("".join(root + "\n" for root in roots))
    with open(os.path.join(path, ".gitignore"), "w", encoding="utf-8") as f:
        f.write("# Made by rules_torch (bazel run " + target + ")\n*\n")
    # The activation scripts, from the venv module's own templates, naming the final path.
    builder = venv.EnvBuilder(symlinks=True, prompt=os.path.basename(final))
    builder.setup_scripts(types.SimpleNamespace(
        env_dir=final,
        env_name=os.path.basename(final),
        prompt=f"({os.path.basename(final)}) ",
        executable=interpreter,
        python_dir=os.path.dirname(interpreter),
        python_exe=os.path.basename(interpreter),
        inc_path=os.path.join(final, "include"),
        lib_path=os.path.join(final, "lib", f"python{version}", "site-packages"),
        bin_path=bin_dir,
        bin_name="bin",
        env_exe=os.path.join(final, "bin", "python"),
        env_exec_cmd=os.path.join(final, "bin", "python"),
        cfg_path=os.path.join(final, "pyvenv.cfg"),
    ))


def swap(new: str, final: str) -> None:
    """Moves `new` to `final`; a venv already there is moved aside whole first, then deleted."""
    if not os.path.lexists(final):
        os.rename(new, final)
        return
    old = tempfile.mkdtemp(prefix=f".{os.path.basename(final)}.old-", dir=os.path.dirname(final))
    os.rmdir(old)
    os.rename(final, old)
    try:
        os.rename(new, final)
    except OSError:
        os.rename(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def make(runfiles: str, manifest: dict, argument: str | None) -> str:
    """Makes the venv; returns what to print."""
    start = time.perf_counter()
    target = manifest["target"]
    interpreter = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
    check_python(manifest, interpreter)
    final = destination(argument, target)
    previous = check_destination(final, target)
    roots = []
    for root in manifest["roots"]:
        directory = resolve(runfiles, root)
        if directory not in roots:
            roots.append(directory)
    parent = os.path.dirname(final)
    os.makedirs(parent, exist_ok=True)
    new = tempfile.mkdtemp(prefix=f".{os.path.basename(final)}.new-", dir=parent)
    try:
        umask = os.umask(0o22)
        os.umask(umask)
        os.chmod(new, 0o777 & ~umask)  # mkdtemp's is 0700; a venv is as readable as its parent
        build(new, final, interpreter, roots, target)
        swap(new, final)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    verb = "made" if previous is None else ("updated" if previous == target else f"replaced {previous}'s venv with")
    cells = ", ".join(c["cell"] for c in manifest["cells"]) or "none"
    lines = [
        f"rules_torch: {verb} the venv {final} of {target} in {time.perf_counter() - start:.2f} s "
        f"(Python {'.'.join(map(str, sys.version_info[:3]))} at {interpreter}; cells: {cells}; nothing copied)",
        f"  its site-packages' {PTH} puts on sys.path:",
        *[f"    {root}" for root in roots],
        f"  interpreter for editors and notebooks: {os.path.join(final, 'bin', 'python')}",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="bazel run <target>.venv --",
        description="Makes or refreshes a venv of the target's dependencies (rules_torch's torch_py_venv).",
    )
    parser.add_argument("runfiles", help=argparse.SUPPRESS)
    parser.add_argument("manifest", help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", help="where to make the venv (default: .venv in the workspace), relative to where bazel run was typed")
    args = parser.parse_args(argv)
    with open(os.path.join(args.runfiles, args.manifest), encoding="utf-8") as f:
        manifest = json.load(f)
    try:
        print(make(args.runfiles, manifest, args.path))
    except (VenvError, OSError) as e:
        print(f"rules_torch: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
