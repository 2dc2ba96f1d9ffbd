#!/bin/bash
# applier_nl_batch(), the applier's many-requests-per-datagram exchange
# with one acknowledgement fence, against a real kernel inside a
# throwaway network namespace: rtnetlink address requests on lo (the IPVS
# and kube-ipvs0 batches use the same code in the VM).  Each request's
# errno is told apart, successes are silent, only the last request asks
# for an acknowledgement, nothing is left queued, and a transport failure
# reaches every request.
#
# SPDX-License-Identifier: Apache-2.0
set -u
B=${B:-build}
T=$PWD/$B/tests/helpers/applier_nlbatch_tool

if [ ! -x "$T" ]; then
	echo "1..0 # SKIP $T not built (make B=$B tests)"
	exit 0
fi
# A throwaway network namespace (skips without root).
. "$(dirname "$0")/../lib/netns.sh"
netns_enter "$0" "$@"

n=0
fails=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; return 0; fi
	echo "not ok $n - $2"; fails=$((fails + 1))
	return 1
}
diag() { sed 's/^/# /'; }
addrs() { ip -o -4 addr show dev lo | awk '{ print $4 }' | LC_ALL=C sort; }
echo 1..7

# 1-3: five requests, a duplicate (EEXIST) and a missing link (ENODEV)
# among them; the last succeeds and is the fence.
out=$("$T" 10.1.0.1 10.1.0.2 10.1.0.1 10.1.0.3@999 10.1.0.4)
want="rc 0 errno 0
err 0 0
err 1 0
err 2 17
err 3 19
err 4 0
ack 0 0
ack 1 0
ack 2 0
ack 3 0
ack 4 1
queued 0"
[ "$out" = "$want" ]
ok $? "one datagram: each request's errno (EEXIST, ENODEV) apart, only the last asks for an ack, nothing left queued" ||
	echo "$out" | diag
got=$(addrs | tr '\n' ' ')
[ "$got" = "10.1.0.1/32 10.1.0.2/32 10.1.0.4/32 127.0.0.1/8 " ]
ok $? "the kernel holds exactly the three added addresses ($got)"

# 3: the fence itself fails: its error is the answer that ends the wait.
out=$("$T" 10.1.0.5 10.1.0.4)
[ "$out" = "rc 0 errno 0
err 0 0
err 1 17
ack 0 0
ack 1 1
queued 0" ]
ok $? "a failing last request is the fence: EEXIST for it, 0 for the one before" ||
	echo "$out" | diag

# 4: every request fails; each gets its own errno.
out=$("$T" 10.1.0.1@998 10.1.0.2 10.1.0.6@997)
[ "$(grep '^err' <<<"$out" | tr '\n' ' ')" = "err 0 19 err 1 17 err 2 19 " ] &&
	grep -qx 'queued 0' <<<"$out"
ok $? "all fail: ENODEV, EEXIST, ENODEV, nothing left queued" ||
	echo "$out" | diag

# 5: 256 requests in one datagram (the applier's chunk): all succeed.
args=$(seq 1 256 | awk '{ printf "10.2.%d.%d ", int($1 / 256), $1 % 256 }')
# shellcheck disable=SC2086
out=$("$T" $args)
[ "$(grep -c '^err [0-9]* 0$' <<<"$out")" = 256 ] &&
	[ "$(grep -c '^ack [0-9]* 1$' <<<"$out")" = 1 ] &&
	grep -qx 'ack 255 1' <<<"$out" && grep -qx 'queued 0' <<<"$out"
ok $? "256 requests: 256 successes from one acknowledgement" ||
	echo "$out" | head -5 | diag
[ "$(addrs | grep -c '^10\.2\.')" = 256 ]
ok $? "... and 256 addresses in the kernel"

# 7: a transport failure reaches every request, with its errno.
out=$("$T" -x 10.1.0.9 10.1.0.8)
[ "$(grep -E '^(rc|err)' <<<"$out" | tr '\n' ' ')" = "rc -1 errno 9 err 0 9 err 1 9 " ]
ok $? "sending fails (EBADF): rc -1 and EBADF for every request" ||
	echo "$out" | diag

[ "$fails" = 0 ]
