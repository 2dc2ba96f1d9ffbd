#!/usr/bin/env bash
# kipvs-planner as a daemon after the first sync: minimal deltas, retries
# with back-off, applier restarts, drift repair from dumps, graceful
# termination, the blast-radius hold and level-triggered re-snapshots.
. "$(dirname "$0")/lib.sh"
need_root
# make memcheck runs the planner under valgrind with KIPVS_TIME_SCALE=10:
# planner_driver stretches each "wait" by it, and the bounds below that
# stand for the planner's own reaction time or a hold-off it is given
# are stretched with them (1 in a normal run: unchanged).  Lower bounds
# of the planner's own timers (the back-off) are not scaled.
S=${KIPVS_TIME_SCALE:-1}

F="--hostname-override node-a --ip-family ipv4"
START="objects $FIX
node-ip 192.168.1.10
wait 200
snapshot
wait 500"
ops_after() {	# ops_after MARK FILE: op lines after the mark
	after "$1" "$2" | grep '^op '
}

# 1. One remote endpoint changes (spec §5): the new one added, the old
# one (TCP) to weight 0 with a dump request in the same batch, since the
# planner's connection count predates the change; the dump shows it idle,
# so the very next batch deletes it (not after the 30 s sync period).
drive ep $F <<EOS
$START
mark change
slice-ep shop/web-abc 1 10.244.2.66
wait 1000
EOS
got=$(batch 3 "$TMP/ep.out")
want="op rs-ensure TCP 10.96.0.10:80 10.244.2.66:8080 weight=1
op rs-weight TCP 10.96.0.10:80 10.244.2.6:8080 weight=0
op dump-request 0xf"
[ "$got" = "$want" ] && after change "$TMP/ep.out" | grep -q '^batch 3 '
ok $? "one endpoint change: rs-ensure + rs-weight 0 + dump-request in one batch" || diag "$got"
got=$(batch 4 "$TMP/ep.out")
t=$(after change "$TMP/ep.out" | awk '/^batch [34] /{t=$NF; sub("t=","",t); print t}')
set -- $t
[ "$got" = "op rs-del TCP 10.96.0.10:80 10.244.2.6:8080" ] &&
    [ "$(after change "$TMP/ep.out" | grep -c '^batch')" -eq 2 ] &&
    [ $(($2 - $1)) -lt $((500 * S)) ]
ok $? "... the dump shows it idle: rs-del in the next batch, at once (t=$(echo $t))" || diag "$got"

# 1b. Spec §5 step 3: a draining server that is wanted again is deleted
# and re-added at weight 1 (its connections are cut).
drive back $F <<EOS
$START
conns TCP_10.96.0.10:80_10.244.2.6:8080 3
mark change
slice-ep shop/web-abc 1 10.244.2.66
wait 600
mark back
slice-ep shop/web-abc 1 10.244.2.6
wait 1000
EOS
! after change "$TMP/back.out" | awk '/^mark back/{exit} 1' |
    grep -q '^op rs-del'
ok $? "a removed TCP server with connections stays at weight 0"
got=$(after back "$TMP/back.out" | grep '^op ' | head -n 4)
want="op rs-del TCP 10.96.0.10:80 10.244.2.6:8080
op rs-ensure TCP 10.96.0.10:80 10.244.2.6:8080 weight=1
op rs-weight TCP 10.96.0.10:80 10.244.2.66:8080 weight=0
op dump-request 0xf"
[ "$got" = "$want" ]
ok $? "wanted again while draining: rs-del + rs-ensure weight=1; the other to weight 0 with a dump request" || diag "$got"
after back "$TMP/back.out" | grep '^op ' | sed -n 5p |
    grep -qx 'op rs-del TCP 10.96.0.10:80 10.244.2.66:8080'
ok $? "... and the idle one deleted after that dump"

# 2. A failed op is retried with back-off and succeeds later; other
# objects are not held up.
drive retry $F <<EOS
$START
mark change
fail rs-ensure_TCP_10.96.0.10:80_10.244.2.77 2 5
slice-ep shop/web-abc 1 10.244.2.77
slice-ep kube-system/dns-xyz 0 10.244.1.70
wait 5000
EOS
tries=$(after change "$TMP/retry.out" | grep -c '^op rs-ensure TCP 10.96.0.10:80 10.244.2.77:8080')
[ "$tries" -eq 3 ]
ok $? "the failing real server is tried 3 times (2 scripted failures)" || diag "tries=$tries"
t=$(after change "$TMP/retry.out" | awk '/^batch/{t=$NF; sub("t=","",t)} /^op rs-ensure TCP 10.96.0.10:80 10.244.2.77/{print t}')
set -- $t
[ $(($2 - $1)) -ge 900 ] && [ $(($3 - $2)) -ge 1900 ]
ok $? "back-off doubles: retries after >=1 s, then >=2 s (t=$(echo $t))"
after change "$TMP/retry.out" | grep -q '^op rs-ensure UDP 10.96.0.53:53 10.244.1.70:53 weight=1$'
ok $? "another Service's change goes through meanwhile"
grep -q "skipping rs-ensure TCP 10.96.0.10:80 10.244.2.77:8080 weight=1 (service shop/web): failed (errno 5" "$TMP/retry.log"
ok $? "the failure is logged naming the object and its Service"
tail -n 20 "$TMP/retry.out" | grep -q '^status synced,applier-up, services=4 failed=0'
ok $? "status is no longer degraded after the retry succeeded"

# 3. An applier restart with the same kernel: a dump, and no ops at all.
drive restart $F --ipvs-sync-period 30s <<EOS
$START
mark restart
applier-restart
wait 800
EOS
after restart "$TMP/restart.out" | grep -q '^dump-sent'
ok $? "the new applier sends its dump"
! after restart "$TMP/restart.out" | grep -q '^\(batch\|op\)'
ok $? "no ops after the applier restart (nothing flushed, nothing re-created)"

# 4. Drift: a VS deleted behind kipvs's back is repaired from the next dump.
drive drift $F --ipvs-sync-period 1s <<EOS
$START
mark drift
kernel-del-vs TCP_10.96.0.10:80
wait 2500
save-ipvs $TMP/drift.ipvs
EOS
got=$(ops_after drift "$TMP/drift.out" | grep -v dump-request)
want="op vs-ensure TCP 10.96.0.10:80 sched=rr
op rs-ensure TCP 10.96.0.10:80 10.244.1.5:8080 weight=1
op rs-ensure TCP 10.96.0.10:80 10.244.2.6:8080 weight=1"
[ "$got" = "$want" ]
ok $? "a periodic dump repairs exactly the deleted VS and its real servers" || diag "$got"
grep -q -- '-A -t 10.96.0.10:80 -s rr' "$TMP/drift.ipvs"
ok $? "the kernel has it again"

# 5. Graceful termination: a removed TCP RS with connections stays at
# weight 0 until a dump shows none; a UDP one goes at once.
drive grace $F --ipvs-sync-period 1s <<EOS
$START
conns TCP_10.96.0.10:80_10.244.2.6:8080 3
wait 1300
mark remove
slice-drop shop/web-abc 1
slice-drop kube-system/dns-xyz 0
wait 2500
mark drained
conns TCP_10.96.0.10:80_10.244.2.6:8080 0
wait 2500
EOS
got=$(after remove "$TMP/grace.out" | awk '/^mark drained/{exit} 1' |
    grep '^op ' | grep -v dump-request)
echo "$got" | grep -q '^op rs-weight TCP 10.96.0.10:80 10.244.2.6:8080 weight=0$' &&
    ! echo "$got" | grep -q 'rs-del TCP 10.96.0.10:80 10.244.2.6'
ok $? "TCP RS with connections: weight 0, not deleted while dumps show connections" || diag "$got"
echo "$got" | grep -q '^op rs-del UDP 10.96.0.53:53 10.244.1.7:53$'
ok $? "UDP RS deleted at once"
[ "$(echo "$got" | grep -c 'rs-weight')" -eq 1 ]
ok $? "weight 0 is sent once, not again after each dump"
after drained "$TMP/grace.out" | grep -q '^op rs-del TCP 10.96.0.10:80 10.244.2.6:8080$'
ok $? "deleted once a dump shows zero connections"

# 6. Blast radius: a snapshot without default/kubernetes and most
# Services is held, then sent confirmed.
drive hold $F --blast-radius-hold-ms $((1500 * S)) <<EOS
$START
mark mass
snapshot -default/kubernetes -shop/web -shop/front
wait 800
mark late
wait 1500
EOS
! after mass "$TMP/hold.out" | awk '/^mark late/{exit} 1' | grep -q '^batch'
ok $? "the mass deletion is held"
after late "$TMP/hold.out" | grep -q '^batch [0-9]* flags=confirmed'
ok $? "after the hold-off it is sent with PA_BATCH_CONFIRMED"
after late "$TMP/hold.out" | grep -q '^op vs-del TCP 10.96.0.1:443$'
ok $? "... and deletes what the snapshot lacks"
grep -q "sync held for $((1500 * S)) ms" "$TMP/hold.log"
ok $? "the hold is logged"

# 6b. A hold cancelled by a snapshot that brings everything back.
drive cancel $F --blast-radius-hold-ms $((1500 * S)) <<EOS
$START
mark mass
snapshot -default/kubernetes -shop/web -shop/front
wait 300
snapshot
wait 2500
EOS
! after mass "$TMP/cancel.out" | grep '^op ' |
    grep -v -e dump-request -e chain-replace | grep -q .
ok $? "a held sync undone by the next snapshot changes no VS, RS, set or address"

# 7. A re-snapshot missing one Service deletes exactly its objects.
drive resnap $F <<EOS
$START
mark resnap
watcher-restart
wait 200
snapshot -kube-system/dns
wait 600
EOS
got=$(ops_after resnap "$TMP/resnap.out" | sort)
want=$(printf '%s\n' "op addr-del 10.96.0.53" \
    "op set-del KUBE-CLUSTER-IP 10.96.0.53,udp:53" \
    "op set-del KUBE-IPVS-IPS 10.96.0.53" \
    "op set-del KUBE-LOOP-BACK 10.244.1.7,udp:53,10.244.1.7" \
    "op vs-del UDP 10.96.0.53:53" | sort)
[ "$got" = "$want" ]
ok $? "re-snapshot without kube-system/dns: exactly its VS, address and set members go" || diag "$got"
finish
