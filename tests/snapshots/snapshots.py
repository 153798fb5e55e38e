"""The files the torch extension generates for a hub, compared whole with their goldens (unit tests
check the generators piece by piece; this shows a change to what users' builds read as one diff).

    snapshots.py --goldens DIR FILE...           # the test: exit 1 with each diff and the fix
    snapshots.py --goldens DIR --update FILE...  # under `bazel run`: rewrite DIR in the workspace

FILE: the runfiles paths of a hub's `generated_files` (`$(rlocationpaths @<hub>//:generated_files)`).
Each file's golden is named after the repository that holds it: the hub's (`hub_BUILD.bazel.golden`,
`hub_requirements.bzl.golden`), its spoke's (`spoke_BUILD.bazel.golden`), the cell's C++
repository's (`libtorch_BUILD.bazel.golden`). The hub's canonical name is Bazel's to choose
(`_main~torch~torch_cpu`, `+torch+torch_cpu`): the goldens say `<hub>`.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from pathlib import Path

UPDATE = "bazel run //tests/snapshots:update"


def _runfiles() -> Path:
    """The runfiles directory: a test's TEST_SRCDIR; under `bazel run`, the parent of the working
    directory (the main repository's directory in the runfiles tree)."""
    return Path(os.environ.get("TEST_SRCDIR") or Path.cwd().parent)


def snapshots(files: list[str]) -> dict[str, str]:
    """Golden name -> the generated text, with the hub's canonical name as `<hub>`."""
    hub = min((f.split("/")[0] for f in files), key=len)  # the others are named <hub>__<cell>...
    found: dict[str, str] = {}
    for path in files:
        repository = path.split("/")[0]
        if repository == hub:
            role = "hub"
        elif repository.startswith(hub + "__"):
            role = "libtorch" if repository.endswith("__libtorch") else "spoke"
        else:
            raise SystemExit(f"{path}: not a repository of hub {hub}")
        name = f"{role}_{Path(path).name}.golden"
        if name in found:
            raise SystemExit(f"{path}: a second {name} (the hub has more than one cell: give each cell's goldens a name)")
        found[name] = (_runfiles() / path).read_text().replace(hub, "<hub>")
    return found


def check(goldens: Path, found: dict[str, str]) -> int:
    problems = []
    for name, text in sorted(found.items()):
        golden = goldens / name
        if not golden.is_file():
            problems.append(f"{golden}: no such golden")
            continue
        expected = golden.read_text()
        if text != expected:
            diff = difflib.unified_diff(expected.splitlines(True), text.splitlines(True), str(golden), "generated")
            problems.append(f"{golden} differs from what the extension generates:\n{''.join(diff)}")
    problems += [f"{golden}: no file is generated for it" for golden in sorted(goldens.glob("*.golden")) if golden.name not in found]
    if not problems:
        print(f"{len(found)} generated files match their goldens in {goldens}")
        return 0
    print("\n".join(problems))
    print(f"\nIf the change is intended, rewrite the goldens and review the diff:\n    {UPDATE} && git diff tests/snapshots")
    return 1


def update(goldens: Path, found: dict[str, str]) -> int:
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    if not workspace:
        raise SystemExit(f"--update rewrites the goldens in the source tree: run it as `{UPDATE}`")
    target = Path(workspace) / goldens
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.golden"):
        if stale.name not in found:
            stale.unlink()
            print(f"removed {stale}")
    for name, text in sorted(found.items()):
        (target / name).write_text(text)
    print(f"wrote {len(found)} goldens in {target}; review them: git diff {goldens}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goldens", type=Path, required=True, help="the goldens' directory, workspace-relative")
    parser.add_argument("--update", action="store_true", help="rewrite the goldens in the workspace (bazel run)")
    parser.add_argument("files", nargs="+", help="the generated files' runfiles paths")
    args = parser.parse_args(argv)
    found = snapshots(args.files)
    return update(args.goldens, found) if args.update else check(args.goldens, found)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
