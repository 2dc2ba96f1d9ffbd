# Sourced by tests/vm/*.t: runs one guest script in the real-kernel VM
# with tests/vm/run.sh and passes its TAP through.  If the VM run fails
# without a complete, passing TAP stream, a failing test is added so prove
# notices; a missing qemu or root skips (or fails, with
# KIPVS_VM_REQUIRED=1, as CI sets it).
#
#	. tests/vm/lib.sh
#	vm_tap tests/vm/guest/NAME.sh [ARGS...]
#
# SPDX-License-Identifier: Apache-2.0

vm_skip() {
    if [[ ${KIPVS_VM_REQUIRED:-0} == 1 ]]; then
        echo "1..1"
        echo "not ok 1 - VM tests required (KIPVS_VM_REQUIRED=1) but: $1"
        exit 1
    fi
    echo "1..0 # SKIP $1"
    exit 0
}

vm_tap() {
    local qemu=${KIPVS_VM_QEMU:-qemu-system-x86_64}
    local plan='' last=0 bad=0 rc rc_file line next

    [[ $(id -u) == 0 ]] || vm_skip "needs root"
    command -v "$qemu" >/dev/null 2>&1 || vm_skip "$qemu not installed"
    rc_file=$(mktemp)
    shopt -s lastpipe
    {
        rc=0
        tests/vm/run.sh "$@" || rc=$?
        echo "$rc" >"$rc_file"
    } | while IFS= read -r line || [[ -n $line ]]; do
        printf '%s\n' "$line"
        if [[ $line =~ ^1\.\.([0-9]+) ]]; then
            plan=${BASH_REMATCH[1]}
        elif [[ $line =~ ^(not\ )?ok\ ([0-9]+) ]]; then
            last=${BASH_REMATCH[2]}
            [[ -z ${BASH_REMATCH[1]} ]] || bad=1
        fi
    done
    rc=$(<"$rc_file")
    rm -f "$rc_file"
    if [[ $rc != 0 ]]; then
        if [[ -z $plan || $last -lt $plan || $bad == 0 ]]; then
            next=$((last + 1))
            echo "not ok $next - tests/vm/run.sh exited with status $rc (see its messages above)"
            [[ -n $plan ]] || echo "1..$next"
        fi
        exit 1
    fi
}
