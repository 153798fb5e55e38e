"""What the launcher must pass through: arguments, stdin, exit status, signals.

passthrough.py echo CODE ARG...: prints {"args", "stdin", "cwd", ...} as JSON, exits CODE.
passthrough.py wait: prints "ready", then on SIGTERM prints "got SIGTERM" and exits 143.
passthrough.py torch: imports torch and prints its version and file.
"""

import json
import os
import signal
import sys
import time


def on_term(signum, frame):
    print("got SIGTERM", flush=True)
    sys.exit(143)


mode = sys.argv[1]
if mode == "echo":
    print(
        json.dumps(
            {
                "args": sys.argv[3:],
                "stdin": sys.stdin.read(),
                "cwd": os.getcwd(),
                "pid": os.getpid(),
                "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH", ""),
            }
        )
    )
    sys.exit(int(sys.argv[2]))
elif mode == "wait":
    signal.signal(signal.SIGTERM, on_term)
    print("ready", os.getpid(), flush=True)
    time.sleep(120)
    sys.exit(0)
elif mode == "torch":
    import torch

    print("torch", torch.__version__, torch.version.cuda, torch.__file__)
    print("LD_LIBRARY_PATH", os.environ.get("LD_LIBRARY_PATH", ""))
