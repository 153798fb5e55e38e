#!/usr/bin/env bash
# Builds the local registry of newer rules_python (1.9.2, 2.1.0, 2.3.2) that
# tests/integration/test_compat.py uses, with ../shared/tools/rp-registry.sh, from git mirrors of
# the repositories it needs; prints the registry's directory on success.
#   tools/rp_registry.sh [OUT]        OUT: default /tmp/rp-registry (outside any git work tree:
#                                     the registry is other projects' code, never committed)
# Mirrors: RULES_TORCH_RP_MIRRORS names a directory that holds them as <owner>+<name>/repo
# (bazel-contrib+rules_python, bazelbuild+rules_cc, bazel-contrib+bazel_features,
# bazel-contrib+supply-chain, jvolkman+toml.bzl), the layout a `fetch` of each repository
# leaves. Exit status 3 (and a message naming what is missing) when the mirrors or the recipe
# are absent: the compatibility tests then report those versions as NOT TESTED.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
OUT=${1:-/tmp/rp-registry}
RECIPE=${RULES_TORCH_RP_RECIPE:-$ROOT/../shared/tools/rp-registry.sh}
say() { echo "rp_registry: $*" >&2; }

[ -f "$RECIPE" ] || { say "no registry recipe at $RECIPE (set RULES_TORCH_RP_RECIPE)"; exit 3; }
mirrors=${RULES_TORCH_RP_MIRRORS:-}
[ -n "$mirrors" ] || { say "RULES_TORCH_RP_MIRRORS is not set: no git mirrors of rules_python and its deps"; exit 3; }
args=()
for pair in rules-python=bazel-contrib+rules_python rules-cc=bazelbuild+rules_cc \
  bazel-features=bazel-contrib+bazel_features supply-chain=bazel-contrib+supply-chain \
  toml-bzl=jvolkman+toml.bzl; do
  dir=$mirrors/${pair#*=}/repo
  [ -d "$dir" ] || { say "missing mirror $dir"; exit 3; }
  args+=("--${pair%%=*}" "$dir")
done
bash "$RECIPE" "${args[@]}" --out "$OUT" >&2
echo "$OUT"
