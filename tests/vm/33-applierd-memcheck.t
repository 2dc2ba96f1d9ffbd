#!/usr/bin/env bash
# kipvs-applierd under valgrind memcheck on a real IPVS kernel (issue #9:
# the daemons' long-running tests memcheck-clean): the VG=1 build (as
# `make memcheck` builds it, in ${B}-memcheck/: -O1, the seccomp filter
# only logging) driven through tests/helpers/pa_client by
# tests/vm/guest/applierd-memcheck.sh; zero valgrind errors, nothing
# definitely or indirectly lost.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
B=${B:-build}
MB=$B-memcheck
vm_require
command -v valgrind >/dev/null 2>&1 || vm_skip "valgrind not installed"
# The build is a no-op when tests/san/20-memcheck.t (or make memcheck)
# has made it already.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! make -s B="$MB" VG=1 all tests >"$log" 2>&1; then
	echo "1..1"
	echo "not ok 1 - make B=$MB VG=1 all tests"
	tail -n 40 "$log" | sed 's/^/# /'
	exit 1
fi
vm_require "$MB/tests/helpers/pa_client" "$MB/kipvs-applierd"
# About 3 minutes in the VM; a loaded CI machine runs it several times
# slower.
KIPVS_VM_TIMEOUT=${KIPVS_VM_TIMEOUT:-900} vm_guest \
    tests/vm/guest/applierd-memcheck.sh "$MB"
vm_done
