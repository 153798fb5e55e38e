#!/usr/bin/env bash
# A real Remote Execution API service on loopback, for rules_torch's remote execution and
# remote caching tests (and for trying the flags by hand). Everything comes from package
# registries: BuildGrid 0.4.4 (PyPI) with PostgreSQL for its scheduler, and buildbox's CAS
# daemon and worker (Debian sid), in a chroot under RBE_ROOT (default /opt/rules_torch-rbe).
#
#   tools/rbe.sh provision     once, idempotent (~90 s, ~770 MB; needs root, PyPI, Debian's mirror)
#   tools/rbe.sh up [--worker NAME[:KEY=VALUE,...]]...
#                              remote execution on 127.0.0.1:$RBE_PORT (default 50151, instance
#                              "main"), one worker per --worker (default: one named "worker-1");
#                              KEY=VALUE are platform properties the worker advertises on top of
#                              OSFamily=linux and ISA=x86-64, e.g. --worker gpu-1:Pool=gpu
#   tools/rbe.sh up --cache-only
#                              a remote cache only (CAS + action cache) on 127.0.0.1:$RBE_CACHE_PORT
#                              (default 50161), instance ""
#   tools/rbe.sh down          stops what up started, by PID
#   tools/rbe.sh wipe          deletes the stored blobs (the servers' CAS, the workers' cache);
#                              the action caches are in memory and end with down
#   tools/rbe.sh flags [--cache-only]
#                              the Bazel flags that use the running service
#
# Each worker sees its own name in /run/rbe-worker/name (tests use it to show where an action
# ran). The worker runs actions with the host's python3 (its installation is bind-mounted at the
# same path), as local actions do. Logs and PIDs: $RBE_ROOT/state/.
# Adapted from ../shared/rbe (the recipe this machine's image documents).
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
export RBE_ROOT=${RBE_ROOT:-/opt/rules_torch-rbe}
R=$RBE_ROOT S=$RBE_ROOT/state
PORT=${RBE_PORT:-50151} CACHE_PORT=${RBE_CACHE_PORT:-50161} PG_PORT=${RBE_PG_PORT:-55532}
PY=${RBE_PYTHON:-$(python3 -c 'import sys; print(sys.base_prefix)')}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Properties actions may ask for. An action asking for a key no worker advertises waits in
# the queue; BuildGrid rejects keys it does not know.
MATCH_KEYS=${RBE_MATCH_KEYS:-OSFamily ISA Pool gpu}

say() { echo "tools/rbe.sh: $*" >&2; }
die() { say "$*"; exit 1; }

provision() {
  [ "$(id -u)" = 0 ] || die "provisioning needs root (debootstrap, chroot, mount namespaces)"
  mkdir -p "$R"
  if [ ! -x "$R/venv/bin/bgd" ]; then
    "$PY/bin/python3" -m venv "$R/venv"
    "$R/venv/bin/pip" install -q --disable-pip-version-check 'buildgrid[database]==0.4.4' >"$R/pip.log" 2>&1 ||
      die "installing BuildGrid failed; see $R/pip.log"
  fi
  local root=$R/chroot
  if [ ! -e "$root/.ready" ]; then
    command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap; }
    if [ ! -x "$root/usr/bin/apt-get" ]; then
      # Into a directory of its own, renamed when whole: a run stopped halfway leaves no chroot
      # that the next run would take for a finished one (debootstrap refuses to extract over it).
      rm -rf "$root" "$root.partial"
      unshare --mount --propagation private -- debootstrap --variant=minbase sid "$root.partial" "$MIRROR" >"$R/debootstrap.log" 2>&1 ||
        die "debootstrap failed; see $R/debootstrap.log"
      mv "$root.partial" "$root"
    fi
    printf 'Acquire::Check-Valid-Until "false";\nAPT::Install-Recommends "false";\n' >"$root/etc/apt/apt.conf.d/99rbe"
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" # no service auto-start
    chmod +x "$root/usr/sbin/policy-rc.d"
    "$HERE/rbe/in_chroot.sh" sh -ec 'apt-get update -qq; apt-get install -y -qq buildbox postgresql libffi8 libsqlite3-0 libnsl2 libtirpc3t64 >/dev/null; apt-get clean'
    ln -sfn "$PY/bin/python3" "$root/usr/local/bin/python3"
    touch "$root/.ready"
  fi
  say "provisioned $R"
}

wait_tcp() {
  for _ in $(seq 300); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  die "nothing listens on 127.0.0.1:$1 after 30 s; see $S/log/"
}

render() { # render TEMPLATE OUT
  local keys
  keys=$(printf '%s, ' $MATCH_KEYS)
  sed -e "s|@STATE@|$S|g" -e "s|@PORT@|$PORT|g" -e "s|@CACHE_PORT@|$CACHE_PORT|g" \
    -e "s|@PG_PORT@|$PG_PORT|g" -e "s|@MATCH_KEYS@|${keys%, }|g" "$1" >"$2"
}

running() { [ -s "$S/$1.pid" ] && kill -0 "$(cat "$S/$1.pid")" 2>/dev/null; }

up_cache() {
  running bgd-cache && { say "the remote cache already runs"; return; }
  render "$HERE/rbe/bgd-cache.yml" "$S/bgd-cache.yml"
  setsid "$R/venv/bin/bgd" server start "$S/bgd-cache.yml" >"$S/log/bgd-cache.log" 2>&1 </dev/null &
  echo $! >"$S/bgd-cache.pid"
  wait_tcp "$CACHE_PORT"
  say "remote cache on 127.0.0.1:$CACHE_PORT"
}

up_exec() {
  local workers=("$@") in_chroot=$HERE/rbe/in_chroot.sh pg=/usr/lib/postgresql/18/bin
  [ ${#workers[@]} -gt 0 ] || workers=(worker-1)
  running bgd && { say "remote execution already runs (tools/rbe.sh down first to change workers)"; return; }
  # 1. PostgreSQL: a throwaway cluster, trust auth, loopback only, no fsync.
  "$in_chroot" sh -ec "mkdir -p /srv/pg /run/postgresql; chown postgres: /srv/pg /run/postgresql
    [ -s /srv/pg/PG_VERSION ] || setpriv --reuid=postgres --regid=postgres --init-groups $pg/initdb -D /srv/pg -U postgres --auth=trust >/dev/null"
  setsid "$in_chroot" setpriv --reuid=postgres --regid=postgres --init-groups $pg/postgres -D /srv/pg \
    -c listen_addresses=127.0.0.1 -p "$PG_PORT" -k /run/postgresql -c fsync=off -c synchronous_commit=off \
    >"$S/log/pg.log" 2>&1 </dev/null &
  echo $! >"$S/pg.pid"
  wait_tcp "$PG_PORT"
  sleep 0.3
  "$in_chroot" $pg/psql -qAt -h 127.0.0.1 -p "$PG_PORT" -U postgres -c 'select 1' -d bgd >/dev/null 2>&1 ||
    "$in_chroot" $pg/createdb -h 127.0.0.1 -p "$PG_PORT" -U postgres bgd
  "$R/venv/bin/bgd" migrate apply "postgresql+psycopg2://postgres@127.0.0.1:$PG_PORT/bgd" >/dev/null
  # 2. BuildGrid: CAS, ByteStream, ActionCache, Execution and Bots, instance "main".
  render "$HERE/rbe/bgd.yml" "$S/bgd.yml"
  setsid "$R/venv/bin/bgd" server start "$S/bgd.yml" >"$S/log/bgd.log" 2>&1 </dev/null &
  echo $! >"$S/bgd.pid"
  wait_tcp "$PORT"
  # 3. buildbox-casd, the workers' local CAS (the default FUSE staging is mounted in casd's
  #    namespace, invisible to the runner: the workers stage by copy-or-link).
  setsid "$in_chroot" sh -ec "mkdir -p /run/bb; exec buildbox-casd --cas-remote=http://127.0.0.1:$PORT --cas-instance=main \
    --proxy-instance=main --bind=unix:/run/bb/casd.sock --quota-high=40G /var/cache/casd" >"$S/log/casd.log" 2>&1 </dev/null &
  echo $! >"$S/casd.pid"
  for _ in $(seq 100); do [ -S "$R/chroot/run/bb/casd.sock" ] && break; sleep 0.1; done
  # 4. The workers.
  local spec name props args
  for spec in "${workers[@]}"; do
    name=${spec%%:*} props=
    [ "$spec" = "$name" ] || props=${spec#*:}
    [[ $name =~ ^[A-Za-z0-9_-]+$ ]] || die "bad worker name '$name' (letters, digits, - and _)"
    args=(--platform OSFamily=linux --platform ISA=x86-64)
    local kvs=() kv
    [ -z "$props" ] || IFS=, read -ra kvs <<<"$props"
    for kv in "${kvs[@]}"; do
      [[ $kv == ?*=?* ]] || die "bad platform property '$kv' for worker $name (KEY=VALUE)"
      args+=(--platform "$kv")
    done
    mkdir -p "$S/workers/$name"
    echo "$name" >"$S/workers/$name/name"
    RBE_BINDS="$PY" RBE_MOUNTS="$S/workers/$name:/run/rbe-worker" setsid "$in_chroot" buildbox-worker \
      --bots-remote="http://127.0.0.1:$PORT" --bots-instance=main \
      --cas-remote=unix:/run/bb/casd.sock --cas-instance=main --buildbox-run=/usr/bin/buildbox-run-hosttools \
      --runner-arg=--staging-mode=copy-or-link "${args[@]}" \
      --concurrent-jobs=2 --max-wait-time=5 --retry-limit=10 --retry-delay=500 "$name" \
      >"$S/log/worker-$name.log" 2>&1 </dev/null &
    echo $! >"$S/worker-$name.pid"
    for _ in $(seq 100); do grep -q 'Starting buildbox-worker' "$S/log/worker-$name.log" 2>/dev/null && break; sleep 0.1; done
    say "worker $name: ${args[*]}"
  done
  say "remote execution on 127.0.0.1:$PORT (instance main)"
}

down() {
  local f n p
  # Workers first, then casd, BuildGrid and PostgreSQL.
  for f in "$S"/worker-*.pid "$S/casd.pid" "$S/bgd.pid" "$S/bgd-cache.pid" "$S/pg.pid"; do
    [ -s "$f" ] || continue
    n=$(basename "$f" .pid) p=$(cat "$f")
    if kill -0 "$p" 2>/dev/null; then
      if [ "$n" = pg ]; then kill -INT "$p"; else kill "$p"; fi
      for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$p" 2>/dev/null && { say "$n ($p) did not stop; SIGKILL"; kill -9 "$p"; }
    fi
    rm -f "$f"
  done
}

wipe() {
  local n
  for n in bgd bgd-cache casd; do running "$n" && die "the service runs: tools/rbe.sh down first"; done
  rm -rf "$S/cas" "$S/cas-cacheonly" "$R/chroot/var/cache/casd"
}

# --remote_timeout: a single call uploads or stages a whole wheel of the CUDA closure (torch's is
# ~900 MB) to the service's disk, which on a loaded 2-core runner outlasts Bazel's 60 s default.
flags() {
  if [ "${1:-}" = --cache-only ]; then
    echo "--remote_cache=grpc://127.0.0.1:$CACHE_PORT --remote_max_connections=1 --remote_timeout=900"
  else
    echo "--remote_executor=grpc://127.0.0.1:$PORT --remote_instance_name=main --remote_max_connections=1 --remote_timeout=900"
  fi
}

command=${1:-}
[ $# = 0 ] || shift
case $command in
  provision) provision ;;
  up)
    [ -e "$R/chroot/.ready" ] && [ -x "$R/venv/bin/bgd" ] || provision
    mkdir -p "$S/log"
    cache_only= workers=()
    while [ $# -gt 0 ]; do
      case $1 in
        --cache-only) cache_only=1 ;;
        --worker) [ $# -ge 2 ] || die "--worker needs NAME[:KEY=VALUE,...]"; workers+=("$2"); shift ;;
        *) die "unknown option '$1' (see the header of $0)" ;;
      esac
      shift
    done
    if [ -n "$cache_only" ]; then up_cache; else up_exec "${workers[@]}"; fi
    echo "$(flags ${cache_only:+--cache-only})"
    ;;
  down) down ;;
  wipe) wipe ;;
  flags) flags "$@" ;;
  *) die "usage: tools/rbe.sh provision | up [--cache-only] [--worker NAME[:KEY=VALUE,...]]... | down | wipe | flags [--cache-only]" ;;
esac
