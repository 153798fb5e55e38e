"""libcudart.so.13 comes from the wheel even when another copy is first on LD_LIBRARY_PATH.

Opens libcudart.so.13 by soname, then imports torch (whose libraries need it too), and reads
/proc/self/maps: every mapped libcudart must be the wheel's file. Prints `RESULT <json>`;
exit 0 when only the wheel's copy is mapped.
"""

import ctypes
import importlib.util
import json
import os
import sys


def mapped(fragment):
    paths = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(None, 5)
            if len(fields) == 6 and fragment in os.path.basename(fields[5].strip()):
                paths.add(fields[5].strip())
    return sorted(paths)


site_packages = os.path.realpath(os.path.dirname(os.path.dirname(importlib.util.find_spec("torch").origin)))
report = {"LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH", ""), "site_packages": site_packages}
ctypes.CDLL("libcudart.so.13")
report["after_cdll"] = mapped("libcudart.so")
import torch  # noqa: E402,F401

report["after_import_torch"] = mapped("libcudart.so")
report["foreign"] = [p for p in report["after_import_torch"] if not os.path.realpath(p).startswith(site_packages + os.sep)]
print("RESULT " + json.dumps(report, sort_keys=True))
sys.exit(0 if report["after_cdll"] and not report["foreign"] else 1)
