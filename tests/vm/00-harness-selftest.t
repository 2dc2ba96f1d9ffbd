#!/usr/bin/env bash
# Self-test of the VM harness (tests/vm/run.sh), three VMs at once:
#  - a guest script's output lines, arguments, environment and exit status
#    (3) reach the caller, and a KIPVS_VM_OUTDIR share is writable;
#  - a hung guest is killed after KIPVS_VM_TIMEOUT and reported as a failure;
#  - a guest that dies in the middle of the test is reported as a failure.
# Run by `prove --exec '' tests/vm/*.t` from the repository root.
set -euo pipefail

cd "$(dirname "$0")/../.."
repo=$PWD
cache=${KIPVS_CACHE:-$repo/.cache/vm}
qemu=${KIPVS_VM_QEMU:-qemu-system-x86_64}

skip() {
    if [[ ${KIPVS_VM_REQUIRED:-0} == 1 ]]; then
        echo "1..1"
        echo "not ok 1 - VM tests required (KIPVS_VM_REQUIRED=1) but: $1"
        exit 1
    fi
    echo "1..0 # SKIP $1"
    exit 0
}
[[ $(id -u) == 0 ]] || skip "needs root"
command -v "$qemu" >/dev/null 2>&1 || skip "$qemu not installed"

hang_timeout=25
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prepare kernel and initramfs once, so the three runs below do not all wait
# for it (and their timings mean something).
tests/vm/fetch-kernel.sh
tests/vm/mkinitramfs.sh

now() { date +%s%N; }
secs() { local ms=$((($2 - $1) / 1000000)); echo "$((ms / 1000)).$((ms % 1000 / 100))"; }

# The hung guest and the crashing guest run in the background.
(
    t0=$(now)
    rc=0
    KIPVS_VM_TIMEOUT=$hang_timeout tests/vm/run.sh tests/vm/guest/selftest-hang.sh \
        >"$tmp/hang.out" 2>"$tmp/hang.err" || rc=$?
    echo "$rc $(secs "$t0" "$(now)")" >"$tmp/hang.rc"
) &
hang_pid=$!
(
    rc=0
    KIPVS_VM_TIMEOUT=120 tests/vm/run.sh tests/vm/guest/selftest-crash.sh \
        >"$tmp/crash.out" 2>"$tmp/crash.err" || rc=$?
    echo "$rc" >"$tmp/crash.rc"
) &
crash_pid=$!

mkdir "$tmp/out"
t0=$(now)
rc=0
KIPVS_SELFTEST_TOKEN="two  words 'and' \"quotes\" \$x" KIPVS_VM_OUTDIR=$tmp/out \
    tests/vm/run.sh tests/vm/guest/selftest-echo.sh 'a  b' '' "c'd" \
    >"$tmp/echo.out" 2>"$tmp/echo.err" || rc=$?
echo_time=$(secs "$t0" "$(now)")

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { # check DESCRIPTION COMMAND...
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
diag() { sed 's/^/# /' "$@"; }

echo "1..12"

kver=$(cat "$cache/boot/$(cat "$cache/boot/current")/kver")
cat >"$tmp/echo.want" <<EOF
cwd=$repo
in_vm=1
kernel=$kver
argc=3
arg=[a  b]
arg=[]
arg=[c'd]
token=[two  words 'and' "quotes" \$x]
uid=0
to stderr
EOF
printf 'last line without a newline\n' >>"$tmp/echo.want"

check "guest exit status 3 reaches the caller" test "$rc" = 3
if cmp -s "$tmp/echo.want" "$tmp/echo.out"; then
    ok "guest output, arguments, cwd and environment reach the caller"
else
    not_ok "guest output, arguments, cwd and environment reach the caller"
    diff -u "$tmp/echo.want" "$tmp/echo.out" | diag
fi
check "the guest runs the guest kernel, not the host's" test "$kver" != "$(uname -r)"
check "KIPVS_VM_OUTDIR is writable from the guest" \
    grep -qx 'written in the guest' "$tmp/out/selftest.txt"
if [[ $(wc -l <"$tmp/echo.err") == 1 ]] &&
    grep -q '^kipvs-vm: the test exited with status 3; guest console log: ' "$tmp/echo.err"; then
    ok "run.sh's stderr says only where the log of the failed test is"
else
    not_ok "run.sh's stderr says only where the log of the failed test is"
    diag "$tmp/echo.err"
fi
echo "# boot, run and power off took ${echo_time}s (three VMs running at once)"

wait "$crash_pid" || true
read -r crash_rc <"$tmp/crash.rc"
check "a guest dying mid-test makes run.sh fail (status $crash_rc)" \
    test "$crash_rc" = 125
check "... with a message saying so" \
    grep -q 'without an end marker' "$tmp/crash.err"
check "... after relaying the output it produced" \
    grep -qx 'powering off abruptly' "$tmp/crash.out"

wait "$hang_pid" || true
read -r hang_rc hang_time <"$tmp/hang.rc"
check "a hung guest makes run.sh fail (status $hang_rc)" test "$hang_rc" = 124
check "... within the timeout plus a margin (${hang_time}s, timeout ${hang_timeout}s)" \
    test "${hang_time%.*}" -le $((hang_timeout + 15))
check "... saying 'VM timed out'" grep -q 'VM timed out' "$tmp/hang.err"
# The run directory (kept on failure) holds qemu's pid file.
hang_run=$(sed -n 's/.*guest console log: \(.*\)\/console\.log.*/\1/p' "$tmp/hang.err" | head -n1)
qpid=$(cat "$hang_run/qemu.pid" 2>/dev/null || true)
if [[ -n $hang_run && -d $hang_run ]] &&
    grep -qx 'sleeping forever' "$tmp/hang.out" &&
    { [[ -z $qpid ]] || ! kill -0 "$qpid" 2>/dev/null; }; then
    ok "... after relaying its output, and its qemu is gone"
else
    not_ok "... after relaying its output, and its qemu is gone"
    diag "$tmp/hang.out" "$tmp/hang.err"
fi
if ((failed)); then
    diag "$tmp/crash.err"
    exit 1
fi
# The runs that failed on purpose keep their logs; drop them.
for f in "$tmp/hang.err" "$tmp/crash.err" "$tmp/echo.err"; do
    d=$(sed -n 's/.*guest console log: \(.*\)\/console\.log.*/\1/p' "$f" | head -n1)
    [[ -n $d && $d == "$cache"/runs/run.* ]] && rm -rf "$d"
done
exit 0
