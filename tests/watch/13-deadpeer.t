#!/usr/bin/env bash
# A peer that vanishes without FIN or RST (its packets black-holed) is
# noticed by TCP keepalive / TCP_USER_TIMEOUT while the watch is idle, and
# the watch is replaced from the same rv once the path is back.  Runs in a
# throwaway network namespace (root) with shortened keepalive timers:
# idle 1 s, 2 probes 1 s apart, TCP_USER_TIMEOUT 3 s (the daemon uses 15 s,
# 3 x 5 s and 30 s: detected within ~30-45 s).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/netns.sh
netns_enter "$0" "$@"
. tests/watch/lib.sh
need_tools
command -v iptables >/dev/null || skip_all "iptables not installed"
start_api
api_port=${API##*:}

start_driver --kubeconfig "$W/kubeconfig" --resources svc \
    --keepalive 1,1,2,3000 --backoff-base 200 --jitter 0
wait_for 'svc END' 10
wait_req watch services 1 5
sleep 0.5
iptables -I INPUT -p tcp --sport "$api_port" -j DROP ||
    { echo "Bail out! iptables failed"; exit 1; }
start=$(date +%s%N)
detected=
for i in $(seq 150); do
	if grep -q 'services: watch:' "$W/err"; then
		detected=$(( ($(date +%s%N) - start) / 1000000 ))
		break
	fi
	sleep 0.1
done
iptables -D INPUT -p tcp --sport "$api_port" -j DROP
t "black-holed idle watch noticed within 10 s (${detected:-never} ms)" \
    within "${detected:-99999}" 1 10000
rv=$(ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"back","namespace":"alpha"},"spec":{"clusterIP":"10.96.1.9"}}}' | tr -dc 0-9)
t "sink: after the path is back, the next change arrives" \
    wait_for "svc ADDED alpha/back $rv" 15
reqlog >/dev/null
t "wire: the replacement watch resumes from the list's rv, no relist" bash -c "
    [ \$(awk '\$2 == \"list\"' '$W/log' | wc -l) -eq 1 ] &&
    [ \$(awk '\$2 == \"watch\" {print \$5}' '$W/log' | sed -n 's/.*resourceVersion=\([0-9]*\).*/\1/p' | sort -u | wc -l) -eq 1 ]"
stop_driver
t "sink: one snapshot" test "$(grep -c 'svc BEGIN' "$W/out")" -eq 1
finish
