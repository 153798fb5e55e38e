"""harness.cuda_closure_slot: two test processes never hold the CUDA closure on disk at once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import harness
from harness import REPO

CHILD = textwrap.dedent(
    """
    import sys, time
    import _pytest.outcomes
    import harness
    start = time.monotonic()
    try:
        with harness.cuda_closure_slot("child", timeout=float(sys.argv[1])):
            print(f"got it after {time.monotonic() - start:.1f} s")
    except _pytest.outcomes.Failed as e:
        print(f"failed: {e}")
    """
)


def _child(lock, timeout: float) -> subprocess.Popen:
    env = dict(os.environ, RULES_TORCH_CUDA_SLOT_LOCK=str(lock))
    env["PYTHONPATH"] = os.pathsep.join(str(REPO / p) for p in ("tests/integration", "tests/support", "python"))
    return subprocess.Popen([sys.executable, "-c", CHILD, str(timeout)], stdout=subprocess.PIPE, text=True, env=env)


def test_a_second_process_waits_for_the_slot_and_names_the_holder(tmp_path, monkeypatch):
    lock = tmp_path / "slot.lock"
    monkeypatch.setattr(harness, "CUDA_SLOT_LOCK", lock)
    with harness.cuda_closure_slot("workspace cuda"):
        with harness.cuda_closure_slot("nested in the same process"):  # re-entrant
            impatient = _child(lock, 1).communicate(timeout=60)[0]
        patient = _child(lock, 60)
        time.sleep(3)
        assert patient.poll() is None, "the second process took the slot while this one held it"
    waited = patient.communicate(timeout=60)[0]
    assert f"failed: child waited 1 s for the CUDA-closure slot ({lock}), held by: workspace cuda (pid {os.getpid()})" in impatient
    assert waited.startswith("got it after"), waited
    assert float(waited.split()[3]) >= 2.0, waited
    with harness.cuda_closure_slot("again"):  # given back: this process takes it at once
        pass
