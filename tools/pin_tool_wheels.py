"""Pins the lock tool's own wheels (python/requirements_lock.txt) as URL + sha256 for Bazel.

`bazel run @rules_torch//python:lock` needs `packaging` and `pip`. rules_torch fetches them with
its own repository rule (torch/private/repositories/tool_wheels.bzl, Bazel's downloader, no Python needed at
fetch time) instead of a `pip.parse` in rules_torch's MODULE.bazel: pip.parse's tag attributes
differ between rules_python versions, and every user's build evaluates every module's pip tags.

Re-run after re-pinning python/requirements_lock.txt (it asks PyPI's JSON simple API, PEP 691,
for each pinned version's universal wheel, and keeps it only when its sha256 is one of the
requirements file's hashes):

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


def universal_wheel(name: str, version: str, hashes: set[str], index: str) -> dict:
    request = urllib.request.Request(f"{index}/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.load(response)["files"]
    for entry in files:
        filename = entry["filename"]
        if filename.startswith(f"{name.replace('-', '_')}-{version}-") and filename.endswith("-py3-none-any.whl"):
            digest = entry["hashes"].get("sha256", "")
            if digest not in hashes:
                raise SystemExit(f"error: {filename} on {index} has sha256 {digest}, not one of {REQUIREMENTS}'s hashes")
            return {"filename": filename, "name": name, "sha256": digest, "url": entry["url"], "version": version}
    raise SystemExit(f"error: {index} has no py3-none-any wheel of {name} {version}")


def check(pins: dict[str, tuple[str, set[str]]], wheels: list[dict]) -> list[str]:
    """What differs between the pinned requirements and the wheel list (empty: in sync)."""
    problems = []
    by_name = {w["name"]: w for w in wheels}
    for name, (version, hashes) in sorted(pins.items()):
        wheel = by_name.get(name)
        if wheel is None:
            problems.append(f"{name}=={version} is pinned but has no wheel")
        elif wheel["version"] != version or wheel["sha256"] not in hashes:
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
    wheels = [universal_wheel(name, version, hashes, args.index.rstrip("/")) for name, (version, hashes) in sorted(pins.items())]
    OUTPUT.write_text(json.dumps(wheels, indent=2, sort_keys=True) + "\n")
    print(f"wrote {OUTPUT.relative_to(REPO)}: " + ", ".join(w["filename"] for w in wheels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
