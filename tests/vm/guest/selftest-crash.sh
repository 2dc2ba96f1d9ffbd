#!/usr/bin/env bash
# Guest side of tests/vm/00-harness-selftest.t: the guest dies in the middle
# of the test (no end marker).
echo "powering off abruptly"
echo 1 >/proc/sys/kernel/sysrq
echo o >/proc/sysrq-trigger
sleep 30
