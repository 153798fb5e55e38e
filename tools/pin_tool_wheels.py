"""Pins the lock tool's own wheels (python/requirements_lock.txt) as URL + sha256 for Bazel.

`bazel run @rules_torch//python:lock` needs `packaging`, `tomli` and `uv`. rules_torch fetches them with
its own repository rule (torch/private/repositories/tool_wheels_repo.bzl, Bazel's downloader, no Python needed at
fetch time) instead of a `pip.parse` in rules_torch's MODULE.bazel: pip.parse's tag attributes
differ between rules_python versions, and every user's build evaluates every module's pip tags.

Re-run after re-pinning python/requirements_lock.txt (it asks PyPI's JSON simple API, PEP 691,
for each pinned version's universal wheel, or for a project without one (uv, a binary) its
wheel for each host platform Bazel may run on (`os`/`arch` in the JSON; the repository rule
fetches the host's), and keeps a wheel only when its sha256 is one of the requirements file's
hashes):

    python3 tools/pin_tool_wheels.py            # rewrites python/tool_wheels.json
    python3 tools/pin_tool_wheels.py --check    # exits 1 when the JSON does not match the pins
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REQUIREMENTS = REPO / "python" / "requirements_lock.txt"
OUTPUT = REPO / "python" / "tool_wheels.json"
INDEX = "https://pypi.org/simple"


def read_pins(path: Path) -> dict[str, tuple[str, set[str]]]:
    """name -> (version, sha256 set) from a pip-compile --generate-hashes file."""
    pins: dict[str, tuple[str, set[str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^ \\]+)", line)
        if match:
            current = match.group(1).lower()
            pins[current] = (match.group(2), set())
        for digest in re.findall(r"--hash=sha256:([0-9a-f]{64})", line):
            if current is None:
                raise SystemExit(f"error: {path}: a --hash line before any requirement")
            pins[current][1].add(digest)
    return pins


# Host platforms (Bazel's os/arch, normalized by tool_wheels.bzl) -> the platform tag that serves it.
HOSTS = {
    ("linux", "x86_64"): re.compile(r"manylinux_2_17_x86_64"),
    ("linux", "aarch64"): re.compile(r"manylinux_2_17_aarch64"),
    ("macos", "aarch64"): re.compile(r"macosx_\d+_\d+_arm64"),
    ("macos", "x86_64"): re.compile(r"macosx_\d+_\d+_x86_64"),
    ("windows", "x86_64"): re.compile(r"win_amd64"),
}


def pinned_wheels(name: str, version: str, hashes: set[str], index: str) -> list[dict]:
    """The universal wheel of ``name==version``, or one wheel per host platform when it has none."""
    request = urllib.request.Request(f"{index}/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        files = [f for f in json.load(response)["files"] if f["filename"].startswith(f"{name.replace('-', '_')}-{version}-")]

    def entry(file: dict, **host: str) -> dict:
        digest = file["hashes"].get("sha256", "")
        if digest not in hashes:
            raise SystemExit(f"error: {file['filename']} on {index} has sha256 {digest}, not one of {REQUIREMENTS}'s hashes")
        return {"filename": file["filename"], "name": name, "sha256": digest, "url": file["url"], "version": version, **host}

    for file in files:
        if file["filename"].endswith("-py3-none-any.whl"):
            return [entry(file)]
    found = []
    for (os_name, arch), tag in HOSTS.items():
        matching = [f for f in files if f["filename"].endswith(".whl") and tag.search(f["filename"].rsplit("-", 1)[-1])]
        if not matching:
            raise SystemExit(f"error: {index} has no wheel of {name} {version} for {os_name}/{arch}")
        found.append(entry(matching[0], os=os_name, arch=arch))
    return found


def check(pins: dict[str, tuple[str, set[str]]], wheels: list[dict]) -> list[str]:
    """What differs between the pinned requirements and the wheel list (empty: in sync)."""
    problems = []
    by_name: dict[str, list[dict]] = {}
    for wheel in wheels:
        by_name.setdefault(wheel["name"], []).append(wheel)
    for name, (version, hashes) in sorted(pins.items()):
        if name not in by_name:
            problems.append(f"{name}=={version} is pinned but has no wheel")
        for wheel in by_name.get(name, []):
            if wheel["version"] != version or wheel["sha256"] not in hashes:
                problems.append(f"{name}: wheel {wheel['filename']} ({wheel['sha256'][:12]}...) is not the pinned {name}=={version}")
    problems += [f"{name} has a wheel but is not pinned" for name in sorted(set(by_name) - set(pins))]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare python/tool_wheels.json with the pins")
    parser.add_argument("--index", default=INDEX, help=f"a PEP 691 simple index (default {INDEX})")
    args = parser.parse_args(argv)
    pins = read_pins(REQUIREMENTS)
    if args.check:
        problems = check(pins, json.loads(OUTPUT.read_text()))
        for problem in problems:
            print(f"{OUTPUT.relative_to(REPO)}: {problem}; run python3 tools/pin_tool_wheels.py", file=sys.stderr)
        return 1 if problems else 0
    wheels = [w for name, (version, hashes) in sorted(pins.items()) for w in pinned_wheels(name, version, hashes, args.index.rstrip("/"))]
    OUTPUT.write_text(json.dumps(wheels, indent=2, sort_keys=True) + "\n")
    print(f"wrote {OUTPUT.relative_to(REPO)}: " + ", ".join(w["filename"] for w in wheels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
