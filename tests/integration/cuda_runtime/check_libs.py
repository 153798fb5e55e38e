"""Every shared library of the torch closure resolves under the current environment.

1. Libraries that torch, cuDNN and cuSPARSE open lazily by soname (cuDNN's sub-libraries,
   nvrtc's builtins, nvJitLink, cuSPARSELt, NCCL) load with ctypes.CDLL(soname), each in a
   fresh process so that nothing loaded earlier satisfies the lookup.
2. Every *.so / *.so.N under those directories resolves all its DT_NEEDED entries, the NVIDIA
   driver's own libraries excepted, and the host network stacks (RDMA, MPI, UCX, ...) that the
   optional cuFile RDMA and NVSHMEM transport plugins link (reported apart): the doctor's check
   (torch/private/tools/doctor.py's `unresolved`), from doctor.py beside this file (the tests put
   it there: tests/integration/harness.py's DOCTOR).

The directories are the site-packages on sys.path other than the interpreter's own: the
spoke's one tree, or one per wheel repository under pip.parse. Nothing here imports torch, so
the result depends on the loader's search path alone. Prints one line per problem and a last
line `RESULT <json>`; exit 0 when everything resolves.
"""

import concurrent.futures
import glob
import importlib.util
import json
import os
import subprocess
import sys

_spec = importlib.util.spec_from_file_location("doctor", os.path.join(os.path.dirname(os.path.abspath(__file__)), "doctor.py"))
doctor = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(doctor)

# (pattern under site-packages, what opens it): each pattern must match at least one file.
LAZY = [
    ("nvidia/*/lib/libcudnn_*.so.9", "libcudnn.so.9 opens its sub-libraries by soname"),
    ("nvidia/*/lib/libnvrtc-builtins.so.13*", "nvrtc opens its builtins by soname"),
    ("nvidia/*/lib/libnvJitLink.so.13", "cuSPARSE/cuFFT JIT, torch's jiterator"),
    ("nvidia/*/lib/libcusparseLt.so.0", "torch opens cuSPARSELt lazily"),
    ("nvidia/*/lib/libnccl.so.2", "torch.distributed"),
]
OPEN = "import ctypes, sys; ctypes.CDLL(sys.argv[1])"


def roots():
    """The site-packages directories of the wheel repositories (pip.parse: one per wheel)."""
    found = []
    interpreter = tuple(os.path.realpath(p) + os.sep for p in {sys.prefix, sys.base_prefix})
    for entry in sys.path:
        if os.path.realpath(entry).startswith(interpreter):
            continue  # the interpreter's own site-packages (a plain py_test has it on sys.path)
        if os.path.basename(entry.rstrip("/")) == "site-packages" and os.path.isdir(entry):
            real = os.path.realpath(entry)
            if real not in found:
                found.append(real)
    return found


def is_elf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def shared_libraries(root):
    for directory, _, names in os.walk(root):
        for name in names:
            if name.endswith(".so") or ".so." in name:
                path = os.path.join(directory, name)
                if os.path.isfile(path) and is_elf(path):
                    yield path


def cdll(soname):
    result = subprocess.run([sys.executable, "-S", "-c", OPEN, soname], capture_output=True, text=True, check=False)
    return result.returncode == 0, result.stderr.strip().splitlines()[-1:] if result.returncode else []


def main():
    dirs = roots()
    report = {
        "roots": dirs,
        "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH", ""),
        "lazy": {},
        "lazy_failed": [],
        "ldd_checked": 0,
        "ldd_failed": {},
        "host_optional": {},
        "patterns_unmatched": [],
    }
    sonames = []
    for pattern, _ in LAZY:
        found = sorted({os.path.basename(p) for root in dirs for p in glob.glob(os.path.join(root, pattern))})
        if not found:
            report["patterns_unmatched"].append(pattern)
        sonames.extend(found)
    libraries = sorted({(root, path) for root in dirs for path in shared_libraries(root)})
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for soname, (ok, error) in zip(sonames, pool.map(cdll, sonames), strict=True):
            report["lazy"][soname] = ok
            if not ok:
                report["lazy_failed"].append(soname)
                print(f"CDLL({soname!r}) failed: {' '.join(error)}")
        for (root, path), (missing, optional) in zip(libraries, pool.map(doctor.unresolved, [p for _, p in libraries]), strict=True):
            name = os.path.relpath(path, root)
            if optional:
                report["host_optional"][name] = optional
            if missing:
                report["ldd_failed"][name] = missing
                print(f"{name}: not found: {', '.join(missing)}")
    report["ldd_checked"] = len(libraries)
    for pattern in report["patterns_unmatched"]:
        print(f"no library matches {pattern} under any of {len(dirs)} site-packages directories")
    print(
        f"{len(dirs)} site-packages directories; {len(sonames)} sonames opened lazily, "
        f"{len(report['lazy_failed'])} failed; {len(libraries)} libraries checked with ldd, "
        f"{len(report['ldd_failed'])} with unresolved dependencies"
    )
    print("RESULT " + json.dumps(report, sort_keys=True))
    ok = sonames and libraries and not (report["lazy_failed"] or report["ldd_failed"] or report["patterns_unmatched"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
