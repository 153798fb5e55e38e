"""libcudart.so.13 comes from the wheel even when another copy is first on LD_LIBRARY_PATH.

Opens libcudart.so.13 by soname, then imports torch (whose libraries need it too: with another
copy loaded first, `import torch` fails on an undefined symbol), and reads /proc/self/maps:
every mapped libcudart must be a wheel's file. The wheels' copies are looked up in every
site-packages directory on sys.path: one tree in rules_torch's spoke, one repository per wheel
under pip.parse. Prints `RESULT <json>`; exit 0 when only a wheel's copy is mapped.
"""

import ctypes
import glob
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


def identity(path):
    st = os.stat(path)
    return st.st_dev, st.st_ino


site_packages = [p for p in sys.path if os.path.basename(p.rstrip("/")) == "site-packages" and os.path.isdir(p)]
# Runfiles trees hold symlinks to the wheels' files: compare files, not path prefixes.
wheel_copies = {identity(p) for root in site_packages for p in glob.glob(os.path.join(root, "nvidia", "*", "lib", "libcudart.so*"))}
report = {
    "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH", ""),
    "site_packages": site_packages,
    "wheel_copies": len(wheel_copies),
}
ctypes.CDLL("libcudart.so.13")
report["after_cdll"] = mapped("libcudart.so")
try:
    import torch  # noqa: F401
except ImportError as e:  # what a shadowed libcudart does: "undefined symbol: cuda..., version libcudart.so.13"
    report["import_error"] = str(e)
report["after_import_torch"] = mapped("libcudart.so")
report["foreign"] = [p for p in report["after_import_torch"] if identity(p) not in wheel_copies]
print("RESULT " + json.dumps(report, sort_keys=True))
sys.exit(0 if wheel_copies and report["after_cdll"] and not report["foreign"] and "import_error" not in report else 1)
