#!/usr/bin/env bash
# The README's main command as a new user runs it: a clean clone of a commit, Bazel provisioned
# into a throwaway chroot, then `cd examples/basic && ../../tools/bazel run //:main`. It fails when
# a file the bootstrap or the example needs is not in git (an ignored or untracked file on this
# machine), when the program's result is wrong, or when the command prints a warning.
#   tools/fresh_machine_check.sh [REF]     REF: the commit to check (default HEAD)
# Needs root (the offline Bazel's chroot). Takes ~2-3 minutes (debootstrap + apt + a cold
# build); the repository cache (~/.cache/bazel) is shared, so no wheel is downloaded twice.
# Keeps nothing: the clone, its output base and the chroot are removed at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
REF=${1:-HEAD}
say() { echo "fresh_machine_check: $*" >&2; }

commit=$(git -C "$ROOT" rev-parse --verify "$REF^{commit}")
work=$(mktemp -d /tmp/rules_torch-fresh.XXXXXX)
chroot=/opt/$(basename "$work")-bazel # chroot_bazel names its mount namespace after this
clone=$work/rules_torch
cleanup() {
  local rc=$?
  if [ -d "$clone/examples/basic" ] && [ -e "$chroot/.ready" ]; then
    (cd "$clone/examples/basic" && BAZEL_CHROOT=$chroot RULES_TORCH_BAZEL=offline ../../tools/bazel clean --expunge) >/dev/null 2>&1 || true
  fi
  local ns=/run/$(basename "$chroot")
  umount -l "$ns/mnt" 2>/dev/null || true
  umount -l "$ns" 2>/dev/null || true
  rm -rf --one-file-system "$ns" "$ns.lock" "$chroot" "$chroot.partial" "$work"
  exit "$rc"
}
trap cleanup EXIT

say "cloning $commit into $clone"
git clone --quiet --no-checkout "$ROOT" "$clone"
git -C "$clone" checkout --quiet "$commit"

say "provisioning Bazel into the throwaway chroot $chroot and running the main command"
start=$SECONDS
out=$work/main.out
rc=0
(cd "$clone/examples/basic" && BAZEL_CHROOT=$chroot RULES_TORCH_BAZEL=offline ../../tools/bazel run //:main) >"$out" 2>&1 || rc=$?
say "main command: exit $rc after $((SECONDS - start)) s"
if [ "$rc" != 0 ]; then
  tail -n 40 "$out" >&2
  say "FAILED: the README's main command does not work from a clean clone of $commit"
  exit 1
fi
if ! grep -q '^fitted y = 2.000 \* x + 1.000' "$out"; then
  tail -n 20 "$out" >&2
  say "FAILED: the example ran but did not print the fitted line"
  exit 1
fi
if grep -i 'warning' "$out" >&2; then
  say "FAILED: the main command printed the warning(s) above"
  exit 1
fi
grep -E '^(torch|fitted) ' "$out"
say "ok: a clean clone of $commit provisions Bazel and runs the main command without warnings"
