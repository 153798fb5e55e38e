"""rules_torch under remote execution and remote caching, against a real REAPI service.

tools/rbe.sh starts BuildGrid (scheduler, CAS, action cache) and two buildbox workers on
loopback: `cpu-1`, and `gpu-1`, which also advertises `Pool=gpu`; plus a cache-only server.
Each worker shows its name to actions in /run/rbe-worker/name, and the tests' program prints
where it ran. A worker sees only its action's inputs (and the host's Python installation, as
the local toolchain does): a launcher or a tree that read anything else, such as the output
base's external/ directory, fails here.

Tests:
- a torch_py_test on the real CPU torch executes remotely and passes; after `bazel clean` it
  is a remote cache hit; with `--remote_download_minimal` it runs again remotely with the cell's
  tree never written to the local disk;
- GPU routing: tests tagged requires-gpu, with a `gpu_workers` execution platform
  (`@rules_torch//torch/platforms:gpu`, exec_properties `{"Pool": "gpu"}`) listed after the host
  and `--@rules_torch//torch:route_gpu_tests`, run only on gpu-1, and fail there naming the
  missing NVIDIA driver (the workers have no GPU: a routed GPU test must not skip to PASSED);
- remote cache only: a second workspace gets the test result and the tree from the cache and
  executes nothing;
- the real CUDA 13 torch test that opens the CUDA libraries by soname passes on a worker (slow).

Needs root (the service runs in a chroot, provisioned once by `tools/rbe.sh provision`, ~90 s).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from harness import DOCTOR, REPO, lock_real_torch, real_cuda_workspace

RBE = REPO / "tools" / "rbe.sh"
LOCK = REPO / "tests" / "locks" / "torch_cpu.lock.json"
CELL = "cpu_linux_x86_64_cp311"
PROGRAMS = Path(__file__).resolve().parent / "cuda_runtime"

MODULE = """\
torch.wheels(hub = "torch", lock = "//:torch.lock.json", default_variant = "{variant}")
use_repo(torch, "torch")
"""

WHERE = """\
import torch

x = torch.ones(64, 64)
assert float((x @ x).sum()) == 64.0**3
try:
    with open("/run/rbe-worker/name") as f:  # tools/rbe.sh's workers
        where = f.read().strip()
except OSError:
    where = "local"
print(f"ran on: {where}; torch {torch.__version__}")
"""

# The GPU workers, as the README shows: tests tagged requires-gpu go there under ROUTE's flags.
GPU_WORKERS = """
platform(
    name = "gpu_workers",
    parents = ["@platforms//host"],
    constraint_values = ["@rules_torch//torch/platforms:gpu"],
    exec_properties = {"Pool": "gpu"},
)
"""

BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_py_test")

TORCH = ["@torch//:torch"]

torch_py_test(name = "matmul_test", srcs = ["where.py"], main = "where.py", deps = TORCH)

torch_py_test(name = "second_test", srcs = ["where.py"], main = "where.py", deps = TORCH)

# Routed to workers with Pool=gpu (ROUTE).
[torch_py_test(
    name = "gpu_{}_test".format(i),
    srcs = ["where.py"],
    main = "where.py",
    tags = ["requires-gpu"],
    deps = TORCH,
) for i in range(3)]

# Its own exec_properties win over the platform's on a shared key.
torch_py_test(
    name = "own_pool_test",
    srcs = ["where.py"],
    main = "where.py",
    exec_properties = {"Pool": "big"},
    tags = ["manual", "requires-gpu"],
    deps = TORCH,
)
"""


# The .bazelrc lines the README gives for routing GPU tests (torch/platforms/BUILD.bazel).
ROUTE = ["--extra_execution_platforms=@platforms//host,//:gpu_workers", "--@rules_torch//torch:route_gpu_tests"]


GPU_TESTS = [f"//:gpu_{i}_test" for i in range(3)]
NOT_GPU = [f"-{t}" for t in GPU_TESTS]
# A --run_under prefix that writes the worker's name (tools/rbe.sh's workers) into the test log.
WORKER_NAME = """/bin/sh -c 'echo "ran on: $(cat /run/rbe-worker/name 2>/dev/null || echo local);"; exec "$0" "$@"'"""


# The README's line for builds whose tests all run remotely: the tree's ticket may come from the
# cache (no local test needs Bazel to write the tree here), so a cache hit executes nothing.
EVERY_TEST_REMOTE = ["--modify_execution_info=TorchCellReady=-no-cache"]


def _rbe(*args: str) -> str:
    result = subprocess.run([str(RBE), *args], capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, f"tools/rbe.sh {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return (result.stdout.strip().splitlines() or [""])[-1]


@pytest.fixture(scope="module")
def rbe():
    """The loopback service: struct-like dict of Bazel flags for remote execution and cache."""
    if os.geteuid() != 0:
        pytest.skip("NOT TESTED: remote execution needs root (tools/rbe.sh runs the service in a chroot)")
    _rbe("down")
    try:
        flags = {
            "exec": _rbe("up", "--worker", "cpu-1", "--worker", "gpu-1:Pool=gpu").split() + ROUTE + EVERY_TEST_REMOTE,
            "cache": _rbe("up", "--cache-only").split(),
        }
        yield flags
    finally:
        _rbe("down")
        _rbe("wipe")  # gigabytes of blobs (the CUDA closure twice)


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout[-8000:]
    return result.stdout


def _processes(output: str) -> dict[str, int]:
    """Bazel's "INFO: N processes: 3 remote, 1 internal." line as {"remote": 3, "internal": 1}."""
    lines = re.findall(r"INFO: \d+ process(?:es)?: (.*)\.", output)
    assert lines, f"no process summary in:\n{output[-4000:]}"
    return {kind.strip(): int(n) for n, kind in re.findall(r"(\d+) ([a-z -]+?)(?:,|$)", lines[-1])}


def _spawns(log: Path) -> list[dict]:
    """The spawns of a --execution_log_json_file (a stream of JSON objects)."""
    text, decoder, spawns, at = log.read_text(), json.JSONDecoder(), [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        spawn, at = decoder.raw_decode(text, at)
        spawns.append(spawn)
    return spawns


def _ran_on(ws, target: str) -> str:
    log = (ws.root / "bazel-testlogs" / target / "test.log").read_text()
    match = re.search(r"ran on: (\S+);", log)
    assert match, log[-2000:]
    return match.group(1)


def local_bytes(path: Path, skip: str | None = None) -> int:
    """Bytes of the files under `path` (symlinks as links), without its subdirectory `skip`."""
    total = 0
    for root, dirs, files in os.walk(path):
        if skip and root == str(path):
            dirs[:] = [d for d in dirs if d != skip]
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def cpu_workspace(ws, module_name: str | None = None):
    """Writes the CPU workspace (torch 2.13.0+cpu, the tests above) into `ws`; returns it."""
    ws.write_module(MODULE.format(variant="cpu"), module_name)
    ws.write("torch.lock.json", LOCK.read_text())
    ws.write("where.py", WHERE)
    ws.write("BUILD.bazel", BUILD + GPU_WORKERS)
    return ws


def _test_actions(ws, *flags: str, mnemonic: str = "TestRunner") -> dict[str, tuple[str, str]]:
    """{test name: (execution platform, its Pool property or "")} of every TestRunner action (or
    another mnemonic's), by aquery (whose ExecutionInfo shows the exec properties among the
    execution requirements)."""
    out = _ok(ws.bazel("aquery", *flags, f'mnemonic("{mnemonic}", //... + //:own_pool_test)'))
    actions = {}
    for block in out.split("\naction ")[1:]:
        name = re.search(r"Target: //:(\S+)", block).group(1)
        platform = re.search(r"\n  Execution platform: (\S+)", block).group(1)
        pool = re.search(r"\n  ExecutionInfo: \{[^}]*\bPool: (\w+)", block)
        actions[name] = (platform, pool.group(1) if pool else "")
    return actions


def test_gpu_tests_go_to_the_gpu_platform_when_routed(workspace_factory):
    """Analysis only, no service: with ROUTE, the tagged tests' test actions run on gpu_workers
    with its exec properties (a test's own win); the others, and every test without the flag,
    on the host platform with none."""
    ws = cpu_workspace(workspace_factory("remote_props"))
    routed = _test_actions(ws, *ROUTE)
    assert routed["matmul_test"] == ("@platforms//host:host", ""), routed
    assert {routed[f"gpu_{i}_test"] for i in range(3)} == {("//:gpu_workers", "gpu")}, routed
    assert routed["own_pool_test"] == ("//:gpu_workers", "big"), routed
    # Only the test action: the tests' build actions (writing the launcher's plan) stay on the host.
    plans = _test_actions(ws, *ROUTE, mnemonic="FileWrite")
    assert {plans[f"gpu_{i}_test"][0] for i in range(3)} == {"@platforms//host:host"}, plans
    # The platform registered but the flag not set: GPU tests run where the others do.
    unrouted = _test_actions(ws, ROUTE[0])
    assert {platform for platform, _ in unrouted.values()} == {"@platforms//host:host"}, unrouted
    # Routed with no GPU platform: analysis fails (no execution platform for the test action's
    # group; the README's error table explains it), and --toolchain_resolution_debug names the
    # missing constraint.
    out = ws.bazel("build", "--nobuild", ROUTE[1], "--toolchain_resolution_debug=//:gpu_0_test", "//:gpu_0_test").stdout
    assert "While resolving toolchains for target //:gpu_0_test" in out, out[-3000:]
    assert "Unable to find an execution platform for target platform" in out, out[-3000:]
    assert "it is missing constraint @@rules_torch~//torch/platforms:gpu" in out.replace("+", "~"), out[-3000:]


@pytest.mark.real_torch
def test_remote_execution_cache_hit_and_build_without_the_bytes(rbe, workspace_factory):
    ws = cpu_workspace(workspace_factory("remote_exec", heavy=True))
    flags = rbe["exec"]

    # 1. Everything executes on the workers: the cell's tree and every test (the GPU tests below).
    out = _ok(ws.bazel("test", *flags, "--", "//...", *NOT_GPU))
    processes = _processes(out)
    assert processes.get("remote", 0) >= 3, processes  # the tree + 2 tests
    assert not {k for k in processes if "sandbox" in k or k == "local"}, processes
    where = {t: _ran_on(ws, t) for t in ("matmul_test", "second_test")}
    assert where["matmul_test"] in ("cpu-1", "gpu-1"), where

    # The GPU tests reach gpu-1 only, and fail there: these workers have no GPU (and the cell is
    # a CPU build), and a routed requires-gpu test that finds no usable device must not skip to
    # PASSED. (--run_under says where each ran: the launcher fails before the program runs.)
    result = ws.bazel("test", *flags, "--nocache_test_results", f"--run_under={WORKER_NAME}", *GPU_TESTS)
    assert result.returncode == 3, result.stdout[-6000:]  # 3: tests failed
    for target in GPU_TESTS:
        log = (ws.root / "bazel-testlogs" / target[3:] / "test.log").read_text()
        assert _ran_on(ws, target[3:]) == "gpu-1", log[-3000:]
        assert f"{target} is tagged requires-gpu and GPU tests are routed to GPU workers" in log, log[-3000:]
        assert "no NVIDIA driver" in log and f"cell {CELL} is not a CUDA build of torch" in log, log[-3000:]

    # 2. After `bazel clean`: remote cache hits, nothing executes.
    _ok(ws.bazel("clean"))
    out = _ok(ws.bazel("test", *flags, "--", "//...", *NOT_GPU))
    processes = _processes(out)
    assert processes.get("remote cache hit", 0) >= 2 and "remote" not in processes, processes

    # 3. Build without the bytes: the test runs remotely again (not from the cache) and the
    #    tree never comes to the local disk.
    _ok(ws.bazel("clean"))
    out = _ok(ws.bazel("test", *flags, "--remote_download_minimal", "--nocache_test_results", "//:matmul_test"))
    assert _processes(out).get("remote", 0) >= 1, out[-3000:]
    assert _ran_on(ws, "matmul_test") in ("cpu-1", "gpu-1")
    trees = ws.tree_dirs(CELL)
    assert not any(any(tree.iterdir()) for tree in trees if tree.is_dir()), f"the tree was downloaded: {trees}"
    execroot = ws.output_base() / "execroot"
    print(f"\nbuild without the bytes: {local_bytes(execroot) / 1e3:.0f} kB under execroot/")


@pytest.mark.real_torch
def test_remote_cache_gives_a_fresh_workspace_the_result_and_the_tree(rbe, workspace_factory):
    flags = rbe["cache"]
    # Two checkouts of one repository: the same module name (runfiles' _repo_mapping holds it).
    first = cpu_workspace(workspace_factory("remote_cache_a", heavy=True), "remote_cache")
    out = _ok(first.bazel("test", *flags, "//:matmul_test"))
    assert _processes(out).get("remote cache hit", 0) == 0, out[-3000:]  # a cache the test run fills

    # A second workspace, same sources: its own output base, nothing built there yet. All
    # outputs downloaded (--remote_download_all), so the tree's files come here from the cache.
    second = cpu_workspace(workspace_factory("remote_cache_b", heavy=True), "remote_cache")
    log = second.root / "exec_log.json"
    out = _ok(second.bazel("test", *flags, "--remote_download_all", f"--execution_log_json_file={log}", "//:matmul_test"))
    processes = _processes(out)
    assert processes.get("remote cache hit", 0) >= 2, processes  # the tree and the test
    # The one action that runs here is the tree's ticket (never taken from a cache: it is what
    # makes Bazel write the tree to this disk before a local test reads it; 65 bytes).
    executed = [spawn.get("mnemonic") for spawn in _spawns(log) if not spawn.get("cacheHit")]
    assert executed == ["TorchCellReady"], (executed, processes)
    assert _ran_on(second, "matmul_test") == "local"  # the result the first workspace uploaded
    trees = [t for t in second.tree_dirs(CELL) if (t / "torch" / "__init__.py").is_file()]
    assert len(trees) == 1, f"the tree did not come from the cache: {second.tree_dirs(CELL)}"


# large: on the worker it opens every library of the 2.9 GB closure from a cold page cache, beside
# the other lane's builds on a 2-core runner.
CUDA_BUILD = """\
load("@rules_torch//torch:defs.bzl", "torch_py_test")

torch_py_test(name = "libs_test", size = "large", srcs = ["check_libs.py", "doctor.py"], main = "check_libs.py", deps = ["@torch//:torch"])
"""

# benchmarks/remote.py: a second test on the CUDA cell.
SECOND_CUDA_TEST = """
torch_py_test(name = "where_test", srcs = ["where.py"], main = "where.py", deps = ["@torch//:torch"])
"""


@pytest.mark.slow
@pytest.mark.real_torch
def test_cuda_libraries_load_on_a_worker(rbe, workspace_factory):
    """The CUDA 13 torch 2.14.1 closure's libraries open by soname on the worker."""

    def prepare(ws, index):
        ws.write_module(MODULE.format(variant="cu130"))
        lock_real_torch(ws, "2.14.1", "cu130", index)
        shutil.copy(PROGRAMS / "check_libs.py", ws.root / "check_libs.py")
        shutil.copy(DOCTOR, ws.root / "doctor.py")
        ws.write("BUILD.bazel", CUDA_BUILD + GPU_WORKERS)

    ws = real_cuda_workspace(workspace_factory, "remote_cuda", 12, prepare, [], timeout=1800)
    out = _ok(ws.bazel("test", *rbe["exec"], "--remote_download_minimal", "//:libs_test", timeout=1800))
    assert _processes(out).get("remote", 0) >= 2, out[-3000:]  # the tree and the test
