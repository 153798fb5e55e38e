"""Runs pip with the PEP 508 marker environment of the target cell.

Usage: ``python3 _pip_shim.py '<marker environment as JSON>' <pip arguments>...``

pip's ``--platform``/``--python-version`` choose which wheels it accepts, but it still
evaluates environment markers (``platform_system == "Linux"``, ``python_version >=
"3.12"``) against the machine it runs on, and pip declines to change that
(pypa/pip#10050). Locking for macOS from Linux would then pull in torch's CUDA
dependencies, and locking for Python 3.12 from 3.11 would drop torch's setuptools. Pex
works around it the same way (pex-tool/pex#1366): replace ``default_environment()`` in
pip's vendored ``packaging`` before pip starts; every marker evaluation in pip reads it.

This file runs as a script so that it works wherever the lock tool's sources are, under
``bazel run`` too; it imports only pip.
"""

import json
import sys


def main() -> int:
    environment = json.loads(sys.argv[1])

    from pip import __version__ as pip_version
    from pip._vendor.packaging import markers

    markers.default_environment = lambda: dict(environment)
    probe = markers.Marker(
        f'sys_platform == "{environment["sys_platform"]}" and python_version == "{environment["python_version"]}"'
    )
    if not probe.evaluate():
        sys.stderr.write(f"rules_torch: cannot set the marker environment of pip {pip_version}\n")
        return 3

    from pip._internal.cli.main import main as pip_main

    return pip_main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
