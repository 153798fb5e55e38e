"""The `tool_wheels` module extension: the lock tool's dependencies as @rules_torch_tool_wheels.

`bazel run @rules_torch//python:lock` must work in every user's build, whatever rules_python
version it has. A `pip.parse` in rules_torch's MODULE.bazel cannot: its tag attributes changed
between rules_python versions, and rules_python evaluates every module's pip tags whenever any
module uses its pip extension. This extension reads python/tool_wheels.json and hands the wheels
to a repository of its own (repositories/tool_wheels_repo.bzl). Of a wheel with `os`/`arch` in the
JSON (uv's, a binary) it passes the host's to the repository (its contents then depend on its
attributes alone).
"""

load("//torch/private/repositories:metadata.bzl", "reproducible_extension")
load("//torch/private/repositories:tool_wheels_repo.bzl", "tool_wheels_repo")

_WHEELS = Label("//python:tool_wheels.json")

def _host(mctx):
    name, arch = mctx.os.name.lower(), mctx.os.arch.lower()
    host_os = "macos" if name.startswith("mac") else "windows" if name.startswith("windows") else name
    return host_os, {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)

def _tool_wheels_impl(mctx):
    host = _host(mctx)
    wheels = json.decode(mctx.read(mctx.path(_WHEELS)))
    chosen = [w for w in wheels if "os" not in w or (w["os"], w["arch"]) == host]
    names = {w["name"]: True for w in chosen}
    missing = {w["name"]: True for w in wheels if w["name"] not in names}
    tool_wheels_repo(
        name = "rules_torch_tool_wheels",
        libraries = {w["filename"]: w["name"] for w in chosen},
        urls = {w["filename"]: w["url"] for w in chosen},
        sha256s = {w["filename"]: w["sha256"] for w in chosen},
        missing = sorted(missing.keys()),
    )

    # Not reproducible: which uv binary it fetches depends on the host.
    return reproducible_extension(mctx, ["rules_torch_tool_wheels"], reproducible = False)

tool_wheels = module_extension(
    implementation = _tool_wheels_impl,
    doc = "Internal to rules_torch: the lock tool's dependencies as @rules_torch_tool_wheels.",
)
