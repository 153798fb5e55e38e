"""No reliance on what Bazel 9 removed: every language rule and symbol that left Bazel's global
scope (py_* and PyInfo for rules_python, cc_* and CcInfo/cc_common for rules_cc, java_*, sh_*,
proto_*) is loaded from its rule set wherever our Starlark uses it: the module's .bzl and BUILD
files, the examples, the test workspaces' BUILD templates, the BUILD text our repository rules
and tests generate (string literals that call a rule), and the README's and docs' Starlark
snippets a user copies.

Bazel 7.7.1 cannot remove these symbols (tools/next_bazel.bazelrc says why), so this reads the
files as text: Starlark tokenizes as Python.
"""

from __future__ import annotations

import functools
import io
import re
import subprocess
import tokenize
from pathlib import Path

from harness import REPO

# Removed from the global scope of BUILD and .bzl files in Bazel 9 (the rule sets' own load()s).
REMOVED = {
    "rules_cc": {
        "cc_binary", "cc_import", "cc_library", "cc_shared_library", "cc_static_library", "cc_test", "cc_toolchain",
        "cc_common", "CcInfo", "CcSharedLibraryInfo", "CcToolchainConfigInfo", "DebugPackageInfo",
        "objc_import", "objc_library",
    },
    "rules_python": {"py_binary", "py_library", "py_runtime", "py_test", "PyInfo", "PyRuntimeInfo", "PyCcLinkParamsProvider"},
    "rules_java": {"java_binary", "java_import", "java_library", "java_plugin", "java_runtime", "java_test", "java_toolchain", "JavaInfo", "java_common"},
    "rules_shell": {"sh_binary", "sh_library", "sh_test"},
    "protobuf": {"proto_library", "ProtoInfo", "proto_common"},
}
SYMBOLS = {symbol: ruleset for ruleset, symbols in REMOVED.items() for symbol in symbols}

STARLARK = ("torch", "python", "examples", "tests")


@functools.cache
def _source_files() -> tuple[Path, ...]:
    """The repository's own files: tracked or not yet added, never ignored ones (test workspaces,
    output bases, caches: gigabytes of other projects' BUILD files)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout
    return tuple(REPO / name for name in sorted(set(listed.split("\0"))) if name and (REPO / name).is_file())


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    return [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in (tokenize.COMMENT, tokenize.NL)]


def _loaded(tokens: list[tokenize.TokenInfo]) -> set[str]:
    """The local names load() statements bind: load("f", "a", b = "c") binds a and b."""
    names = set()
    for i, token in enumerate(tokens):
        if token.type != tokenize.NAME or token.string != "load" or i + 1 >= len(tokens) or tokens[i + 1].string != "(":
            continue
        depth, j, first = 0, i + 1, True
        while j < len(tokens):
            t = tokens[j]
            depth += {"(": 1, ")": -1}.get(t.string, 0)
            if depth == 0:
                break
            if depth == 1 and t.type == tokenize.STRING and not first and tokens[j - 1].string in (",", "("):
                names.add(t.string.strip("\"'"))
            if depth == 1 and t.type == tokenize.NAME and tokens[j + 1].string == "=":
                names.add(t.string)
            if t.type == tokenize.STRING:
                first = False
            j += 1
    return names


def _defined(tokens: list[tokenize.TokenInfo]) -> set[str]:
    """Names the file binds itself: assigned at the start of a statement, or a def's parameters."""
    names = set()
    for i, token in enumerate(tokens):
        if token.type != tokenize.NAME or i + 1 >= len(tokens):
            continue
        at_start = i == 0 or tokens[i - 1].type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
        if at_start and tokens[i + 1].string == "=":
            names.add(token.string)
        if token.string == "def":
            depth, j = 0, i + 2
            while j < len(tokens):
                depth += {"(": 1, ")": -1}.get(tokens[j].string, 0)
                if depth == 0:
                    break
                if depth == 1 and tokens[j].type == tokenize.NAME and tokens[j - 1].string in ("(", ",", "*", "**"):
                    names.add(tokens[j].string)
                j += 1
    return names


def _unloaded(text: str, loaded_elsewhere: frozenset[str] = frozenset()) -> list[str]:
    """The removed symbols `text` (Starlark) uses without loading them, and native.<symbol>.
    `loaded_elsewhere`: names that other pieces of the same generated file load."""
    tokens = _tokens(text)
    bound = _loaded(tokens) | _defined(tokens) | loaded_elsewhere
    problems = []
    for i, token in enumerate(tokens):
        if token.type != tokenize.NAME or token.string not in SYMBOLS:
            continue
        previous = tokens[i - 1].string if i else ""
        following = tokens[i + 1].string if i + 1 < len(tokens) else ""
        if previous == "." and i >= 2 and tokens[i - 2].string == "native":
            problems.append(f"native.{token.string} (load it from @{SYMBOLS[token.string]})")
        elif previous in (".", "def") or (following == "=" and previous in ("(", ",")):
            continue  # an attribute, a definition, or a keyword argument
        elif token.string not in bound:
            problems.append(f"{token.string} used on line {token.start[0]} without a load from @{SYMBOLS[token.string]}")
    return problems


_QUOTES = re.compile(r"""^[rbfRBF]*(\"\"\"|'''|"|')(.*)\1$""", re.S)


def _parses(text: str) -> bool:
    try:
        _tokens(text)
    except (tokenize.TokenError, SyntaxError):
        return False
    return True


def _build_texts(text: str) -> list[str]:
    """The string literals of a .bzl or Python file that are BUILD text (they call a removed
    rule, or load()), nested ones (a build_file_content inside a template) included. Docstrings,
    and strings that do not tokenize as Starlark (messages, a test's Python source), are left out."""
    if not _parses(text):
        return []
    tokens = _tokens(text)
    found = []
    for i, token in enumerate(tokens):
        if token.type != tokenize.STRING or i == 0 or tokens[i - 1].type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            continue
        match = _QUOTES.match(token.string)
        if not match:
            continue
        body = match.group(2).replace("\\n", "\n").replace('\\"', '"')
        calls = any(re.search(rf"(?<![\w.]){re.escape(symbol)}\(", body) for symbol in SYMBOLS)
        if ("load(" in body or calls) and _parses(body):
            found.append(body)
            found += _build_texts(body)
    return found


def _generated_problems(text: str) -> list[str]:
    """What the BUILD text a file generates uses without a load; the pieces of one generated file
    (a header with the loads, a body per target) load for each other."""
    snippets = _build_texts(text)
    loaded = frozenset().union(*(_loaded(_tokens(snippet)) for snippet in snippets))
    return [problem for snippet in snippets for problem in _unloaded(snippet, loaded)]


def _starlark_files() -> list[Path]:
    files = [
        path for path in _source_files()
        if path.relative_to(REPO).parts[0] in STARLARK
        and (path.suffix == ".bzl" or path.name in ("BUILD.bazel", "BUILD", "BUILD.bazel.in"))
    ]
    return sorted(files + [REPO / "BUILD.bazel", REPO / "MODULE.bazel"])


def _problems() -> list[str]:
    problems = []
    for path in _starlark_files():
        text = path.read_text()
        where = path.relative_to(REPO)
        problems += [f"{where}: {p}" for p in _unloaded(text)]
        if path.suffix == ".bzl":
            problems += [f"{where} (generated BUILD text): {p}" for p in _generated_problems(text)]
    for path in _source_files():
        if path.relative_to(REPO).parts[0] != "tests" or path.suffix != ".py" or path == Path(__file__):
            continue
        problems += [f"{path.relative_to(REPO)} (test BUILD text): {p}" for p in _generated_problems(path.read_text())]
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "examples").glob("*/README.md"))]:
        for block in re.findall(r"```starlark\n(.*?)```", path.read_text(), re.S):
            problems += [f"{path.relative_to(REPO)} (snippet): {p}" for p in _unloaded(block)]
    return problems


def test_every_removed_symbol_is_loaded():
    assert _problems() == []


def test_the_check_finds_an_unloaded_rule_a_native_call_and_generated_text():
    assert _unloaded('cc_test(name = "t", srcs = ["t.cc"])\n') == ["cc_test used on line 1 without a load from @rules_cc"]
    assert _unloaded('load("@rules_cc//cc:cc_test.bzl", "cc_test")\ncc_test(name = "t")\n') == []
    assert _unloaded('load("@rules_cc//cc/common:cc_info.bzl", _CcInfo = "CcInfo")\nX = _CcInfo\n') == []
    assert _unloaded("def f(ctx):\n    return ctx.attr.dep[CcInfo]\n") == ["CcInfo used on line 2 without a load from @rules_cc"]
    assert _unloaded("def f():\n    native.py_library(name = 'x')\n") == ["native.py_library (load it from @rules_python)"]
    assert _unloaded("def f(ctx, cc_toolchain):\n    cc_toolchain = 1\n    return struct(cc_test = cc_toolchain)\n") == []
    template = 'X = """\nload("@rules_python//python:defs.bzl", "py_library")\npy_library(name = "a")\ncc_library(name = "b")\n"""\n'
    assert _generated_problems(template) == ["cc_library used on line 4 without a load from @rules_cc"]
    nested = "X = \"\"\"\nrepo(build_file_content = 'cc_library(name = \"h\")')\n\"\"\"\n"
    assert _generated_problems(nested) == ["cc_library used on line 1 without a load from @rules_cc"]
