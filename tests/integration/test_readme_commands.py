"""Every command the READMEs and docs show, run as written, or listed here with why it cannot run.

- Each example's README (examples/*/README.md): every command of its ```sh blocks runs in the
  example's directory, as a user who copied it would type it, and must exit 0 without a
  warning in its output (Bazel's own "discarding analysis cache" note after a --config switch
  excepted: that is Bazel telling the user the configuration changed, which the README does on
  purpose). These are the examples' tests: tools/test.sh runs no other pass over examples/.
- The main README's first block: its main command runs from the repository root.
- Every other command of README.md and docs/*.md must be in NOT_RUN with the reason it cannot
  run on this machine (a new command without either fails test_every_command_is_accounted_for).

The heavy examples (the CUDA 13 closure, ~3 GB) are marked slow; each example keeps its own
output base, expunged after its commands unless RULES_TORCH_KEEP_WORKSPACES=1.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from pathlib import Path

import pytest
from harness import BAZEL, REPO, cuda_closure_slot

EXAMPLES = sorted(p.parent for p in (REPO / "examples").glob("*/README.md"))
# Examples whose commands fetch the real CUDA 13 closure (torch 2.14.1 + NVIDIA wheels).
HEAVY = {"cuda", "pip_parse", "torchvision"}

# Commands of README.md / docs/*.md no test runs as written, and why.
NOT_RUN = {
    "tools/test.sh": "the test command itself (this test runs inside it)",
    "bazel run @rules_torch//python:lock -- --torch 2.5.1 --torchvision 0.20.1 --variants cpu,cu118,cu121,cu124 --platforms linux_x86_64,linux_aarch64,macos_arm64 --python 3.11 --output third_party/torch.lock.json":
        "resolves against download.pytorch.org, unreachable here; python/tests/test_lock.py runs the same options against local indexes",
    "bazel run @rules_torch//python:lock -- --torch 2.5.1 --torchvision 0.20.1 --variants cpu,cu118,cu121,cu124 --platforms linux_x86_64,linux_aarch64,macos_arm64 --python 3.11 --skip-missing --output third_party/torch.lock.json":
        "resolves against download.pytorch.org, unreachable here; python/tests/test_lock.py covers --skip-missing with local indexes",
    "bazel run @rules_torch//python:lock -- --torch 2.14.1 --variants cpu,cu130 --platforms linux_x86_64 --python 3.11 --output third_party/torch.lock.json --requirements-dir third_party --no-emit-index-url":
        "the cpu build of torch 2.14.1 is only on download.pytorch.org, unreachable here; examples/pip_parse's requirements were written with the same options per variant",
    "PYTHONPATH=python python3 -m rules_torch.lock --torch 2.5.1 --variants cpu --output torch.lock.json":
        "resolves against download.pytorch.org, unreachable here",
    "bazel run @rules_torch//python:lock_schema -- $PWD/third_party/torch.lock.json":
        "a user's path: needs a workspace with third_party/torch.lock.json (test_lock_schema.py checks the tool)",
    "PYTHONPATH=python python3 -m rules_torch.lock_schema third_party/torch.lock.json":
        "a user's path (test_lock_schema.py runs the tool on locks)",
    "uv lock": "in a user's uv project; python/tests/test_uv_import.py runs a real uv lock on a project of the same shape",
    "bazel run @rules_torch//python:lock -- --from-uv uv.lock --output third_party/torch.lock.json":
        "in a user's uv project; tests/integration/test_from_uv.py runs it (through bazel run) on a uv.lock of the machine's indexes",
    "python3 -m rules_torch.lock --from-uv uv.lock --output third_party/torch.lock.json":
        "in a user's uv project; python/tests/test_uv_import.py runs the same entry point",
    "uv pip compile requirements.in --universal --generate-hashes --index https://download.pytorch.org/whl/cpu -o pylock.cpu.toml":
        "download.pytorch.org is unreachable here; python/tests/test_pylock_import.py runs the same uv command on local indexes",
    "uv pip compile requirements.in --universal --generate-hashes --index https://download.pytorch.org/whl/cu130 -o pylock.cu130.toml":
        "download.pytorch.org is unreachable here; python/tests/test_pylock_import.py runs the same uv command on local indexes",
    "bazel run @rules_torch//python:lock -- --from-pylock pylock.cpu.toml --from-pylock pylock.cu130.toml --platforms linux_x86_64,linux_aarch64 --python 3.11 --output third_party/torch.lock.json":
        "in a user's workspace with their pylock files; python/tests/test_pylock_import.py imports uv-, pip- and tool-written files through the same entry point",
    "python3 -m pytest python/tests": "part of the test command itself",
    'python3 -m pytest python/tests -m "not real_torch"': "a subset of the test command itself",
    "bazel run //:train.venv": "a user's workspace; examples/basic's README runs the same (`//:main.venv`) and tests/integration/test_venv.py checks what it makes",
    "bazel run --config=cuda130 //:train.venv -- .venv-cu130": "a user's workspace; examples/cuda's README runs the same, tests/integration/test_venv.py makes venvs of two configs side by side",
    "bazel run @torch//:venv": "a user's hub; tests/integration/test_venv.py and test_cuda_runtime.py run @<hub>//:venv",
    "bazel run //:notebook": "a user's torch_py_venv over their pip.parse hub's ipykernel; tests/integration/test_venv.py runs torch_py_venv targets",
    '.venv/bin/python -m ipykernel install --user --name my-torch --display-name "torch (rules_torch)"':
        "writes into the user's Jupyter directory; tests/integration/test_venv.py runs the same command with --prefix and executes a notebook on that kernel",
    "PYTHONPATH=python:tests/support python3 python/tests/machine_indexes.py show": "a developer's helper, run by python/tests through its functions",
    "PYTHONPATH=python:tests/support python3 python/tests/machine_indexes.py lock torch-2.13.0-cpu --output /tmp/torch.lock.json": "a developer's helper, run by python/tests through its functions",
    "PYTHONPATH=python:tests/support python3 python/tests/machine_indexes.py lock torch-2.14.1-cu130 --output /tmp/torch.lock.json": "a developer's helper, run by python/tests through its functions",
    **dict.fromkeys(
        [
            "umoci init --layout image && umoci new --image image:app",
            "umoci raw add-layer --image image:app base.tar",
            "for layer in $(cat bazel-bin/main_layers.layers.txt); do umoci raw add-layer --image image:app bazel-bin/$layer; done",
            "umoci config --image image:app --config.entrypoint /app/bin/main",
        ],
        "in a user's workspace with a base.tar; tests/integration/test_image_layers.py runs the same umoci steps (tests/support/oci.py) on examples/container's layers",
    ),
    "skopeo copy oci:image:app docker://registry.example.com/team/main:1": "pushes to a user's registry (none here)",
    "skopeo copy oci:image:app docker-archive:main.tar:main:1": "in a user's workspace after the umoci steps; test_image_layers.py's runc test runs the same copy on its image (oci.docker_archive) and checks the archive",
}
# The main README's commands that this test runs (from the repository root).
MAIN_RUN = ["cd examples/basic && ../../tools/bazel run //:main"]
ALLOWED_WARNINGS = ("has changed, discarding analysis cache",)


def shell_commands(path: Path) -> list[str]:
    """The commands of a Markdown file's ```sh blocks: continuation lines joined, comments
    (whole-line and trailing `  # ...`) dropped."""
    commands = []
    for block in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", path.read_text(), re.S):
        text = re.sub(r"\\\n\s*", "", block)
        for line in text.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def run(command: str, cwd: Path, timeout: int = 1800) -> subprocess.CompletedProcess:
    # The examples name ../../tools/bazel; a user with bazel on PATH types `bazel` instead.
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
        env=dict(os.environ, NO_COLOR="1"),
    )


def warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if "WARNING" in line and not any(a in line for a in ALLOWED_WARNINGS)]


def test_shell_commands_parser(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("text\n```sh\n# a comment\nfoo --a \\\n    --b   # trailing\nbar\n```\n```starlark\nnot = 'this'\n```\n")
    assert shell_commands(readme) == ["foo --a --b", "bar"]


@pytest.mark.parametrize(
    "example",
    [pytest.param(e, id=e.name, marks=[pytest.mark.slow, pytest.mark.real_torch] if e.name in HEAVY else [pytest.mark.real_torch]) for e in EXAMPLES],
)
def test_example_readme_commands(example: Path):
    commands = shell_commands(example / "README.md")
    assert commands, f"{example}/README.md shows no command in a ```sh block"
    with cuda_closure_slot(f"examples/{example.name}") if example.name in HEAVY else contextlib.nullcontext():
        _run_example(example, commands)


def _run_example(example: Path, commands: list[str]) -> None:
    try:
        for command in commands:
            assert "tools/bazel" in command, f"{example.name}: '{command}' does not run Bazel through ../../tools/bazel"
            result = run(command, example)
            out = result.stdout + result.stderr
            assert result.returncode == 0, f"examples/{example.name}: `{command}` exited {result.returncode}:\n{out[-6000:]}"
            assert not warnings(out), f"examples/{example.name}: `{command}` printed warnings:\n" + "\n".join(warnings(out))
    finally:
        subprocess.run([str(BAZEL), "shutdown"], cwd=example, capture_output=True, timeout=300, check=False)
        if example.name in HEAVY and os.environ.get("RULES_TORCH_KEEP_WORKSPACES") != "1":
            subprocess.run([str(BAZEL), "clean", "--expunge"], cwd=example, capture_output=True, timeout=600, check=False)


def test_main_readme_command():
    try:
        result = run(MAIN_RUN[0], REPO)
    finally:
        subprocess.run([str(BAZEL), "shutdown"], cwd=REPO / "examples" / "basic", capture_output=True, timeout=300, check=False)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert "fitted y = " in out, out[-3000:]
    assert not warnings(out), "\n".join(warnings(out))


def test_every_command_is_accounted_for():
    """README.md's and docs/*.md's commands are run here or listed in NOT_RUN with a reason."""
    unaccounted = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for command in shell_commands(path):
            if command not in MAIN_RUN and command not in NOT_RUN:
                unaccounted.append(f"{path.relative_to(REPO)}: {command}")
    assert not unaccounted, "commands neither run by a test nor listed in NOT_RUN with a reason:\n" + "\n".join(unaccounted)
    stale = [c for c in NOT_RUN if not any(c in shell_commands(p) for p in [REPO / "README.md", *(REPO / "docs").glob("*.md")])]
    assert not stale, f"NOT_RUN lists commands no document shows any more: {stale}"
