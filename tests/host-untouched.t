#!/usr/bin/env bash
# Runs last in `make check`: the machine's own network namespace must look
# exactly as it did before the tests (no ipset, chain, rule, IPVS service or
# link left behind or removed).  Tests may touch netfilter and links only
# in namespaces they create or in the VM.
set -uo pipefail
cd "$(dirname "$0")/.."
before=${KIPVS_HOST_BEFORE:-${B:-build}/host-netfilter.before}
echo "1..1"
if [[ $(id -u) != 0 ]]; then
	echo "ok 1 # skip needs root to read the machine's netfilter state"
	exit 0
fi
if [[ ! -f $before ]]; then
	echo "not ok 1 - no snapshot at $before (make check takes it)"
	exit 1
fi
if diff -u "$before" <(tests/lib/host-netfilter.sh) >/tmp/kipvs-host-diff.$$; then
	echo "ok 1 - the machine's own netfilter, IPVS and links are unchanged"
else
	echo "not ok 1 - the tests changed the machine's own network state:"
	sed 's/^/# /' /tmp/kipvs-host-diff.$$
fi
rm -f /tmp/kipvs-host-diff.$$
