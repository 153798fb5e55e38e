"""The summary lines tools/test.sh prints from pytest's JUnit reports.

    python3 tools/junit_summary.py compat JUNIT...       one line per rules_python version of
                                                          test_compat, and one for test_remote
    python3 tools/junit_summary.py next-bazel JUNIT...   one line for the next-bazel step
    python3 tools/junit_summary.py failures JUNIT...     each failed test and the end of what it
                                                          printed (the run's last lines, so a log
                                                          cut in the middle still shows why)

A test skipped with "NOT TESTED" in its reason (a rules_python version whose registry is missing)
makes its group NOT TESTED, never "tested"; a failure or error makes it FAILED.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    classname: str
    name: str
    outcome: str  # passed, FAILED, NOT TESTED, skipped
    detail: str = ""  # a failure's or error's message and text


def read_cases(paths: list[str]) -> list[Case]:
    """The test cases of JUnit files; a missing or unreadable file (a step that never ran) has none."""
    cases = []
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (ET.ParseError, OSError):
            continue
        for case in root.iter("testcase"):
            outcome, detail = "passed", ""
            for child in case:
                if child.tag in ("failure", "error"):
                    outcome = "FAILED"
                    detail += f"{child.get('message') or ''}\n{child.text or ''}"
                elif child.tag == "skipped" and outcome == "passed":
                    outcome = "NOT TESTED" if "NOT TESTED" in (child.get("message") or "") else "skipped"
            cases.append(Case(case.get("classname", ""), case.get("name", ""), outcome, detail))
    return cases


def _verdict(counts: Counter) -> str:
    return "FAILED" if counts["FAILED"] else ("NOT TESTED" if counts["NOT TESTED"] else "tested")


def compat_lines(cases: list[Case]) -> list[str]:
    by_version: dict[str, Counter] = {}
    remote: Counter = Counter()
    for case in cases:
        if case.classname.endswith(".test_remote"):
            remote[case.outcome] += 1
        match = re.search(r"\[(.+)\]", case.name) if case.classname.endswith(".test_compat") else None
        if match:
            by_version.setdefault(match.group(1), Counter())[case.outcome] += 1
    lines = []
    for version, counts in sorted(by_version.items(), key=lambda kv: [int(p) for p in kv[0].split(".") if p.isdigit()]):
        lines.append(
            f"compatibility: rules_python {version}: {_verdict(counts)} "
            f"({counts['passed']} passed, {counts['FAILED']} failed, {counts['skipped']} not applicable)"
        )
    if remote:
        lines.append(
            f"remote execution (tools/rbe.sh): {_verdict(remote)} "
            f"({remote['passed']} passed, {remote['FAILED']} failed, {remote['NOT TESTED'] + remote['skipped']} skipped)"
        )
    return lines


def next_bazel_line(cases: list[Case]) -> str:
    counts = Counter(case.outcome for case in cases)
    if not cases:
        return "next-bazel flags: NOT TESTED (no test ran)"
    verdict = _verdict(counts) if counts["passed"] or counts["FAILED"] else "NOT TESTED"
    skipped = counts["NOT TESTED"] + counts["skipped"]
    parts = [f"{counts['passed']} passed"] + [f"{counts['FAILED']} failed"] * bool(counts["FAILED"]) + [f"{skipped} skipped"] * bool(skipped)
    return f"next-bazel flags: {verdict} ({', '.join(parts)})"


def failure_lines(cases: list[Case], tail: int = 25) -> list[str]:
    """Each failed case by its pytest id, then the last `tail` lines of its failure text."""
    lines = []
    for case in cases:
        if case.outcome != "FAILED":
            continue
        lines.append(f"FAILED {case.classname.replace('.', '/')}.py::{case.name}")
        text = [line for line in case.detail.splitlines() if line.strip()]
        lines += [f"    {line}" for line in text[-tail:]]
    return lines


MODES = {
    "compat": compat_lines,
    "next-bazel": lambda cases: [next_bazel_line(cases)],
    "failures": failure_lines,
}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in MODES:
        print(f"usage: junit_summary.py {'|'.join(MODES)} JUNIT...", file=sys.stderr)
        return 2
    lines = MODES[argv[0]](read_cases(argv[1:]))
    if lines:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
