"""docs/api.md is generated from the .bzl docstrings (tools/api_docs.py) and kept current."""

import subprocess
import sys

from harness import REPO


def test_api_reference_is_current():
    result = subprocess.run([sys.executable, str(REPO / "tools" / "api_docs.py"), "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_api_reference_documents_every_tag_attribute():
    text = (REPO / "docs" / "api.md").read_text()
    for heading in ("### `torch_py_binary`", "#### `torch.wheels`", "#### `torch.from_pip`", "## `@rules_torch//torch:variant`"):
        assert heading in text
    for attribute in ("lock", "default_variant", "python_version", "pip_deps", "compile_pyc", "variants", "packages"):
        assert f"| `{attribute}` |" in text, attribute
