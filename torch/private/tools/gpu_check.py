"""Whether this machine can run a CUDA cell's GPU ops: its NVIDIA driver, and a device it opens.

The launcher of a `requires-gpu` torch_py_test runs it when GPU tests are routed to GPU workers
(`--@rules_torch//torch:route_gpu_tests`): there a test that finds no usable device must fail,
not skip to PASSED having run no GPU op (a worker whose driver is older than the cell's CUDA, a
container without the device). `bazel run @<hub>//:doctor` prints the same report (`report`).

    gpu_check.py TARGET CELL CUDA MIN_DRIVER

CUDA is the cell's CUDA release ("13.0", or "-" for a cell that is not a CUDA build), MIN_DRIVER
the oldest driver that runs it ("580.65.06"). Exit status 0 when a device is usable, else 1 with
the reason and the fix on stderr. Reads /proc/driver/nvidia/version and opens the driver's
libcuda.so.1 (cuInit, cuDriverGetVersion, cuDeviceGetCount); imports nothing but the standard
library, so it costs ~30 ms and loads no torch.
"""

from __future__ import annotations

import ctypes
import re
import sys
from typing import NamedTuple

PROC_VERSION = "/proc/driver/nvidia/version"
LIBCUDA = "libcuda.so.1"
# cuInit's results worth naming (CUresult, cuda.h).
_CU_ERRORS = {
    3: "CUDA_ERROR_NOT_INITIALIZED",
    100: "CUDA_ERROR_NO_DEVICE (the driver sees no GPU: a container started without the device?)",
    101: "CUDA_ERROR_INVALID_DEVICE",
    222: "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
    304: "CUDA_ERROR_OPERATING_SYSTEM",
    801: "CUDA_ERROR_NOT_SUPPORTED",
    804: "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE",
    999: "CUDA_ERROR_UNKNOWN",
}


class Driver(NamedTuple):
    """What this machine's NVIDIA driver says: each field None where it says nothing."""

    version: str | None  # the kernel module's, "580.65.06"
    cuda: str | None  # the newest CUDA release the driver library supports, "13.0"
    devices: int | None  # devices cuInit found
    problem: str | None  # why no device is usable, if none is


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text))


def probe(proc_version: str = PROC_VERSION, libcuda: str = LIBCUDA) -> Driver:
    """Reads the kernel module's version and asks the driver library for its devices."""
    version = None
    try:
        with open(proc_version) as f:
            found = re.search(r"Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)", f.read())
        version = found.group(1) if found else None
    except OSError:
        pass
    try:
        cuda = ctypes.CDLL(libcuda)
    except OSError as e:
        return Driver(version, None, None, f"the driver's {libcuda} does not load ({e}): no NVIDIA driver, or a container without it")
    code = cuda.cuInit(0)
    release = ctypes.c_int(0)
    supported = None
    if cuda.cuDriverGetVersion(ctypes.byref(release)) == 0 and release.value:
        supported = f"{release.value // 1000}.{release.value % 1000 // 10}"
    if code != 0:
        return Driver(version, supported, None, f"cuInit failed with {code} {_CU_ERRORS.get(code, '')}".rstrip())
    count = ctypes.c_int(0)
    if cuda.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value == 0:
        return Driver(version, supported, 0, "the driver reports no CUDA device")
    return Driver(version, supported, count.value, None)


def report(cell: str, cuda: str | None, min_driver: str, driver: Driver) -> tuple[bool, str]:
    """(usable, one paragraph): whether cell `cell` (built for CUDA `cuda`) can run here, and why."""
    have = f"NVIDIA driver {driver.version}" if driver.version else "no NVIDIA driver (no " + PROC_VERSION + ")"
    if driver.cuda:
        have += f", supporting CUDA up to {driver.cuda}"
    if not cuda:
        return False, f"cell {cell} is not a CUDA build of torch: it runs no GPU op ({have}). Build it for a CUDA variant (e.g. --config=cuda130)."
    needs = f"cell {cell} is built for CUDA {cuda}, which needs NVIDIA driver {min_driver} or newer"
    old = driver.version and min_driver and _version(driver.version) < _version(min_driver)
    if driver.problem is None and not old:
        return True, f"{driver.devices} usable CUDA device(s): {have}; {needs}."
    why = "the driver is too old" if old else driver.problem
    return False, (
        f"no usable CUDA device: {why}. This machine: {have}; {needs}. Fix: run it on workers with "
        f"a {min_driver}+ driver whose container holds the GPU (the NVIDIA container runtime, --gpus), or "
        "build for a CUDA release their driver supports (--config=cuda1xx)."
    )


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print("usage: gpu_check.py TARGET CELL CUDA MIN_DRIVER", file=sys.stderr)
        return 2
    target, cell, cuda, min_driver = argv
    usable, text = report(cell, None if cuda == "-" else cuda, "" if min_driver == "-" else min_driver, probe())
    if usable:
        return 0
    print(
        f"rules_torch launcher: {target} is tagged requires-gpu and GPU tests are routed to GPU workers "
        f"(--@rules_torch//torch:route_gpu_tests), so it fails instead of skipping: {text}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
