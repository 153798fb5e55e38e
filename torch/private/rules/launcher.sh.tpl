#!/bin/sh
# rules_torch's launcher: finds the runfiles, reads its plan there (a data file the rule writes:
# the program, the interpreter, library directories, cell trees, import directories; its format
# is documented at runtime.bzl's _plan), puts the shared-library directories of torch's wheels
# first on LD_LIBRARY_PATH, then execs Python on the program.
set -eu

self=$0
case $self in /*) ;; *) self=$(pwd)/$self ;; esac
# The plan's runfiles path: a runfiles directory or manifest from the environment counts only if
# it holds this program's plan (a stale RUNFILES_DIR of another program is ignored).
plan=%PLAN%

holds_program() { # holds_program DIR|MANIFEST
  if [ -d "$1" ]; then
    [ -e "$1/$plan" ]
  else
    awk -v k="$plan" 'index($0, k " ") == 1 { found = 1; exit } END { exit !found }' "$1" 2>/dev/null
  fi
}

runfiles=
manifest=
# Run through a symlink (a link to bazel-bin/x elsewhere): the runfiles lie beside the real file.
real=$(readlink -f "$self" 2>/dev/null || echo "$self")
# Run from inside another program's runfiles: that tree holds this program too.
enclosing=
case $self in *.runfiles/*) enclosing=${self%%.runfiles/*}.runfiles ;; esac
for candidate in "${RUNFILES_DIR:-}" "$self.runfiles" "$real.runfiles" "$enclosing"; do
  if [ -n "$candidate" ] && [ -d "$candidate" ] && holds_program "$candidate"; then
    runfiles=$candidate
    break
  fi
done
if [ -z "$runfiles" ]; then
  for candidate in "${RUNFILES_MANIFEST_FILE:-}" "$self.runfiles_manifest" "$real.runfiles_manifest"; do
    if [ -n "$candidate" ] && [ -f "$candidate" ] && holds_program "$candidate"; then
      manifest=$candidate
      break
    fi
  done
  if [ -z "$manifest" ]; then
    echo "rules_torch launcher: cannot find the runfiles of $0 (no $0.runfiles or .runfiles_manifest beside it or beside $real, and no RUNFILES_DIR or RUNFILES_MANIFEST_FILE that holds $plan); build it with bazel build, or run it with bazel run" >&2
    exit 127
  fi
  export RUNFILES_MANIFEST_FILE="$manifest"
  unset RUNFILES_DIR
else
  export RUNFILES_DIR="$runfiles"
  unset RUNFILES_MANIFEST_FILE
fi

# rloc DIR PROBE DEPTH [real]: the path of runfiles directory DIR. With a manifest only, DIR is
# found through PROBE, a file DEPTH levels below it. With "real", the runfiles tree is bypassed
# the same way: a directory of source files (a wheel's tree in its repository) is used where it
# lies, so Python's imports and the loader don't walk one symlink per file (~15% of import torch).
rloc() {
  if [ -n "$runfiles" ]; then
    if [ "${4:-}" != real ] || ! p=$(readlink -f "$runfiles/$2"); then
      echo "$runfiles/$1"
      return
    fi
  else
    p=$(awk -v k="$2" 'index($0, k " ") == 1 { print substr($0, length(k) + 2); exit }' "$manifest")
    [ -n "$p" ] || { echo "rules_torch launcher: $2 is not in $manifest" >&2; exit 127; }
  fi
  i=0
  while [ "$i" -lt "$3" ]; do p=$(dirname "$p"); i=$((i + 1)); done
  echo "$p"
}

# rtree STAMP TREE CELL EXTRACTOR WHEEL...: sets `tree` to the path of a cell's installed tree
# (TREE, a directory artifact, or "" where the runfiles do not hold it: a test's), and `shared`
# to 1 when others read that tree too (nothing may write into it). In this order:
# 1. Where the install action left it: beside STAMP's target (a test's STAMP is the tree's
#    ticket, made by an action that reads the tree: Bazel has written the whole tree before the
#    test starts), holding the same stamp. A sandbox or a remote worker would stage the tree one
#    file at a time (20,000 for CUDA torch); a test stages only STAMP and reads the tree in place,
#    as `bazel run` and direct execution do. Not with a tree cache (the `cache` record): there a
#    test's STAMP is computed from the wheels alone, and no tree of Bazel's need exist.
# 2. TREE in the runfiles (a binary's, run where its stamp leads nowhere: remote execution).
# 3. The machine's tree cache, RULES_TORCH_TREE_CACHE or the `cache` record's directory (a CI
#    runner's persisted cache, a remote worker's disk): a tree there is verified against the
#    wheels (its stamp, every file's size; extract_wheels.py --verify) before each use and
#    installed again when it fails; missing, it is installed there once, with pycs.
# 4. Else installed from the wheels into the test's TEST_TMPDIR (or ~/.cache/rules_torch/trees
#    outside a test), for this run only: no pycs (Python writes those of the modules it imports).
rtree() {
  s=$1
  shift
  if [ -z "$tree_cache" ] && r=$(readlink -f "$s") && [ -d "${r%/*}/site-packages" ] &&
    cmp -s "$s" "${r%/*}/site-packages/.rules_torch_stamp"; then
    tree=${r%/*}/site-packages shared=1
    return
  fi
  if [ -n "$1" ]; then
    tree=$(rloc "$1" "$1" 0)
    if [ -d "$tree" ]; then
      shared=1
      return
    fi
  fi
  cell=$2 extractor=$(rloc "$3" "$3" 0)
  shift 3
  # The wheels, located one by one.
  n=$#
  while [ "$n" -gt 0 ]; do
    set -- "$@" "$(rloc "$1" "$1" 0)"
    shift
    n=$((n - 1))
  done
  base=${RULES_TORCH_TREE_CACHE:-$tree_cache}
  compile=
  if [ -n "$base" ]; then
    case $base in "~/"*) base=$("$python" -S -c 'import os, pwd; print(pwd.getpwuid(os.getuid()).pw_dir)')/${base#"~/"} ;; esac
    compile="--compile ${have_python%% *}"
    dest=$base/$(cat "$s")
    if [ -d "$dest" ]; then
      # shellcheck disable=SC2086 # $compile: two words or none
      if "$python" -S -s "$extractor" --verify --dest "$dest/site-packages" --data-dir "$dest/data" \
        $compile --what "the wheels of cell $cell" "$@" >&2; then
        tree=$dest/site-packages shared=1
        return
      fi
      echo "rules_torch launcher: the tree of cell $cell in the tree cache $base is damaged; installing it again" >&2
      if aside=$(mktemp -d "$base/.damaged.XXXXXX") && mv "$dest" "$aside/"; then
        rm -rf "$aside"
      else
        echo "rules_torch launcher: cannot move the damaged tree $dest aside; installing cell $cell for this run only" >&2
        base=
      fi
    fi
    if [ -n "$base" ] && { ! mkdir -p "$base" 2>/dev/null || [ ! -w "$base" ]; }; then
      echo "rules_torch launcher: cannot write the tree cache $base (a sandbox without --sandbox_writable_path=$base?); installing cell $cell for this run only" >&2
      base=
    fi
  fi
  if [ -n "$base" ]; then shared=1; else base=${TEST_TMPDIR:-$cache_home/rules_torch/trees} compile=; fi
  dest=$base/$(cat "$s")
  if [ ! -f "$dest/site-packages/.rules_torch_stamp" ]; then
    mkdir -p "$base"
    tmp=$(mktemp -d "$base/.tree.XXXXXX")
    echo "rules_torch launcher: the tree of cell $cell is not on this disk; installing its wheels into $dest" >&2
    # --publish: renamed to $dest when done, under a lock (tests that start together install once).
    # shellcheck disable=SC2086 # $compile: two words or none
    if ! "$python" -S -s "$extractor" --dest "$tmp/site-packages" --data-dir "$tmp/data" --stamp "$tmp/stamp" \
      --publish "$dest" $compile --what "the wheels of cell $cell" "$@" >&2; then
      rm -rf "$tmp"
      exit 1
    fi
    rm -rf "$tmp" # still there when another launcher had installed it meanwhile
  fi
  tree=$dest/site-packages
}

# want_python VERSION CELL: the interpreter must be the Python the cell is locked for, and not a
# free-threaded build of it: the cell's compiled modules (torch/_C) load in no other, and torch
# would fail later with "Failed to load PyTorch C extensions".
have_python=
want_python() {
  if [ -z "$have_python" ]; then
    # sys.abiflags holds "t" in a free-threaded build (PEP 703); importing sysconfig to read
    # Py_GIL_DISABLED would cost every launch ~5 ms more.
    have_python=$("$python" -S -c 'import sys
print("%d.%d%s" % (*sys.version_info[:2], "t" if "t" in sys.abiflags else ""), sys.executable)') || {
      echo "rules_torch launcher: $target: the interpreter $python does not run (it is $origin)" >&2
      exit 1
    }
  fi
  [ "${have_python%% *}" != "$1" ] || return 0
  case ${have_python%% *} in *t) build=" (free-threaded)" ;; *) build= ;; esac
  echo "rules_torch launcher: $target would run Python ${have_python%% *}$build (${have_python#* }), but cell $2 is locked for Python $1: torch's compiled modules load in no other Python.
The interpreter is $origin.
Fix: register a Python $1 toolchain (rules_python: python.toolchain(python_version = \"$1\")), or lock a cell for this Python (the lock tool's --python ${have_python%% *})." >&2
  exit 1
}

join() { # join VAR ENTRY: append ENTRY to the colon list in VAR
  eval "_v=\${$1:-}"
  if [ -z "$_v" ]; then eval "$1=\$2"; else eval "$1=\"\$_v:\$2\""; fi
}

# locate BASE REL PROBE DEPTH: sets `loc` to a directory of a lib or import record: with BASE
# "-", runfiles directory REL; with root:N or tree:N, REL under the directory of the plan's N-th
# root or tree record (from 0) read before it. Those directories are kept in variables of this
# launcher's own (root_N, tree_N); an index is used only once checked: digits, below the count.
roots=0 trees=0
locate() {
  case $1 in
    -) loc=$(rloc "$2" "$3" "$4"); return ;;
    root:*) n=${1#root:} count=$roots ;;
    tree:*) n=${1#tree:} count=$trees ;;
    *) n= count=0 ;;
  esac
  case $n in
    '' | *[!0-9]* | 0?*) bad_plan "'$1' is none of -, root:N, tree:N (N a number from 0)" ;;
  esac
  [ "$n" -lt "$count" ] || bad_plan "'$1' names ${1%%:*} record $n, but the plan gives $count before this one"
  eval "loc=\$${1%%:*}_$n"
  [ "$2" = - ] || loc=$loc/$2
}

bad_plan() { # bad_plan WHY: the plan is not one this launcher can read
  echo "rules_torch launcher: $plan: $kind record: $1 (a damaged plan, or a launcher and a plan of two rules_torch versions?); rebuild the program" >&2
  exit 1
}

# run_plan: reads the plan (runtime.bzl's _plan documents its records), in its order.
tab='	' # one tab character
run_plan() {
  while IFS=$tab read -r kind a b c d e f rest; do
    case $kind in
      program) program=$a ;;
      target) target=$a ;;
      origin) origin=$a ;;
      interpreter) if [ "$a" = path ]; then python=$b; else python=$(rloc "$b" "$b" 0); fi ;;
      root)
        dir=$(rloc "$a" "$b" "$c" real)
        eval "root_$roots=\$dir"
        roots=$((roots + 1))
        ;;
      cache) tree_cache=$a ;;
      gpu)
        gpu_needs="${gpu_needs:+$gpu_needs:}$b $c $d"
        [ "$e" != 1 ] || gpu_checks="$gpu_checks$a$tab$b$tab$c$tab$d
"
        ;;
      lib) locate "$a" "$b" "$c" "$d" && join libs "$loc" ;;
      python) want_python "$a" "$b" ;;
      tree)
        s=$(rloc "$a" "$a" 0) l=$(rloc "$d" "$d" 0)
        [ "$b" != - ] || b=
        # The wheels: the rest of the record, one field each.
        set -f
        oldifs=$IFS IFS=$tab
        # shellcheck disable=SC2086 # split on tabs, no globbing
        set -- $f${rest:+$tab$rest}
        IFS=$oldifs
        set +f
        rtree "$s" "$b" "$c" "$e" "$@"
        eval "tree_$trees=\$tree"
        trees=$((trees + 1))
        while IFS= read -r dir; do join libs "$tree/$dir"; done <"$l"
        ;;
      import) locate "$a" "$b" "$c" "$d" && join pypath "$loc" ;;
      *) echo "rules_torch launcher: $plan: unknown record '$kind' (a launcher and a plan of two rules_torch versions?); rebuild the program" >&2; exit 1 ;;
    esac
  done <"$(rloc "$plan" "$plan" 0)"
}

# Where a program outside a test keeps what it writes (trees it installed, numba's cache).
cache_home=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}
libs=
shared=
tree_cache=
gpu_checks=
gpu_needs=
pypath=
program= target= origin= python=
run_plan

# The wheels' CUDA libraries first, ahead of any system CUDA already on LD_LIBRARY_PATH.
if [ -n "$libs" ]; then
  export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
export PYTHONPATH="$pypath${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONSAFEPATH=1
# For diagnostics (bazel run @torch//:doctor) and tests: what the launcher put first.
export RULES_TORCH_LIB_DIRS="$libs"
# For the doctor: each CUDA cell's "CELL CUDA MIN_DRIVER", colon-separated.
export RULES_TORCH_GPU_NEEDS="$gpu_needs"

# A cell tree read where the install action left it is shared by every program and test: nothing
# may write into it, or Bazel sees its output changed and installs it again at the next build.
# Python's and pytest's pycs (assertion rewriting) stay in memory, and numba's on-disk cache goes
# to a directory of its own. (A tree the launcher installed is the program's: pycs go there.)
# A user's values win.
if [ -n "$shared" ]; then
  export PYTHONDONTWRITEBYTECODE="${PYTHONDONTWRITEBYTECODE:-1}"
  export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-${TEST_TMPDIR:-$cache_home}/numba}"
fi

# Triton dlopens the driver's libcuda.so.1 by path: point it at the driver when the dynamic
# loader's default search path (ldconfig's cache) does not know it. A user's value wins.
if [ -z "${TRITON_LIBCUDA_PATH:-}" ] && [ -n "$libs" ]; then
  if ! { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } | grep -q 'libcuda\.so\.1 '; then
    for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib \
      /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/wsl/lib /run/opengl-driver/lib; do
      if [ -e "$d/libcuda.so.1" ]; then
        export TRITON_LIBCUDA_PATH="$d"
        break
      fi
    done
  fi
fi

# A routed requires-gpu test fails here, naming the driver, when it would find no usable device.
if [ -n "$gpu_checks" ]; then
  printf %s "$gpu_checks" | while IFS=$tab read -r check cell cuda min; do
    "$python" -S -s "$(rloc "$check" "$check" 0)" "$target" "$cell" "$cuda" "$min" || exit 1
  done || exit 1
fi

main=$(rloc "$program" "$program" 0)
# -S -s: only the program's own dependencies are importable, as in a venv; the interpreter's
# site-packages and the user's site directory are not on sys.path.
exec "$python" -S -s "$main" "$@"
