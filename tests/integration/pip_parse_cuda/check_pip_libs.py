"""check_libs.py over pip.parse's layout: one site-packages per wheel repository.

The same checks as check_libs.py (lazy CDLL by soname in fresh processes, ldd over every
shared library, the driver's libraries and the optional host network stacks excepted), but
over every site-packages directory on sys.path instead of torch's alone. Prints `RESULT
<json>` last; exit 0 when everything resolves.
"""

import concurrent.futures
import glob
import json
import os
import sys

from check_libs import HOST_OPTIONAL, LAZY, cdll, shared_libraries, unresolved  # noqa: F401


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
        for (root, path), (missing, optional) in zip(libraries, pool.map(unresolved, [p for _, p in libraries]), strict=True):
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
