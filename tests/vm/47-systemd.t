#!/usr/bin/env bash
# The per-component systemd units started by a real systemd: the VM boots
# the host's systemd as PID 1 (KIPVS_VM_SYSTEMD=1), the units come from
# `make install` (DESTDIR under the build directory, PREFIX=/usr), and
# tests/vm/guest/systemd.sh starts the single unit and then the
# per-component units with socket activation, compares the kernel state
# of both forms and kills the applier (see there).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
vm_require "$B/kipvs" "$B/kipvs-watcherd" "$B/kipvs-planner" \
    "$B/kipvs-applierd"
command -v systemd-analyze >/dev/null 2>&1 || vm_skip "systemd is not installed"
# The guest sees the host's files, but not its /tmp; and not under $B,
# whose *.d directories make(1) would take for dependency files.
cache=${KIPVS_CACHE:-$PWD/.cache/vm}
mkdir -p "$cache"
root=$(mktemp -d "$cache/systemd-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"
make -s B="$B" install DESTDIR="$root" PREFIX=/usr >"$root.log" 2>&1 ||
    { echo "1..1"; echo "not ok 1 - make install DESTDIR=$root PREFIX=/usr"; \
      sed 's/^/# /' "$root.log"; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
KIPVS_VM_SYSTEMD=1 KIPVS_SD_ROOT=$root KIPVS_BUILD=$B \
    vm_guest tests/vm/guest/systemd.sh
vm_done
