"""examples/basic under Bazel 8/9's flags (tools/next_bazel.bazelrc), as a Bazel 9 user runs it.

Runs in tools/test.sh's "next-bazel flags" step (RULES_TORCH_NEXT_BAZEL=1), beside the
compatibility matrix and the selection, runtime and remote tests under the same flags; skipped,
with that reason, in the main pytest run. The example is copied as it is (its MODULE.bazel's
local_path_override pointed at this checkout) and a Python 3.11 toolchain registered, which a
Bazel 9 user of rules_python 1.x or later has by default (harness.NEXT_BAZEL).
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from harness import NEXT_BAZEL, NEXT_BAZEL_REGISTER, REPO, root_bazel

EXAMPLE = REPO / "examples" / "basic"

pytestmark = [
    pytest.mark.real_torch,
    pytest.mark.skipif(not NEXT_BAZEL, reason="runs in tools/test.sh's next-bazel step (RULES_TORCH_NEXT_BAZEL=1)"),
]


@pytest.fixture(scope="module")
def example(workspace_factory):
    ws = workspace_factory("next_bazel_basic", heavy=True)
    for path in ("BUILD.bazel", "main.py", "model.py", "model_test.py", "third_party/BUILD.bazel", "third_party/torch.lock.json"):
        (ws.root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(EXAMPLE / path, ws.root / path)
    module = (EXAMPLE / "MODULE.bazel").read_text()
    module, count = re.subn(r'path = "\.\./\.\."', f"path = {json.dumps(str(REPO))}", module)
    assert count == 1, "examples/basic/MODULE.bazel no longer overrides rules_torch with path = \"../..\""
    ws.write("MODULE.bazel", module + NEXT_BAZEL_REGISTER)
    # The example's own .bazelrc, then the workspace's (the next-bazel flags and toolchain).
    ws.write(".bazelrc", (EXAMPLE / ".bazelrc").read_text() + ws.root.joinpath(".bazelrc").read_text())
    return ws


def test_example_tests_pass(example):
    result = example.bazel("test", "//...")
    assert result.returncode == 0, result.stdout[-6000:]
    assert re.search(r"//:model_test\s+PASSED", result.stdout), result.stdout[-3000:]


def test_example_runs(example):
    result = example.bazel("run", "//:main")
    assert result.returncode == 0, result.stdout[-6000:]
    assert "torch 2.13.0+cpu" in result.stdout and "fitted" in result.stdout, result.stdout[-3000:]


# Bazel 8/9 flags this Bazel does not have, so tools/next_bazel.bazelrc cannot set them: the
# README's Compatibility section says, for each, what we read and what a user does. A Bazel here
# that accepts one fails this test: the flag then belongs in next_bazel.bazelrc.
LACKING = (
    "--incompatible_disable_autoloads_in_main_repo",
    "--incompatible_repo_env_ignores_action_env",
    "--incompatible_compact_repo_mapping_manifest",
    "--incompatible_locations_prefers_executable",
    "--@bazel_tools//tools/test:incompatible_use_default_test_toolchain",
    "--incompatible_remove_ctx_py_fragment",
    "--incompatible_remove_ctx_bazel_py_fragment",
)


@pytest.mark.parametrize("flag", LACKING)
def test_each_flag_this_bazel_lacks_is_documented(flag):
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### Compatibility") : readme.index("### The lock")]
    assert f"`{flag}`" in section, f"README's Compatibility section does not say what {flag} means for rules_torch"
    assert flag in (REPO / "tools" / "next_bazel.bazelrc").read_text(), f"next_bazel.bazelrc's header does not list {flag}"
    result = root_bazel("build", "--nobuild", flag, "//tests/starlark:BUILD.bazel", timeout=600)
    refused = "Unrecognized option" in result.stderr or "no such target" in result.stderr
    assert result.returncode != 0 and refused, f"this Bazel accepts {flag}: add it to tools/next_bazel.bazelrc\n{result.stderr[-2000:]}"
