#!/usr/bin/env bash
# The users' own tools (ipvsadm, ipset, iptables-legacy, ip) against a real
# IPVS kernel in the VM: proves the harness before kipvs code relies on it.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/vm/lib.sh
vm_tap tests/vm/guest/reference-tools.sh
