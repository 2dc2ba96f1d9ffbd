#!/usr/bin/env bash
# kipvs-planner as a daemon, cold start: nothing before both lists are
# complete, default/kubernetes and the base chains first, and the state
# after the first sync equals what kipvs-render computes (golden cases).
. "$(dirname "$0")/lib.sh"
need_root

F="--hostname-override node-a --ip-family ipv4"

# 1. Services complete, slices not: nothing goes out.
drive lists $F <<EOS
objects $FIX
node-ip 192.168.1.10
wait 200
begin
services
nodes
complete svc
complete node
end
wait 600
mark slices
begin
services
slices
nodes
complete svc
complete slice
complete node
end
wait 600
EOS
awk '/^mark slices/{exit} /^batch/' "$TMP/lists.out" | grep -q . 
ok $((! $?)) "no batch before the EndpointSlice list is complete"
after slices "$TMP/lists.out" | grep -q '^batch 1 flags=full'
ok $? "the first batch follows the complete lists"

# 2. The first batch: device, sets, chains, default/kubernetes, nothing else.
b1=$(batch 1 "$TMP/lists.out")
echo "$b1" | head -1 | grep -q '^op link-ensure'
ok $? "batch 1 starts with the device"
echo "$b1" | grep -q 'chain-replace ipv4 nat KUBE-SERVICES' &&
    echo "$b1" | grep -q 'chain-replace ipv4 nat KUBE-POSTROUTING'
ok $? "batch 1 has the base chains (masquerade rules)"
echo "$b1" | grep -q '^op vs-ensure TCP 10.96.0.1:443' &&
    echo "$b1" | grep -q '^op rs-ensure TCP 10.96.0.1:443 192.168.1.10:6443' &&
    echo "$b1" | grep -q '^op addr-add 10.96.0.1$'
ok $? "batch 1 has default/kubernetes' VS, RS and address"
! echo "$b1" | grep -qE '10\.96\.0\.(10|20|53)'
ok $? "batch 1 has nothing of the other Services"
last_chain=$(echo "$b1" | grep -n chain-replace | tail -1 | cut -d: -f1)
first_vs=$(echo "$b1" | grep -n 'vs-ensure' | head -1 | cut -d: -f1)
[ "$last_chain" -lt "$first_vs" ]
ok $? "chains come before the first virtual server"
batch 2 "$TMP/lists.out" | grep -q 'vs-ensure TCP 10.96.0.10:80'
ok $? "batch 2 has the rest"
grep -q '^local-eps shop/front port=32000 ready=1' "$TMP/lists.out"
ok $? "local ready endpoints of the health-checked Service reach the watcher"
grep -q '^status synced,applier-up, services=4 failed=0' "$TMP/lists.out"
ok $? "status: synced, applier up, 4 services"

# 3. Golden cases: the simulated kernel after the first sync equals
# kipvs-render's output for the same input.
for dir in tests/render/cases/1*; do
	c=$(basename "$dir")
	[ -f "$dir/initial.ipvs" ] && continue
	# Flags the daemon does not take, or filters the fake watcher lacks.
	if grep -qE '^--(iptables-random-fully|service-proxy-name)$' "$dir/flags"; then
		diag "$c: skipped (a render-only flag)"
		continue
	fi
	args=() script="$TMP/$c.script"
	echo "objects $dir/cluster.json" >"$script"
	prev=
	while IFS= read -r l; do
		if [ "$prev" = --node-ip ]; then
			for ip in ${l//,/ }; do echo "node-ip $ip" >>"$script"; done
		elif [ -n "$prev" ] && [ "${prev#--}" != "$prev" ]; then
			args+=("$prev" "$l")
		fi
		if [ "${l#--}" != "$l" ] && { [ "$l" = --masquerade-all ] || [ "$l" = --ipvs-strict-arp ]; }; then
			args+=("$l"); prev=; continue
		fi
		prev=$l
	done <"$dir/flags"
	cat >>"$script" <<EOS
wait 200
snapshot
wait 700
save-ipvs $TMP/$c.ipvs
save-sets $TMP/$c.sets
save-addrs $TMP/$c.addrs
EOS
	drive "$c" "${args[@]}" <"$script"
	mapfile -t rflags <"$dir/flags"
	"$RENDER" --objects "$dir/cluster.json" "${rflags[@]}" --output ipvs \
	    >"$TMP/$c.ripvs" 2>/dev/null
	diff -u "$TMP/$c.ripvs" "$TMP/$c.ipvs" >"$TMP/$c.diff" 2>&1
	ok $? "$c: IPVS after the first sync equals kipvs-render" || sed 's/^/# /' "$TMP/$c.diff"
	"$RENDER" --objects "$dir/cluster.json" "${rflags[@]}" --output ipset \
	    2>/dev/null | grep -v -e '^#' -e '^create ' | sed 's/^add //' |
	    sort >"$TMP/$c.rsets"
	sort "$TMP/$c.sets" | diff -u "$TMP/$c.rsets" - >"$TMP/$c.sdiff"
	ok $? "$c: set members equal kipvs-render" || sed 's/^/# /' "$TMP/$c.sdiff"
	"$RENDER" --objects "$dir/cluster.json" "${rflags[@]}" \
	    --output addresses 2>/dev/null | sort >"$TMP/$c.raddrs"
	sort "$TMP/$c.addrs" | diff -u "$TMP/$c.raddrs" - >"$TMP/$c.adiff"
	ok $? "$c: kube-ipvs0 addresses equal kipvs-render" || sed 's/^/# /' "$TMP/$c.adiff"
done
finish
