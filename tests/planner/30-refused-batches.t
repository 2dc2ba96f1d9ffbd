#!/usr/bin/env bash
# kipvs-planner when the applier refuses whole batches (its mass-deletion
# guard: every op rejected with ECANCELED) while a Service changes under
# it.  Found by the chaos soak: an address whose addr-add was backing off
# stayed unbound while the planner sent the Service's new virtual server
# (its port had changed, so the VS had no back-off of its own) on it; the
# applier refused that VS ("not kipvs's") until the address's own back-off
# ran out.  Correct: a refused op leaves the object absent, later syncs
# send it again with its back-off, and a VS never goes before the address
# it needs (the fake applier, like the real one, rejects a VS on an
# address neither on kube-ipvs0 nor a node address).
. "$(dirname "$0")/lib.sh"
need_root

F="--hostname-override node-a --ip-family ipv4"
VIP=10.96.0.40

# The base cluster plus shop/churn (a new Service: nothing of it is in the
# kernel yet), first on port 8080, then on port 80.
python3 - "$FIX" "$TMP" "$VIP" <<'EOF'
import copy, json, sys
fix, tmp, vip = sys.argv[1:4]
base = json.load(open(fix))
svc = next(i for i in base["items"]
           if i["kind"] == "Service" and i["metadata"]["name"] == "web")
sl = next(i for i in base["items"]
          if i["kind"] == "EndpointSlice" and i["metadata"]["name"] == "web-abc")
for port, name in ((8080, "churn8080"), (80, "churn80")):
    s, e = copy.deepcopy(svc), copy.deepcopy(sl)
    s["metadata"]["name"] = "churn"
    s["spec"]["clusterIP"] = vip
    s["spec"]["clusterIPs"] = [vip]
    s["spec"]["ports"][0]["port"] = port
    e["metadata"]["name"] = "churn-1"
    e["metadata"]["labels"]["kubernetes.io/service-name"] = "churn"
    w = copy.deepcopy(base)
    w["items"] += [s, e]
    json.dump(w, open("%s/%s.json" % (tmp, name), "w"), indent=1)
EOF
ok $? "fixtures: shop/churn on $VIP, port 8080 and port 80"

# Three whole batches refused (back-off 1 s, 2 s, then 4 s); the port
# changes after the third refusal, while the address waits 4 s.
drive churn $F <<EOS
objects $FIX
node-ip 192.168.1.10
wait 200
snapshot
wait 500
mark refuse
reject-batches 3 125
objects $TMP/churn8080.json
services
slices
wait 4000
mark port
objects $TMP/churn80.json
services
wait 7000
mark end
save-ipvs $TMP/churn.ipvs
save-sets $TMP/churn.sets
save-addrs $TMP/churn.addrs
EOS

refused=$(after refuse "$TMP/churn.out" | grep -c '^op addr-add '"$VIP"' REJECTED 125$')
[ "$refused" -eq 3 ]
ok $? "the addr-add of $VIP is refused with the whole batch 3 times"; [ "$refused" -eq 3 ] || diag "refused=$refused"
grep -q "skipping addr-add $VIP: rejected (errno 125, whole batch refused); retry in 4000 ms" "$TMP/churn.log"
ok $? "... the third refusal backs the address off for 4 s"
# The port change must land while the address is backing off, or the
# test proves nothing: no addr-add between the third refusal and it.
after refuse "$TMP/churn.out" | awk '/^mark port$/{exit} 1' |
    grep '^op addr-add '"$VIP" | tail -n 1 | grep -q 'REJECTED'
ok $? "... and the port changes while it backs off"

# Walk every batch: a VS (or RS) op on $VIP only once $VIP is bound, by an
# earlier batch or earlier in the same one.
after refuse "$TMP/churn.out" | awk -v vip="$VIP" '
	$0 == "op addr-add " vip { bound = 1; next }
	$0 == "op addr-del " vip { bound = 0; next }
	/^op (vs-ensure|rs-ensure|rs-weight) TCP / && index($4, vip ":") == 1 &&
	    !bound && $NF != "125" { print; bad = 1 }
	END { exit bad }' >"$TMP/churn.bad"
ok $? "no vs-ensure/rs-ensure on $VIP is sent before its addr-add succeeded"
sed 's/^/# /' "$TMP/churn.bad"
! grep -q "rejected (errno 1, " "$TMP/churn.log"
ok $? "the applier never refuses a VS as not kipvs's"
grep "rejected (errno 1, " "$TMP/churn.log" | head -n 3 | sed 's/^/# /'
# The batch that binds the address carries the new VS, after it.
got=$(after port "$TMP/churn.out" | awk -v vip="$VIP" '
	/^batch /{ if (hit) exit; n = 0; next }
	/^op / { n++ }
	$0 == "op addr-add " vip { hit = n }
	hit && /^op vs-ensure TCP / && $4 == vip ":80" { print hit "<" n; exit }')
[ -n "$got" ]
ok $? "addr-add $VIP and then vs-ensure $VIP:80 in one batch ($got)"
! after port "$TMP/churn.out" | grep -q "^op vs-ensure TCP $VIP:8080"
ok $? "the old port's VS is never sent after the port changed"

# The end state is complete: what kipvs-render computes for the final
# objects (IPVS, set members, addresses).
rf=(--hostname-override node-a --ip-family ipv4 --node-ip 192.168.1.10)
"$RENDER" --objects "$TMP/churn80.json" "${rf[@]}" --output ipvs \
    >"$TMP/churn.ripvs" 2>/dev/null
diff -u "$TMP/churn.ripvs" "$TMP/churn.ipvs" >"$TMP/churn.diff" 2>&1
ok $? "final IPVS equals kipvs-render"
sed 's/^/# /' "$TMP/churn.diff"
"$RENDER" --objects "$TMP/churn80.json" "${rf[@]}" --output ipset \
    2>/dev/null | grep -v -e '^#' -e '^create ' | sed 's/^add //' |
    sort >"$TMP/churn.rsets"
sort "$TMP/churn.sets" | diff -u "$TMP/churn.rsets" - >"$TMP/churn.sdiff"
ok $? "final set members equal kipvs-render"
sed 's/^/# /' "$TMP/churn.sdiff"
"$RENDER" --objects "$TMP/churn80.json" "${rf[@]}" --output addresses \
    2>/dev/null | sort >"$TMP/churn.raddrs"
sort "$TMP/churn.addrs" | diff -u "$TMP/churn.raddrs" - >"$TMP/churn.adiff"
ok $? "final kube-ipvs0 addresses equal kipvs-render (with $VIP)"
sed 's/^/# /' "$TMP/churn.adiff"
grep -qx "$VIP/32" "$TMP/churn.addrs"
ok $? "... $VIP is bound"
grep -q "^-A -t $VIP:80 " "$TMP/churn.ipvs" &&
    ! grep -q "^-A -t $VIP:8080 " "$TMP/churn.ipvs"
ok $? "... the VS is on port 80 only"
tail -n 20 "$TMP/churn.out" | grep -q '^status synced,applier-up, services=5 failed=0'
ok $? "status: synced, nothing failing"

finish
