"""The Bazel Central Registry templates (.bcr/) parse and name what exists: the test module's
directory is a module that overrides rules_torch with a local path (the presubmit replaces it
with the release), and every build target is a target of this repository."""

import json
import re

from harness import REPO

BCR = REPO / ".bcr"


def test_json_templates():
    metadata = json.loads((BCR / "metadata.template.json").read_text())
    assert metadata["repository"] == ["github:{OWNER}/{REPO}"] and metadata["versions"] == []
    source = json.loads((BCR / "source.template.json").read_text())
    assert {"integrity", "strip_prefix", "url"} <= set(source) and "{TAG}" in source["url"]


def test_presubmit_names_what_exists():
    text = (BCR / "presubmit.yml").read_text()
    module_path = re.search(r"^\s+module_path:\s*(\S+)", text, re.M).group(1)
    module = (REPO / module_path / "MODULE.bazel").read_text()
    assert 'bazel_dep(name = "rules_torch"' in module and 'module_name = "rules_torch"' in module
    targets = re.findall(r'^\s+- "@rules_torch//([^:]+):([^"]+)"', text, re.M)
    assert targets, text
    for package, name in targets:
        build = (REPO / package / "BUILD.bazel").read_text()
        assert re.search(rf'name = "{re.escape(name)}"', build), f"//{package}:{name} is not declared in {package}/BUILD.bazel"
    assert re.search(r"bazel: \[7\.x, 8\.x, 9\.x\]", text)
