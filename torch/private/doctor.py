"""bazel run @<hub>//:doctor: what torch this build selected and whether its libraries load.

Prints the torch build, its CUDA/cuDNN versions, every shared library the launcher put on
LD_LIBRARY_PATH with where each of its dependencies resolved, the NVIDIA driver (if any) and
whether a GPU is usable. Exits 1 when a library has a dependency that cannot be resolved.
"""

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


def _unresolved(path):
    """DT_NEEDED entries the loader cannot find under this environment: (missing, host-optional)."""
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


def main():
    # torch warns at import when numpy is absent; the doctor reports that on a line of its own.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
        import torch

    lib_dirs = [d for d in os.environ.get("RULES_TORCH_LIB_DIRS", "").split(":") if d]
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
    print(f"library dirs:    {len(lib_dirs)} (first on LD_LIBRARY_PATH)")
    broken = 0
    for path in _libraries(lib_dirs):
        missing, optional = _unresolved(path)
        status = "ok" if not missing else "MISSING " + ", ".join(missing)
        broken += bool(missing)
        note = f" (optional plugin; its transport needs the host's {', '.join(optional)})" if optional else ""
        print(f"  {status:8} {path}{note}")
    if broken:
        print(f"doctor: {broken} librar{'y' if broken == 1 else 'ies'} with unresolved dependencies", file=sys.stderr)
        return 1
    print("doctor: every library resolves (driver libraries and optional host network stacks excepted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
