#!/usr/bin/env bash
# kipvs-planner and dumps that race its batches.  Seen in the VM at
# 10,000 Services: the applier's drift-check timer dumped the (still
# empty) kernel just before it read the cold-start batches; that dump
# reached the planner while both batches were in flight, replaced what
# the planner knew with "empty", and after the first sync the planner
# sent the whole cold start again (43 s of applier work, all unchanged).
# The applier runs batches in order and answers a batch before any dump
# it takes after it, so a dump that ends while a batch is unanswered was
# taken before that batch ran: it is ignored.  A dump with nothing in
# flight still replaces the planner's view (drift repair).
. "$(dirname "$0")/lib.sh"
need_root

F="--hostname-override node-a --ip-family ipv4"
ops_after() {	# ops_after MARK FILE: op lines after the mark
	after "$1" "$2" | grep '^op '
}

# 1. The cold start's two batches are in flight (the fake applier does not
# read them: "stall") when it sends a dump of the empty kernel, as its
# drift timer would; then it answers them.  Later, with nothing in flight,
# a VS disappears behind kipvs's back and another unsolicited dump shows it.
drive stale $F <<EOS
objects $FIX
node-ip 192.168.1.10
wait 200
snapshot
stall 2000
mark dump
dump
wait 2500
mark quiet
wait 1500
mark behind
kernel-del-vs TCP_10.96.0.10:80
dump
wait 1500
save-ipvs $TMP/stale.ipvs
EOS

# The race happened: both cold-start batches were read by the fake
# applier only after it had sent the dump, and the planner says the dump
# was taken before them.
got=$(after dump "$TMP/stale.out" | awk '/^mark quiet/{exit} /^(batch|dump-sent)/' |
    head -n 3 | sed 's/^dump-sent .*/dump-sent/' | cut -d' ' -f1-3)
want="dump-sent
batch 1 flags=full
batch 2 flags=full"
[ "$got" = "$want" ]
ok $? "the empty dump is sent while batches 1 and 2 are unanswered" || diag "$got"
grep -q 'dump 2 taken before batch 1 ran: ignored' "$TMP/stale.log"
ok $? "the planner logs the dump as taken before batch 1 ran and ignores it" ||
    grep 'dump' "$TMP/stale.log" | sed 's/^/# /'
grep -q 'first sync applied$' "$TMP/stale.log"
ok $? "the first sync is applied"

# Nothing but dump requests after the cold start, until the outside change.
got=$(after dump "$TMP/stale.out" | awk '/^mark behind/{exit} 1' |
    awk '/^batch /{b++; next} b > 2 && /^op / && $0 != "op dump-request 0xf"')
[ -z "$got" ]
ok $? "after the first sync nothing is re-sent (no third batch of cold-start ops)" ||
    diag "$(echo "$got" | head -n 5) ($(echo "$got" | wc -l) ops)"
tail -n 20 "$TMP/stale.out" | grep -q '^status synced,applier-up, services=4 failed=0'
ok $? "status: synced, nothing failing"

# 2. A dump with nothing in flight still replaces the view.
got=$(ops_after behind "$TMP/stale.out" | grep -v dump-request)
want="op vs-ensure TCP 10.96.0.10:80 sched=rr
op rs-ensure TCP 10.96.0.10:80 10.244.1.5:8080 weight=1
op rs-ensure TCP 10.96.0.10:80 10.244.2.6:8080 weight=1"
[ "$got" = "$want" ]
ok $? "a dump with nothing in flight: the VS deleted behind kipvs's back is re-created" || diag "$got"
grep -q -- '-A -t 10.96.0.10:80 -s rr' "$TMP/stale.ipvs"
ok $? "... the kernel has it again"
! grep -q 'dump 3 taken before' "$TMP/stale.log"
ok $? "... and that dump was not ignored"

# 3. A dump that arrives while a sync is held (the blast-radius hold-off)
# was taken without the held ops, which the planner counts as sent: it is
# ignored too, or the held deletions would be computed, held and sent a
# second time after the first confirmed batch.
drive held $F --blast-radius-hold-ms 2500 <<EOS
objects $FIX
node-ip 192.168.1.10
wait 200
snapshot
wait 500
mark mass
snapshot -default/kubernetes -shop/web -shop/front
wait 800
mark dump
dump
wait 4500
save-ipvs $TMP/held.ipvs
EOS
after dump "$TMP/held.out" | grep -q '^dump-sent' &&
    ! after mass "$TMP/held.out" | awk '/^mark dump/{exit} 1' | grep -q '^batch'
ok $? "the dump is sent while the mass deletion is held"
grep -q 'dump 2 taken before the held sync: ignored' "$TMP/held.log"
ok $? "the planner ignores it" ||
    grep 'dump' "$TMP/held.log" | sed 's/^/# /'
holds=$(grep -c 'sync held for 2500 ms' "$TMP/held.log")
[ "$holds" -eq 1 ]
ok $? "the deletion is held once" || diag "held $holds times"
sent=$(after mass "$TMP/held.out" | grep -c '^batch [0-9]* flags=confirmed')
[ "$sent" -eq 1 ]
ok $? "... and sent once, confirmed" || diag "$sent confirmed batches"
got=$(after mass "$TMP/held.out" |
    awk '/^batch /{c = / flags=confirmed/; next} /^op / && !c && $0 != "op dump-request 0xf"')
[ -z "$got" ]
ok $? "no other ops follow" || diag "$(echo "$got" | head -n 5)"
! grep -q -e '-t 10.96.0.1:443' -e '-t 10.96.0.10:80' "$TMP/held.ipvs" &&
    grep -q -- '-A -u 10.96.0.53:53' "$TMP/held.ipvs"
ok $? "the kernel lacks exactly the Services the snapshot lacks"

finish
