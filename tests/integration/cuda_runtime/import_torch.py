"""The CUDA 13 build of torch imports and computes on a machine without a GPU.

Prints `import torch: <seconds>` and `start to import: <seconds>` (from the process's start,
launcher included, which execs Python in the same process; 10 ms resolution), read by
benchmarks/runtime.py. Exit 0 when every check holds.
"""

import os
import sys
import time


def since_process_start():
    with open("/proc/self/stat") as f:
        start_ticks = int(f.read().rpartition(")")[2].split()[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


start = time.perf_counter()
import torch  # noqa: E402

elapsed = time.perf_counter() - start
print(f"import torch: {elapsed:.3f} s", flush=True)
print(f"start to import: {since_process_start():.2f} s", flush=True)

failures = []
print("torch", torch.__version__, "cuda", torch.version.cuda, "from", torch.__file__)
if not (torch.version.cuda or "").startswith("13"):
    failures.append(f"torch.version.cuda is {torch.version.cuda!r}, expected a CUDA 13 build")
a = torch.arange(6, dtype=torch.float32).reshape(2, 3)
product = (a @ torch.ones(3, 2)).tolist()
if product != [[3.0, 3.0], [12.0, 12.0]]:
    failures.append(f"a CPU matmul gave {product}")
try:
    available = torch.cuda.is_available()
except Exception as e:  # noqa: BLE001 - the point is that it must not raise
    failures.append(f"torch.cuda.is_available() raised {type(e).__name__}: {e}")
else:
    print("cuda available:", available)
    if available is not False:
        failures.append(f"torch.cuda.is_available() is {available!r} on a machine without a GPU")
for failure in failures:
    print("FAIL:", failure)
sys.exit(1 if failures else 0)
