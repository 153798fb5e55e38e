"""tools/junit_summary.py: the summary lines of tools/test.sh, from JUnit reports."""

from __future__ import annotations

import junit_summary

PASS = '<testcase classname="{c}" name="{n}"/>'
FAIL = '<testcase classname="{c}" name="{n}"><failure message="boom"/></testcase>'
SKIP = '<testcase classname="{c}" name="{n}"><skipped message="{m}"/></testcase>'


def _junit(tmp_path, name, *cases):
    path = tmp_path / name
    path.write_text('<?xml version="1.0"?><testsuites><testsuite name="pytest">' + "".join(cases) + "</testsuite></testsuites>")
    return str(path)


def test_compat_lines_per_version_and_remote(tmp_path):
    compat = "tests.integration.test_compat"
    remote = "tests.integration.test_remote"
    first = _junit(
        tmp_path, "a.xml",
        PASS.format(c=compat, n="test_lock_tool_runs[0.22.1]"),
        PASS.format(c=compat, n="test_torch_wheels[0.22.1]"),
        SKIP.format(c=compat, n="test_venv[0.22.1]", m="not applicable to 0.22.1"),
        FAIL.format(c=compat, n="test_torch_wheels[2.3.2]"),
        SKIP.format(c=compat, n="test_torch_wheels[10.1.0]", m="rules_python 10.1.0 NOT TESTED: no registry"),
    )
    second = _junit(tmp_path, "b.xml", PASS.format(c=remote, n="test_cache_hit"), SKIP.format(c=remote, n="test_gpu", m="not root"))
    assert junit_summary.compat_lines(junit_summary.read_cases([first, second, str(tmp_path / "missing.xml")])) == [
        "compatibility: rules_python 0.22.1: tested (2 passed, 0 failed, 1 not applicable)",
        "compatibility: rules_python 2.3.2: FAILED (0 passed, 1 failed, 0 not applicable)",
        "compatibility: rules_python 10.1.0: NOT TESTED (0 passed, 0 failed, 0 not applicable)",
        "remote execution (tools/rbe.sh): tested (1 passed, 0 failed, 1 skipped)",
    ]


def test_next_bazel_line(tmp_path):
    c = "tests.integration.test_selection"
    ok = _junit(tmp_path, "ok.xml", PASS.format(c=c, n="a"), PASS.format(c=c, n="b"))
    assert junit_summary.next_bazel_line(junit_summary.read_cases([ok])) == "next-bazel flags: tested (2 passed)"
    bad = _junit(tmp_path, "bad.xml", PASS.format(c=c, n="a"), FAIL.format(c=c, n="b"), SKIP.format(c=c, n="c", m="x"))
    assert junit_summary.next_bazel_line(junit_summary.read_cases([bad])) == "next-bazel flags: FAILED (1 passed, 1 failed, 1 skipped)"
    skipped = _junit(tmp_path, "skipped.xml", SKIP.format(c=c, n="a", m="x"))
    assert junit_summary.next_bazel_line(junit_summary.read_cases([skipped])) == "next-bazel flags: NOT TESTED (0 passed, 1 skipped)"
    assert junit_summary.next_bazel_line([]) == "next-bazel flags: NOT TESTED (no test ran)"


def test_failure_lines_name_each_failed_test_and_the_end_of_its_text(tmp_path):
    c = "tests.integration.test_remote"
    text = "\n".join(f"line {i}" for i in range(40))
    failed = f'<testcase classname="{c}" name="test_cuda"><failure message="AssertionError: boom">{text}</failure></testcase>'
    report = _junit(tmp_path, "r.xml", PASS.format(c=c, n="test_ok"), failed, SKIP.format(c=c, n="test_skip", m="x"))
    lines = junit_summary.failure_lines(junit_summary.read_cases([report]), tail=3)
    assert lines == ["FAILED tests/integration/test_remote.py::test_cuda", "    line 37", "    line 38", "    line 39"]
    assert junit_summary.failure_lines(junit_summary.read_cases([_junit(tmp_path, "ok.xml", PASS.format(c=c, n="a"))])) == []


def test_usage_error():
    assert junit_summary.main(["nonsense"]) == 2
