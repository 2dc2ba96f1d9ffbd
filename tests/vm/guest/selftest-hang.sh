#!/usr/bin/env bash
# Guest side of tests/vm/00-harness-selftest.t: a test that never ends.
echo "sleeping forever"
exec sleep infinity
