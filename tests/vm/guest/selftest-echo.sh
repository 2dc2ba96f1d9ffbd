#!/usr/bin/env bash
# Guest side of tests/vm/00-harness-selftest.t: output, arguments, the
# environment and the exit status must reach the caller of run.sh.
echo "cwd=$PWD"
echo "in_vm=${KIPVS_IN_VM:-}"
echo "kernel=$(uname -r)"
echo "argc=$#"
for a in "$@"; do echo "arg=[$a]"; done
echo "token=[${KIPVS_SELFTEST_TOKEN:-}]"
echo "uid=$(id -u)"
echo "to stderr" >&2
if [[ -n ${KIPVS_VM_OUTDIR:-} ]]; then
    echo "written in the guest" >"$KIPVS_VM_OUTDIR/selftest.txt"
fi
printf 'last line without a newline'
exit 3
