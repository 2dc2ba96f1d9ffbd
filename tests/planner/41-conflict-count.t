#!/usr/bin/env bash
# kipvs_planner_neutralised_total{reason="conflict"} from the daemon's
# incremental diff: a Service that claims another's IP:port later is
# counted (and logged) once when it starts losing, not again when it is
# recomputed or the kernel is re-read while it keeps losing; a Service
# that starts losing to an even older one counts once more, a conflict
# that goes and comes back counts again.  A cold start counts what a full
# computation (kipvs-render) counts.  The counters travel in PW_STATUS,
# which planner_driver prints ("status ... conflict=N").
. "$(dirname "$0")/lib.sh"
need_root

F="--hostname-override node-a --ip-family ipv4"
VIP=10.96.0.10		# shop/web's ClusterIP, port 80

# shop/thief (newer than shop/web) and later shop/elder (older) take
# $VIP:80 as an externalIP; thief asks for ClientIP affinity, so its VS
# would differ from web's.
python3 - "$FIX" "$TMP" "$VIP" <<'EOF'
import copy, json, sys
fix, tmp, vip = sys.argv[1:4]
base = json.load(open(fix))
svc = next(i for i in base["items"]
           if i["kind"] == "Service" and i["metadata"]["name"] == "web")
sl = next(i for i in base["items"]
          if i["kind"] == "EndpointSlice" and i["metadata"]["name"] == "web-abc")
def claim(name, created, cip, ep):
    s, e = copy.deepcopy(svc), copy.deepcopy(sl)
    s["metadata"]["name"] = name
    s["metadata"]["creationTimestamp"] = created
    s["spec"]["clusterIP"] = cip
    s["spec"]["clusterIPs"] = [cip]
    s["spec"]["externalIPs"] = [vip]
    e["metadata"]["name"] = name + "-1"
    e["metadata"]["labels"]["kubernetes.io/service-name"] = name
    e["endpoints"] = [copy.deepcopy(e["endpoints"][0])]
    e["endpoints"][0]["addresses"] = [ep]
    return s, e
thief = claim("thief", "2025-06-01T00:00:00Z", "10.96.0.30", "10.244.3.3")
thief[0]["spec"]["sessionAffinity"] = "ClientIP"
elder = claim("elder", "2023-06-01T00:00:00Z", "10.96.0.31", "10.244.3.9")
w = copy.deepcopy(base)
w["items"] += list(thief)
json.dump(w, open(tmp + "/thief.json", "w"), indent=1)
w["items"] += list(elder)
json.dump(w, open(tmp + "/elder.json", "w"), indent=1)
EOF
ok $? "fixtures: shop/thief (newer) and shop/elder (older) claim $VIP:80"

# status_before MARK: the last status line before "mark MARK".
status_before() {
	awk -v m="mark $1" '$0 == m{exit} /^status /{s = $0} END{print s}' \
	    "$TMP/conf.out"
}
conflicts() {	# conflicts MARK: the conflict counter before the mark
	status_before "$1" | sed -n 's/.* conflict=\([0-9]*\).*/\1/p'
}

drive conf $F <<EOS
objects $FIX
node-ip 192.168.1.10
wait 200
snapshot
wait 1200
mark base
objects $TMP/thief.json
services
slices
wait 1200
mark added
save-ipvs $TMP/conf-added.ipvs
slice-ep shop/thief-1 0 10.244.3.4
wait 1200
mark recomputed
node-ip 192.168.1.11
dump
wait 1200
mark full
objects $TMP/elder.json
services
slices
wait 1200
mark elder
save-ipvs $TMP/conf-elder.ipvs
delete svc shop/elder
wait 1200
mark elder-gone
delete svc shop/thief
wait 1200
mark thief-gone
objects $TMP/thief.json
services
wait 1200
mark back
EOS

got=$(status_before base)
echo "$got" | grep -q '^status synced,' && [ -z "$(conflicts base)" ]
ok $? "the base cluster: synced, no conflict counted" || diag "$got"
[ "$(conflicts added)" = 1 ]
ok $? "shop/thief added incrementally: conflict=1" || diag "$(status_before added)"
msg="service shop/thief: virtual server TCP $VIP:80 is also claimed by service shop/web, which is older or sorts first: left out (conflict)"
grep -qF "$msg" "$TMP/conf.log"
ok $? "... logged, naming the loser and the winner"
grep -q "^-A -t $VIP:80 -s rr\$" "$TMP/conf-added.ipvs" &&
    grep -q "^-a -t $VIP:80 -r 10.244.1.5:8080 " "$TMP/conf-added.ipvs" &&
    ! grep -q "^-a -t $VIP:80 -r 10.244.3.3:8080 " "$TMP/conf-added.ipvs"
ok $? "... the older shop/web keeps $VIP:80 (no persistence, web's servers)" ||
    grep -- "-t $VIP:80" "$TMP/conf-added.ipvs" | sed 's/^/# /'
after added "$TMP/conf.out" | awk '/^mark recomputed/{exit} 1' |
    grep -q '^op rs-ensure TCP 10.96.0.30:80 10.244.3.4:8080'
ok $? "shop/thief's endpoint changes (it is recomputed)"
[ "$(conflicts recomputed)" = 1 ]
ok $? "... still conflict=1" || diag "$(status_before recomputed)"
grep -q 'node IPs: 2 addresses' "$TMP/conf.log"
ok $? "a dump with a new node IP recomputes every Service"
[ "$(conflicts full)" = 1 ]
ok $? "... still conflict=1" || diag "$(status_before full)"
[ "$(conflicts elder)" = 2 ]
ok $? "shop/elder (older) takes $VIP:80: shop/web starts losing, conflict=2" ||
    diag "$(status_before elder)"
grep -q "^-a -t $VIP:80 -r 10.244.3.9:8080 " "$TMP/conf-elder.ipvs" &&
    ! grep -q "^-a -t $VIP:80 -r 10.244.1.5:8080 " "$TMP/conf-elder.ipvs"
ok $? "... shop/elder's servers behind $VIP:80 now"
[ "$(conflicts elder-gone)" = 2 ] && [ "$(conflicts thief-gone)" = 2 ]
ok $? "deleting the winner, then the loser, counts nothing"
[ "$(conflicts back)" = 3 ]
ok $? "shop/thief back: a new conflict, conflict=3" || diag "$(status_before back)"
# One log line per count: thief (added), web (elder came), thief (back).
got=$(grep -F 'left out (conflict)' "$TMP/conf.log" |
    sed 's/.*: service \([^:]*\): .* claimed by service \([^,]*\),.*/\1<\2/')
want="shop/thief<shop/web
shop/web<shop/elder
shop/thief<shop/web"
[ "$got" = "$want" ]
ok $? "each count is logged once: loser<winner $(echo $got)" || diag "$got"

# A cold start counts what the full computation counts (and logs).
drive cold $F <<EOS
objects $TMP/elder.json
node-ip 192.168.1.10
wait 200
snapshot
wait 1500
EOS
want=$("$RENDER" --objects "$TMP/elder.json" --hostname-override node-a \
    --ip-family ipv4 --node-ip 192.168.1.10 --output ipvs 2>&1 >/dev/null |
    grep -c 'left out (conflict)')
got=$(awk '/^status /{s = $0} END{print s}' "$TMP/cold.out" |
    sed -n 's/.* conflict=\([0-9]*\).*/\1/p')
[ "$want" -eq 2 ] && [ "$got" = "$want" ]
ok $? "cold start with shop/elder and shop/thief: conflict=$got, as kipvs-render counts ($want)"
[ "$(grep -c 'left out (conflict)' "$TMP/cold.log")" -eq 2 ]
ok $? "... and logs each loser once"

finish
