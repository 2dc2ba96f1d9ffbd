# Sourced by tests/vm/*.t: runs guest scripts in the real-kernel VM with
# tests/vm/run.sh and passes their TAP through, renumbered so several boots
# make one TAP stream.  If a VM run fails without a complete, passing TAP
# stream, a failing test is added so prove notices.  A missing qemu or
# root skips the file (or fails it, with KIPVS_VM_REQUIRED=1, as CI sets).
#
#	. tests/vm/lib.sh
#	vm_require [PROGRAM...]		skip unless root, qemu and the programs
#	vm_guest tests/vm/guest/NAME.sh [ARGS...]	one boot
#	vm_done				prints the plan; exit status
#	vm_tap tests/vm/guest/NAME.sh [ARGS...]	all three for one boot
#
# SPDX-License-Identifier: Apache-2.0

vm_base=0
vm_bad=0

vm_skip() {
    if [[ ${KIPVS_VM_REQUIRED:-0} == 1 ]]; then
        echo "1..1"
        echo "not ok 1 - VM tests required (KIPVS_VM_REQUIRED=1) but: $1"
        exit 1
    fi
    echo "1..0 # SKIP $1"
    exit 0
}

vm_require() {
    local qemu=${KIPVS_VM_QEMU:-qemu-system-x86_64} p

    [[ $(id -u) == 0 ]] || vm_skip "needs root"
    command -v "$qemu" >/dev/null 2>&1 || vm_skip "$qemu not installed"
    for p in "$@"; do
        [[ -x $p ]] || vm_skip "$p not built (make tests)"
    done
}

vm_guest() {
    local plan='' last=0 rc rc_file line

    rc_file=$(mktemp)
    shopt -s lastpipe
    {
        rc=0
        tests/vm/run.sh "$@" || rc=$?
        echo "$rc" >"$rc_file"
    } | while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line =~ ^1\.\.([0-9]+) ]]; then
            plan=${BASH_REMATCH[1]}
        elif [[ $line =~ ^(not\ )?ok\ ([0-9]+)(.*)$ ]]; then
            last=${BASH_REMATCH[2]}
            [[ -z ${BASH_REMATCH[1]} ]] || vm_bad=1
            printf '%sok %d%s\n' "${BASH_REMATCH[1]}" \
                $((vm_base + last)) "${BASH_REMATCH[3]}"
        else
            printf '%s\n' "$line"
        fi
    done
    rc=$(<"$rc_file")
    rm -f "$rc_file"
    if [[ $rc != 0 ]] && [[ -z $plan || $last -lt $plan || $vm_bad == 0 ]]; then
        last=$((last + 1))
        echo "not ok $((vm_base + last)) - tests/vm/run.sh $* exited with status $rc"
        vm_bad=1
    elif [[ -n $plan && $last -ne $plan ]]; then
        last=$((last + 1))
        echo "not ok $((vm_base + last)) - $1 planned $plan tests, ran $((last - 1))"
        vm_bad=1
    fi
    vm_base=$((vm_base + last))
}

vm_done() {
    echo "1..$vm_base"
    [[ $vm_bad == 0 && $vm_base -gt 0 ]]
}

vm_tap() {
    vm_require
    vm_guest "$@"
    vm_done
}
