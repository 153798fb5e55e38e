"""The options the lock tool's two front ends share are one declaration: same names, defaults
and help in both, and left out of what an imported lock records to re-import it."""

from __future__ import annotations

from rules_torch import lock, uv_import
from rules_torch.options import without_shared_options

SHARED = ("--output", "--cache-dir", "--no-cache", "--timeout", "-q")


def _actions(parser) -> dict[str, tuple]:
    return {
        name: (action.dest, action.default, action.help, action.metavar, action.required, action.type)
        for action in parser._actions
        for name in action.option_strings
    }


def test_both_front_ends_declare_the_shared_options_alike() -> None:
    resolving, importing = _actions(lock.build_parser()), _actions(uv_import.build_parser())
    for name in SHARED:
        assert name in resolving and resolving[name] == importing[name], name


def test_the_shared_options_are_not_recorded() -> None:
    argv = ["--from-uv", "uv.lock", "--output", "a.json", "--cache-dir=c", "--timeout", "3", "-q", "--no-cache"]
    argv += ["--variant", "gpu=cu130", "--output=b.json", "--quiet", "--platforms", "linux_x86_64"]
    kept = ["--from-uv", "uv.lock", "--variant", "gpu=cu130", "--platforms", "linux_x86_64"]
    assert without_shared_options(argv) == kept
