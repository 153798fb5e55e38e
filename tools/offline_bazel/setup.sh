#!/usr/bin/env bash
# Provision Bazel 7 (Debian's bazel-bootstrap package) in a minimal Debian chroot, for machines
# that reach Debian's mirror but not Bazel's own downloads (bazelisk, GitHub, the BCR).
# Called by tools/bazel; adapted from the offline Bazel recipe described in README.md.
# Idempotent: once provisioned, a re-run only re-syncs ./chroot/ and exits.
#   BAZEL_CHROOT   chroot directory          (default /opt/rules_torch-bazel)
#   BAZEL_SUITE    Debian suite              (default sid; testing also works)
#   DEBIAN_MIRROR  Debian archive URL        (default: the host's first apt source ending in /debian)
set -Eeuo pipefail

ROOT=${BAZEL_CHROOT:-/opt/rules_torch-bazel}
SUITE=${BAZEL_SUITE:-sid}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STAMP=$ROOT/.ready
LOG=

log() { printf '[bazel setup %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; [ ! -s "$LOG" ] || log "full log: $LOG"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot and mount need it)"
case $ROOT in /?*) ;; *) die "BAZEL_CHROOT must be an absolute path other than /, got '$ROOT'" ;; esac
LOG=$(mktemp /tmp/bazel-setup.XXXXXX.log)
# shellcheck disable=SC2154 # rc is set in the trap itself
trap 'rc=$?; tail -n 25 "$LOG" >&2; die "\"$BASH_COMMAND\" failed (exit $rc, line $LINENO)"' ERR

# Run a command inside the chroot, with /proc /sys /dev mounted in a throwaway mount namespace.
in_chroot() {
  unshare --mount --propagation private -- /bin/sh -ec '
    r=$1; shift
    mount -t proc proc "$r/proc"; mount --rbind /sys "$r/sys"; mount --rbind /dev "$r/dev"
    [ -e "$r/etc/resolv.conf" ] || : > "$r/etc/resolv.conf"; mount --bind /etc/resolv.conf "$r/etc/resolv.conf"
    exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
      DEBIAN_FRONTEND=noninteractive "$@"' sh "$ROOT" "$@"
}

# Copy ./chroot/ (bazelrc, pip.conf, stub modules) into the chroot, touching only changed files.
# Also drop Debian's `build --sandbox_debug` (it keeps every action's sandbox on disk); it comes
# after our /etc/bazel.bazelrc import, so a `build --nosandbox_debug` there could not undo it.
# Its `build --host_javabase=@local_jdk//:jdk` prints a deprecation warning in every command:
# the same setting under its current name.
configure() {
  local f n=0
  while IFS= read -r -d '' f; do
    cmp -s "$HERE/chroot/$f" "$ROOT/$f" || { install -D -m 0644 "$HERE/chroot/$f" "$ROOT/$f"; n=$((n + 1)); }
  done < <(cd "$HERE/chroot" && find . -type f -print0)
  [ "$n" = 0 ] || log "installed $n changed file(s) from $HERE/chroot/"
  sed -i -e 's|^build --sandbox_debug$|# & (disabled by the provisioning script)|' \
    -e 's|^build --host_javabase=@local_jdk//:jdk$|build --tool_java_runtime_version=local_jdk # was --host_javabase (deprecated)|' \
    "$ROOT/etc/bazel/bazelrc"
  local_wheels
  # The host's python3 (the wrapper bind-mounts its installation at the same path) comes first
  # on the chroot's PATH, so Bazel's autodetecting Python toolchain runs it and workspaces
  # register no interpreter path of this machine. The chroot's own python3 is Debian's 3.14.
  # A system python3 (prefix /usr) is not bind-mounted (chroot_bazel), so it is not linked either:
  # inside, /usr/bin/python3 would be the chroot's own.
  local py prefix
  py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || py=
  prefix=$(python3 -c 'import sys; print(sys.base_prefix)' 2>/dev/null) || prefix=
  case $prefix in "" | / | /usr | /usr/* | /bin* | /sbin* | /lib* | /etc*) py= ;; esac
  if [ -n "$py" ] && [ "$(readlink "$ROOT/usr/local/bin/python3" 2>/dev/null)" != "$py" ]; then
    ln -sfn "$py" "$ROOT/usr/local/bin/python3"
    log "python3 in the chroot is now the host's $py"
  fi
}

host_pip() { # host_pip KEY: the values of global.KEY in the host's pip configuration
  pip config list 2>/dev/null | sed -n "s/^global\.$1='\(.*\)'$/\1/p" | tr ' ' '\n' | sort -u
}

# This machine's local wheel stores (the host's pip configuration), for Bazel and for pip:
# - Bazel's --distdir: local copies of PyTorch's wheels stand in for download.pytorch.org,
#   which is unreachable here. Locks keep their canonical URLs; Bazel finds a file here by the
#   URL's last path segment (percent-encoded, e.g. torch-2.13.0%2Bcpu-...), checks its sha256.
# - the chroot's /etc/pip.conf, the only pip configuration that rules_python's pip.parse
#   (pip --isolated) reads: the same find-links and extra indexes as the host's pip.
local_wheels() {
  local out=$ROOT/etc/rules_torch/distdir dir f name links extra
  mkdir -p "$ROOT/etc/rules_torch"
  links=$(host_pip find-links | tr '\n' ' ')
  extra=$(host_pip extra-index-url | tr '\n' ' ')
  {
    cat "$HERE/pip.conf.in"
    [ -z "${links// /}" ] || echo "find-links = $links"
    [ -z "${extra// /}" ] || echo "extra-index-url = $extra"
  } >"$ROOT/etc/pip.conf"
  # For chroot_bazel: the local index directories to bind-mount, without running pip each time.
  { host_pip find-links; host_pip extra-index-url | sed -n 's,^file://,,p' | sed 's,/simple/*$,,'; } >"$ROOT/etc/rules_torch/host_paths"
  rm -rf "$out" && mkdir -p "$out"
  for dir in $(host_pip find-links); do
    [ -d "$dir" ] || continue
    for f in "$dir"/*.whl; do
      [ -e "$f" ] || continue
      name=$(basename "$f")
      ln -sfn "$f" "$out/$name"
      ln -sfn "$f" "$out/${name//+/%2B}"
    done
  done
}

# Builds smoke/ inside the chroot with a throwaway output root (batch mode: no server left).
smoke_test() {
  local dir=/tmp/rules_torch-bazel-smoke out
  rm -rf "${ROOT:?}$dir" && mkdir -p "$ROOT$dir" && cp -r "$HERE/smoke/." "$ROOT$dir/workspace/"
  log "smoke test: building a module on the stub modules (~20 s)"
  if ! in_chroot /bin/sh -ec 'cd "$1/workspace"; b="bazel --batch --output_user_root=$1/out"
    $b query "@apple_support//:* + @protobuf//:* + @buildozer//:* + @buildozer_binary//:*"; $b build //:smoke; cat bazel-bin/smoke.txt' \
    sh "$dir" >>"$LOG" 2>&1; then
    rm -rf "${ROOT:?}$dir"
    die "the smoke test (a module on the stub modules in $HERE/chroot/usr/local/share/bazel-stubs) does not build; is a file of $HERE missing?"
  fi
  out=$(tail -n1 "$LOG")
  rm -rf "${ROOT:?}$dir"
  case $out in zlib\ *) log "smoke test passed ($out)" ;; *) die "the smoke test printed '$out', not a zlib version" ;; esac
}

host_mirror() {
  grep -hsvE '^\s*#' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources |
    grep -oE 'https?://[^ ]+/debian/?( |$)' | head -n1 | tr -d ' ' || true
}

# What the configuration depends on: these scripts, chroot/, the host's pip configuration and
# python3. Unchanged since the last run: nothing to do (this runs before every Bazel command).
fingerprint() {
  {
    cat "$HERE/setup.sh" "$HERE/pip.conf.in"
    find "$HERE/chroot" -type f | sort | xargs cat
    for f in /etc/pip.conf /etc/xdg/pip/pip.conf "$HOME/.config/pip/pip.conf" "$HOME/.pip/pip.conf" "${PIP_CONFIG_FILE:-}"; do
      [ -f "$f" ] && { echo "$f"; cat "$f"; }
    done
    env | grep '^PIP_' | sort
    command -v python3
  } | sha256sum | cut -c1-64
}

# gcc and g++ by name, not as bazel-bootstrap's dependencies: Bazel's autodetected C++ toolchain
# compiles libtorch programs and torch C++ extensions (torch_cc_extension) with them, and torch's
# own run-time compilation inside a test (inductor's CPU backend, cpp_extension.load_inline, which
# also needs ninja) finds them on PATH, as it would on a developer's machine.
PACKAGES=(bazel-bootstrap gcc g++ ninja-build)
# A program of each package, in the same order: the every-run check looks for these files (an
# exec of dpkg in the chroot would cost every Bazel command a chroot start).
PROGRAMS=(bazel gcc g++ ninja)
install_packages() {
  local status
  status=$(in_chroot dpkg-query -W -f='${Status}\n' "${PACKAGES[@]}" 2>/dev/null | grep -c '^install ok installed$' || true)
  if [ "$status" != "${#PACKAGES[@]}" ]; then
    log "apt-get install ${PACKAGES[*]} (Bazel 7 + OpenJDK + the C++ toolchain, ~40 s)"
    in_chroot apt-get update -qq >>"$LOG" 2>&1
    in_chroot apt-get install -y -qq ca-certificates "${PACKAGES[@]}" >>"$LOG" 2>&1
    in_chroot apt-get clean >>"$LOG" 2>&1
  fi
}

if [ -e "$STAMP" ] && [ -x "$ROOT/usr/bin/bazel" ]; then
  # A chroot provisioned before a package joined the list gets it now.
  for program in "${PROGRAMS[@]}"; do
    [ -x "$ROOT/usr/bin/$program" ] || { install_packages || die "apt-get install ${PACKAGES[*]} failed"; break; }
  done
  print=$(fingerprint)
  if [ "$(cat "$ROOT/etc/rules_torch/fingerprint" 2>/dev/null)" != "$print" ]; then
    configure
    echo "$print" >"$ROOT/etc/rules_torch/fingerprint"
  fi
  rm -f "$LOG"; exit 0
fi
log "provisioning $ROOT (suite $SUITE); details in $LOG"

# 1. Host tools.
if ! command -v debootstrap >/dev/null || ! command -v nsenter >/dev/null; then
  log "installing debootstrap on the host"
  apt-get update -qq >>"$LOG" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap util-linux >>"$LOG" 2>&1
fi

# 2. Minimal Debian tree, built aside and moved into place only when complete.
if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
  [ ! -e "$ROOT" ] || [ -z "$(ls -A "$ROOT")" ] || die "$ROOT exists but is not a Debian tree; remove it or set BAZEL_CHROOT"
  mirror=${DEBIAN_MIRROR:-$(host_mirror)}
  [ -n "$mirror" ] || die "no Debian mirror in the host's apt sources; set DEBIAN_MIRROR"
  rm -rf --one-file-system "$ROOT.partial"
  log "debootstrap --variant=minbase $SUITE (~30 s)"
  unshare --mount --propagation private -- \
    debootstrap --variant=minbase "$SUITE" "$ROOT.partial" "$mirror" >>"$LOG" 2>&1
  rmdir "$ROOT" 2>/dev/null || true
  mv "$ROOT.partial" "$ROOT"
fi

# 3. apt settings, the host's extra CA certificates (HTTPS from inside), Bazel itself.
cat >"$ROOT/etc/apt/apt.conf.d/99bazel-chroot" <<'EOF'
Acquire::Check-Valid-Until "false";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
if [ -d /usr/local/share/ca-certificates ]; then
  mkdir -p "$ROOT/usr/local/share/ca-certificates"
  cp -a /usr/local/share/ca-certificates/. "$ROOT/usr/local/share/ca-certificates/"
fi
install_packages
in_chroot update-ca-certificates >>"$LOG" 2>&1

# 4. System bazelrc, pip.conf and stub modules, then a smoke test: Bazel starts, resolves a
# module that depends on every stub module, compiles, links the zlib stub and runs the result.
# (`bazel --version` alone passed with the stubs missing: a file that never reached git.)
configure
in_chroot bazel --version >/dev/null 2>>"$LOG" || die "bazel does not start inside $ROOT"
smoke_test
echo "$(in_chroot bazel --version); bazel-bootstrap $(in_chroot dpkg-query -W -f='${Version}' bazel-bootstrap); suite $SUITE; $(date -u +%FT%TZ)" >"$STAMP"
log "done in ${SECONDS}s: $(head -n1 "$STAMP")"
rm -f "$LOG"
