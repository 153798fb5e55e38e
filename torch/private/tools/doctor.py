"""bazel run @<hub>//:doctor [-- --verbose]: what torch this build selected and whether its
libraries load.

Prints a screenful, problems first: every library with a dependency that resolves nowhere and
every damaged file, then the torch build, its CUDA/cuDNN versions, the NVIDIA driver (if any),
whether a GPU is usable, how many shared libraries the launcher put on LD_LIBRARY_PATH and how
many resolve, and how many installed files match their wheel's RECORD (size and sha256).
`--verbose` adds every library with its directory. Exits 1 when a library has a dependency that
cannot be resolved or a file is damaged.
"""

import argparse
import base64
import concurrent.futures
import csv
import glob
import hashlib
import importlib.util
import os
import platform
import subprocess
import sys
import warnings

# Provided by the NVIDIA driver, never by a wheel: absent on machines without a GPU.
DRIVER_LIBRARIES = ("libcuda.so", "libnvidia-ml.so", "libnvcuvid.so", "libnvidia-", "libdxcore.so")
# Network stacks that only the host provides (InfiniBand verbs/RDMA, MPI, PMIx, OpenSHMEM,
# libfabric, UCX): the CUDA 13 wheels' optional plugins (cuFile's RDMA library, NVSHMEM's
# bootstrap and transport plugins) link them and are loaded only when that transport is used.
HOST_OPTIONAL_LIBRARIES = (
    "libibverbs.so", "librdmacm.so", "libmlx5.so", "libmpi.so", "libpmix.so", "liboshmem.so",
    "libfabric.so", "libucs.so", "libucp.so",
)


def unresolved(path):
    """DT_NEEDED entries the loader cannot find under this environment: (missing, host-optional).

    The one check that every DT_NEEDED entry of a library resolves (ldd): the tests run it too
    (tests/integration/cuda_runtime/check_libs.py, test_venv.py).
    """
    result = subprocess.run(["ldd", path], capture_output=True, text=True, check=False)
    missing, optional = [], []
    for line in result.stdout.splitlines():
        if "=> not found" in line:
            name = line.split("=>")[0].strip()
            if name.startswith(HOST_OPTIONAL_LIBRARIES):
                optional.append(name)
            elif not name.startswith(DRIVER_LIBRARIES):
                missing.append(name)
    return missing, optional


def _libraries(lib_dirs):
    for directory in lib_dirs:
        for name in sorted(os.listdir(directory)):
            if name.endswith(".so") or ".so." in name:
                yield os.path.join(directory, name)


def _driver():
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=20, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def _gpu_checks():
    """What a routed requires-gpu test's launcher would say of this machine, per CUDA cell
    (gpu_check.py, beside this file; the cells from the launcher's RULES_TORCH_GPU_NEEDS)."""
    needs = [entry.split(" ") for entry in os.environ.get("RULES_TORCH_GPU_NEEDS", "").split(":") if entry]
    if not needs:
        return []
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpu_check.py")
    if not os.path.exists(path):
        # A doctor declared by hand with doctor.py alone in its srcs; @<hub>//:doctor carries both.
        return ["not run: gpu_check.py is not beside doctor.py (add it to srcs, or run `bazel run @<hub>//:doctor`)"]
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    driver = gpu_check.probe()
    lines = []
    for cell, cuda, min_driver in needs:
        if cuda != "-":
            usable, text = gpu_check.report(cell, cuda, "" if min_driver == "-" else min_driver, driver)
            lines.append(("ok: " if usable else "FAILS on a GPU worker: ") + text)
    return lines


def _variant(torch):
    """The accelerator variant of this torch build, as PyTorch names its wheel indexes."""
    local = torch.__version__.partition("+")[2]
    if local:
        return local
    if torch.version.cuda:
        return "cu" + torch.version.cuda.replace(".", "")[:3]
    if getattr(torch.version, "hip", None):
        return "rocm" + ".".join(torch.version.hip.split(".")[:2])
    return "cpu"


def _record_entries(site_packages):
    """(path, expected size, expected sha256 digest) of every hashed file the wheels' RECORDs list
    under `site_packages`; `.data/purelib|platlib` entries where the installer moved them."""
    for record in glob.glob(os.path.join(site_packages, "*.dist-info", "RECORD")):
        with open(record, newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                if len(row) < 3 or not row[1].startswith("sha256="):
                    continue
                path = row[0]
                parts = path.split("/")
                if len(parts) > 2 and parts[0].endswith(".data"):
                    if parts[1] not in ("purelib", "platlib"):
                        continue  # scripts, headers, data: kept outside site-packages
                    path = "/".join(parts[2:])
                if path.startswith("../") or path.startswith("/"):
                    continue
                digest = base64.urlsafe_b64decode(row[1][len("sha256="):] + "==")
                yield os.path.join(site_packages, path), int(row[2]) if row[2] else None, digest


def _check_file(entry):
    path, size, digest = entry
    try:
        actual = os.path.getsize(path)
    except OSError:
        return f"{path}: missing"
    if size is not None and actual != size:
        return f"{path}: {actual} bytes, installed with {size}"
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return None if h.digest() == digest else f"{path}: content differs from the wheel's (sha256)"


def verify_installed(site_packages_dirs):
    """Checks every file the wheels installed (their RECORD: size and sha256).

    Returns:
      (number of files checked, list of problems, each naming a file).
    """
    entries = [e for d in site_packages_dirs for e in _record_entries(d)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        problems = [p for p in pool.map(_check_file, entries) if p]
    return len(entries), problems


def _installed_trees():
    return [p for p in sys.path if os.path.isdir(p) and glob.glob(os.path.join(p, "*.dist-info", "RECORD"))]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bazel run @torch//:doctor --", description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="also list every shared library and whether it resolves")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    # torch warns at import when numpy is absent; the doctor reports that on a line of its own.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
        import torch

    lib_dirs = [d for d in os.environ.get("RULES_TORCH_LIB_DIRS", "").split(":") if d]
    libraries = []  # (path, missing, optional)
    for path in _libraries(lib_dirs):
        libraries.append((path, *unresolved(path)))
    broken = [(path, missing) for path, missing, _ in libraries if missing]
    checked, damaged = verify_installed(_installed_trees())

    # Problems first: what to fix is on the first lines, whatever the size of the closure.
    for path, missing in broken:
        print(f"  MISSING {', '.join(missing)} (needed by {path})")
    for problem in damaged[:50]:
        print(f"  DAMAGED  {problem}")
    if len(damaged) > 50:
        print(f"  ... and {len(damaged) - 50} more damaged files")

    print(f"torch:           {torch.__version__} ({os.path.dirname(torch.__file__)})")
    print(f"variant:         {_variant(torch)}")
    print(f"platform:        {sys.platform} {platform.machine()}, Python {platform.python_version()}")
    numpy = importlib.util.find_spec("numpy")
    print(f"numpy:           {'yes' if numpy else 'not installed (torch.from_numpy/.numpy() unavailable; lock it with --with numpy)'}")
    print(f"CUDA (build):    {torch.version.cuda or 'none'}")
    hip = getattr(torch.version, "hip", None)
    if hip:
        print(f"ROCm (build):    {hip}")
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    print(f"cuDNN:           {cudnn or 'none'}")
    print(f"NVIDIA driver:   {_driver() or 'none found'}")
    usable = torch.cuda.is_available()
    print(f"GPU usable:      {'yes: ' + torch.cuda.get_device_name(0) if usable else 'no'}")
    for line in _gpu_checks():
        print(f"GPU check:       {line}")
    plugins = sum(1 for _, missing, optional in libraries if optional and not missing)
    note = f" ({plugins} optional plugins need the host's network stacks)" if plugins else ""
    print(
        f"libraries:       {len(libraries)} in {len(lib_dirs)} directories first on LD_LIBRARY_PATH: "
        f"{len(libraries) - len(broken)} resolve, {len(broken)} unresolved{note}"
    )
    print(f"installed files: {checked} checked against the wheels' RECORD (size, sha256): {len(damaged) or 'none'} damaged")
    if args.verbose:
        for path, missing, optional in libraries:
            status = "ok" if not missing else "MISSING " + ", ".join(missing)
            extra = f" (optional plugin; its transport needs the host's {', '.join(optional)})" if optional else ""
            print(f"  {status:8} {path}{extra}")
    if damaged:
        print(
            "doctor: the installed tree was changed after it was installed. The next `bazel build` or `bazel test` "
            "installs it again (Bazel checks its outputs); if it does not (--noexperimental_check_output_files), "
            "run `bazel clean` first.",
            file=sys.stderr,
        )
    if broken:
        print(f"doctor: {len(broken)} librar{'y' if len(broken) == 1 else 'ies'} with unresolved dependencies", file=sys.stderr)
    if broken or damaged:
        return 1
    more = "" if args.verbose else "; `-- --verbose` lists each library"
    print(f"doctor: every library resolves (driver libraries and optional host network stacks excepted){more}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
