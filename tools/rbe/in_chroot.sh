#!/bin/sh
# Run a command in the service's chroot (see ../rbe.sh), in a throwaway mount namespace, on the
# host's network (loopback is shared).
#   RBE_BINDS   host paths bind-mounted at the same place inside (the host Python the worker
#               runs actions with)
#   RBE_MOUNTS  SRC:DEST pairs, host SRC bind-mounted at DEST inside (a worker's identity)
R=${RBE_ROOT:-/opt/rules_torch-rbe}
exec unshare --mount --propagation private -- /bin/sh -ec '
  r=$1; shift
  mount -t proc proc "$r/proc"; mount --rbind /sys "$r/sys"; mount --rbind /dev "$r/dev"
  [ -e "$r/etc/resolv.conf" ] || : > "$r/etc/resolv.conf"; mount --bind /etc/resolv.conf "$r/etc/resolv.conf"
  for p in ${RBE_BINDS:-}; do mkdir -p "$r$p"; mount --rbind "$p" "$r$p"; done
  for m in ${RBE_MOUNTS:-}; do mkdir -p "$r${m#*:}"; mount --bind "${m%%:*}" "$r${m#*:}"; done
  exec chroot "$r" /usr/bin/env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' sh "$R/chroot" "$@"
