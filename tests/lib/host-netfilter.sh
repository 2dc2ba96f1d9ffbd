#!/usr/bin/env bash
# Prints what kipvs could leave behind in the network namespace this runs
# in: ipset names, legacy iptables chains and rules (IPv4 and IPv6, nat and
# filter, counters stripped), IPVS services and links.  `make check` takes
# it before and after the tests; tests/host-untouched.t compares the two.
# Read-only.  SPDX-License-Identifier: Apache-2.0
set -uo pipefail
echo "== ipsets"
ipset list -n 2>/dev/null | sort
for tool in iptables-legacy ip6tables-legacy; do
	for t in nat filter; do
		echo "== $tool $t"
		"$tool-save" -t "$t" 2>/dev/null | grep -E '^[:-]' |
			sed 's/ \[[0-9]*:[0-9]*\]$//'
	done
done
echo "== ipvs"
ipvsadm -Sn 2>/dev/null
echo "== links"
ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
