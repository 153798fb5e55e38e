#!/usr/bin/env bash
# Runs every test of rules_torch: the Python tests (pytest: lock tool, Bazel integration
# workspaces, the rules_python compatibility matrix, remote execution against tools/rbe.sh's
# loopback service (as root; provisioned once, ~90 s)), the root module's `bazel test //...`, the
# integration tests again under Bazel 8/9's flags (tools/next_bazel.bazelrc), every
# command of each example's README (in the background, beside the rest), and the README's main
# command from a clean clone with Bazel provisioned into a throwaway chroot
# (tools/fresh_machine_check.sh; root only).
#   tools/test.sh            everything
#   tools/test.sh --quick    skip the tests marked slow (real CUDA closure, benchmarks) and the
#                            fresh-clone check
# rules_python 1.x/2.x come from a local registry: RULES_TORCH_RP_REGISTRY (its directory), or
# RULES_TORCH_RP_MIRRORS (git mirrors it is built from, see tools/rp_registry.sh). Without
# either, those versions are reported as NOT TESTED.
# Prints one summary line per step and "N passed, N failed" at the end; exits non-zero if any
# step failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
BAZEL=$ROOT/tools/bazel
VENV=${RULES_TORCH_TEST_VENV:-$ROOT/.venv-test}
quick=
pytest_args=()
[ "${1:-}" = --quick ] && { quick=1; pytest_args+=(-m "not slow"); }
JUNIT=$(mktemp /tmp/rules_torch-junit.XXXXXX.xml)
JUNIT_BACKGROUND=$(mktemp /tmp/rules_torch-junit-background.XXXXXX.xml)
JUNIT_NEXT=$(mktemp /tmp/rules_torch-junit-next-bazel.XXXXXX.xml)
trap 'rm -f "$JUNIT" "$JUNIT_BACKGROUND" "$JUNIT_NEXT"' EXIT

passed=0 failed=0
step() { # step NAME COMMAND...: run one step, record its result
  local name=$1 start=$SECONDS rc
  shift
  echo "=== $name"
  "$@"
  rc=$?
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1)); echo "=== ok: $name ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1)); echo "=== FAILED: $name (exit $rc, $((SECONDS - start)) s)"
  fi
}

setup_venv() {
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || return
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes \
    -r "$ROOT/tools/requirements_test.txt"
}

run_pytest() { # run_pytest JUNIT_FILE PYTEST_ARGS...
  local rc=0 junit=$1
  shift
  (cd "$ROOT" && "$VENV/bin/python" -m pytest -q --durations=15 --junitxml="$junit" "${pytest_args[@]}" "$@") || rc=$?
  # 5: no tests collected (e.g. every test deselected by --quick); not a failure.
  [ "$rc" = 5 ] && rc=0
  return "$rc"
}

# A second lane runs beside the others, in the background: the examples' README commands
# (test_readme_commands.py, ~8 min), remote execution against tools/rbe.sh's service
# (test_remote.py, ~8 min), the image layers in runc (test_image_layers.py, ~4 min) and the
# rules_python compatibility matrix (test_compat.py, ~5 min), then the next-bazel step (~9 min,
# below) and the fresh-clone check (~2 min). Measured from a clean clone on a 2-core machine
# (c9afebf): main lane 2,365 s (pytest 2,323 s, then bazel test //...), this one 2,306 s with the
# fresh-clone check, the whole run 40 min. The main lane waits on the CUDA-closure slot (harness.py) while
# this lane's CUDA tests hold it. Each uses its own Bazel
# workspaces (the next-bazel step's under tests/integration/.workspaces-next, harness.py), and they
# mostly wait on downloads, extraction, Bazel start-up and the service's workers, so on 2 cores the
# two lanes take less together than in a row (the whole run: ~55 min in a row, under 45 this way).
BACKGROUND_TESTS=(
  tests/integration/test_readme_commands.py
  tests/integration/test_remote.py
  tests/integration/test_image_layers.py
  tests/integration/test_compat.py
)
start_background_lane() {
  BACKGROUND_DIR=$(mktemp -d /tmp/rules_torch-background.XXXXXX)
  echo "=== ${BACKGROUND_TESTS[*]}, then the next-bazel step${FRESH_CHECK:+ and the fresh-clone check}: running in the background, logs in $BACKGROUND_DIR"
  BACKGROUND_START=$SECONDS
  {
    lane_part tests run_pytest "$JUNIT_BACKGROUND" "${BACKGROUND_TESTS[@]}"
    lane_part next next_bazel
    [ -z "$FRESH_CHECK" ] || lane_part fresh "$ROOT/tools/fresh_machine_check.sh"
  } &
  BACKGROUND_PID=$!
}
lane_part() { # lane_part NAME COMMAND...: in the lane, NAME.log, then NAME.rc ("status seconds")
  local name=$1 rc=0
  shift
  "$@" >"$BACKGROUND_DIR/$name.log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - BACKGROUND_START))" >"$BACKGROUND_DIR/$name.rc"
}
background_result() { # background_result tests|next|fresh: its log, then its exit status
  local rc elapsed
  cat "$BACKGROUND_DIR/$1.log"
  read -r rc elapsed <"$BACKGROUND_DIR/$1.rc" || { echo "(no result: the background lane stopped early)"; return 1; }
  echo "(in the background; done $elapsed s after the lane started)"
  return "$rc"
}

BUILDIFIER_VERSION=8.2.1
lint() {
  local buildifier rc=0
  buildifier=$(command -v buildifier || true)
  if [ -z "$buildifier" ]; then
    buildifier=$ROOT/.tools/node_modules/.bin/buildifier
    [ -x "$buildifier" ] || npm install --silent --no-save --prefix "$ROOT/.tools" "@bazel/buildifier@$BUILDIFIER_VERSION" || return
  fi
  (cd "$ROOT" && "$buildifier" --lint=warn --mode=check -r MODULE.bazel BUILD.bazel torch python examples tests/starlark tests/torch_cpu tests/locks tests/snapshots tools/offline_bazel/smoke) || rc=$?
  (cd "$ROOT" && "$VENV/bin/ruff" check python tests tools torch $(ls -d benchmarks 2>/dev/null)) || rc=$?
  return "$rc"
}

bazel_in() { # bazel_in DIR ARGS...: run Bazel in a workspace, then stop its server
  local dir=$1 rc=0
  shift
  (cd "$dir" && "$BAZEL" "$@") || rc=$?
  (cd "$dir" && "$BAZEL" shutdown) >/dev/null 2>&1
  return "$rc"
}

rp_registry() { # sets RULES_TORCH_RP_REGISTRY for the compatibility tests when it can
  if [ -n "${RULES_TORCH_RP_REGISTRY:-}" ]; then
    echo "rules_python registry: $RULES_TORCH_RP_REGISTRY (RULES_TORCH_RP_REGISTRY)"
  elif RULES_TORCH_RP_REGISTRY=$("$ROOT/tools/rp_registry.sh"); then
    export RULES_TORCH_RP_REGISTRY
    echo "rules_python registry: built $RULES_TORCH_RP_REGISTRY from $RULES_TORCH_RP_MIRRORS"
  else
    unset RULES_TORCH_RP_REGISTRY
    echo "rules_python registry: NONE: rules_python 1.x/2.x will be reported NOT TESTED (see tools/rp_registry.sh)"
  fi
}

compat_report() { # one line per rules_python version, one for remote execution
  "$VENV/bin/python" "$ROOT/tools/junit_summary.py" compat "$JUNIT" "$JUNIT_BACKGROUND"
}

# Bazel 8 and 9 approximated on this Bazel (tools/next_bazel.bazelrc): the examples, the
# rules_python compatibility matrix (0.22.1 and 2.3.2) and the selection, runtime and remote tests
# again, every workspace under --config=next_bazel with a registered Python toolchain
# (tests/integration/harness.py, NEXT_BAZEL).
NEXT_BAZEL_TESTS=(
  tests/integration/test_next_bazel.py
  tests/integration/test_compat.py
  tests/integration/test_selection.py
  tests/integration/test_runfiles.py
  tests/integration/test_launcher.py
  tests/integration/test_remote.py::test_gpu_tests_go_to_the_gpu_platform_when_routed
  tests/integration/test_remote.py::test_remote_execution_cache_hit_and_build_without_the_bytes
)
next_bazel() {
  local rc=0
  RULES_TORCH_NEXT_BAZEL=1 RULES_TORCH_COMPAT_VERSIONS=0.22.1,2.3.2 run_pytest "$JUNIT_NEXT" "${NEXT_BAZEL_TESTS[@]}" || rc=$?
  "$VENV/bin/python" "$ROOT/tools/junit_summary.py" next-bazel "$JUNIT_NEXT"
  return "$rc"
}

disk_report() { # free space where Bazel keeps output bases and the repository cache
  local dir=${HOME:-$ROOT}/.cache
  mkdir -p "$dir" 2>/dev/null
  local free_gb
  free_gb=$(df -P -BG "$dir" | awk 'NR == 2 { sub("G", "", $4); print $4 }')
  echo "disk: ${free_gb} GB free under $dir ($1)"
  if [ "$1" = start ] && [ "${free_gb:-0}" -lt 20 ]; then
    echo "warning: the tests need about 20 GB free (the real CUDA closure is fetched twice, one workspace at a time)"
  fi
}

disk_report start
step "provision Bazel (tools/bazel)" "$BAZEL" --version
step "python test environment ($VENV)" setup_venv
step "lint (buildifier, ruff)" lint
rp_registry
container_tools() { # Debian's umoci, runc, skopeo and debootstrap, for the image tests (tests/support/oci.py)
  local missing=() tool
  for tool in umoci runc skopeo debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ "${#missing[@]}" = 0 ] && { echo "umoci, runc, skopeo, debootstrap: present"; return 0; }
  echo "apt-get install ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null
}
if [ "$(id -u)" = 0 ]; then
  # The loopback REAPI service of tests/integration/test_remote.py (once per machine, ~90 s).
  step "remote execution service (tools/rbe.sh provision)" "$ROOT/tools/rbe.sh" provision
  # Without them the image tests say NOT TESTED and skip; a machine that can have them must run them.
  step "container tools (umoci, runc, skopeo, debootstrap)" container_tools
fi
# The README's main command from a clean clone of HEAD in a throwaway Bazel chroot
# (tools/fresh_machine_check.sh, ~2 min), last in the background lane.
FRESH_CHECK=
if [ -z "$quick" ] && [ "$(id -u)" = 0 ]; then FRESH_CHECK=1; fi
start_background_lane
step "pytest python/ tests/ (but ${BACKGROUND_TESTS[*]})" run_pytest "$JUNIT" "${BACKGROUND_TESTS[@]/#/--ignore=}"
step "bazel test //... (root module)" bazel_in "$ROOT" test //...
wait "$BACKGROUND_PID"
step "pytest ${BACKGROUND_TESTS[*]} (README commands, remote execution, image layers, rules_python matrix; in the background)" background_result tests
compat_report
step "next-bazel flags (tools/next_bazel.bazelrc; in the background)" background_result next
if [ -n "$FRESH_CHECK" ]; then
  step "fresh clone + throwaway Bazel chroot: the README's main command (in the background)" background_result fresh
fi
rm -rf "$BACKGROUND_DIR"

disk_report end
if [ "$failed" != 0 ]; then # the failed tests again, last: a log cut in the middle still says why
  echo "=== failed tests (each with the end of its failure text)"
  "$VENV/bin/python" "$ROOT/tools/junit_summary.py" failures "$JUNIT" "$JUNIT_BACKGROUND" "$JUNIT_NEXT"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
