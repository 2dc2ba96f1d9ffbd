# Sourced by script tests that touch netfilter or links: re-executes the
# calling test inside a fresh, throwaway network namespace (unshare -n) so
# that nothing it does can reach this machine's own tables or links.
#
#	. tests/lib/netns.sh
#	netns_enter "$0" "$@"	# returns only inside the new namespace
#
# Without root (or without unshare) the test is skipped with the reason
# stated, as TAP requires.  SPDX-License-Identifier: Apache-2.0

netns_enter() {
	local self=$1; shift
	if [ "${KIPVS_IN_NETNS:-}" = 1 ]; then
		# Refuse to run in the namespace the test was started in,
		# whatever the environment says.
		if [ -z "${KIPVS_OUTER_NETNS:-}" ] ||
		    [ "$(stat -Lc %i /proc/self/ns/net)" = \
		    "$KIPVS_OUTER_NETNS" ]; then
			echo "Bail out! not inside a private network namespace"
			exit 1
		fi
		ip link set lo up
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "1..0 # SKIP needs root to create a network namespace"
		exit 0
	fi
	if ! command -v unshare >/dev/null; then
		echo "1..0 # SKIP unshare(1) not found"
		exit 0
	fi
	KIPVS_OUTER_NETNS=$(stat -Lc %i /proc/self/ns/net) KIPVS_IN_NETNS=1 \
	    exec unshare --net -- "$self" "$@"
}
