#!/usr/bin/env bash
# Failures back off exponentially (base doubling to a cap, with jitter),
# a success resets the back-off, a failed watch is retried from the same
# rv without a relist, and an outage retracts nothing from the sink.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/watch/lib.sh
need_tools
start_api

# No jitter: the exact sequence 200, 400, 800, 1000, 1000.
ctl /fault '{"kind":"services","verb":"list","action":"status","status":500,"count":5}' >/dev/null
start_driver --kubeconfig "$W/kubeconfig" --resources svc \
    --backoff-base 200 --backoff-cap 1000 --jitter 0
wait_for 'svc END' 10
stop_driver
gaps list services >"$W/g"
t "wire: 6 lists (5 failures, then success)" test "$(wc -l <"$W/g")" -eq 5
want=(200 400 800 1000 1000)
bad=0
for i in 0 1 2 3 4; do
	g=$(sed -n $((i + 1))p "$W/g")
	about "$g" "${want[$i]}" $((want[i] + 250)) || bad=1
done
t "wire: gaps double from the base to the cap ($(tr '\n' ' ' <"$W/g"))" \
    test $bad -eq 0
t "sink: failed attempts are invisible: one BEGIN, one END" bash -c "
    test \$(grep -c 'svc BEGIN' '$W/out') -eq 1 &&
    test \$(grep -c 'svc END' '$W/out') -eq 1"

# Jitter 100%: each wait in [d, 2d).
ctl /log >"$W/before"
ctl /fault '{"kind":"services","verb":"list","action":"drop","count":4}' >/dev/null
: >"$W/out"
start_driver --kubeconfig "$W/kubeconfig" --resources svc \
    --backoff-base 200 --backoff-cap 1000
wait_for 'svc END' 15
stop_driver
gaps list services | tail -4 >"$W/g"
want=(200 400 800 1000)
bad=0
for i in 0 1 2 3; do
	g=$(sed -n $((i + 1))p "$W/g")
	about "$g" "${want[$i]}" $((2 * want[i] + 250)) || bad=1
done
t "wire: dropped connections back off with jitter in [d, 2d) ($(tr '\n' ' ' <"$W/g"))" \
    test $bad -eq 0
t "wire: a drop is logged as such" grep -q 'list services drop' "$W/log"

# A failing watch: retried from the same rv, no relist, back-off reset
# after a success.
: >"$W/out"
start_driver --kubeconfig "$W/kubeconfig" --resources svc \
    --backoff-base 300 --backoff-cap 1000 --jitter 0 --min-watch-ms 1
wait_for 'svc END' 10
wait_req watch services 1 5
lists0=$(reqs list services | wc -l)
rv=$(ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"api","namespace":"alpha"},"spec":{"clusterIP":"10.96.1.1"}}}' | tr -dc 0-9)
wait_for "svc ADDED alpha/api $rv" 5
reqlog >/dev/null
w0=$(reqs watch services | wc -l)
# (500, not a dropped connection: curl itself retries a request once when
# a reused connection turns out closed.)
ctl /fault '{"kind":"services","verb":"watch","action":"status","status":500,"count":2}' >/dev/null
ctl /end-watches '' >/dev/null
wait_req watch services $((w0 + 3)) 5
tail -3 <(reqs watch services) >"$W/w"
t "wire: retried watches resume from the last event's rv" \
    test "$(awk '{print $5}' "$W/w" | qparam resourceVersion | sort -u)" = "$rv"
both_about() { about "$1" 300 550 && about "$2" 600 850; }
g1=$(( $(sed -n 2p "$W/w" | cut -d' ' -f1) - $(sed -n 1p "$W/w" | cut -d' ' -f1) ))
g2=$(( $(sed -n 3p "$W/w" | cut -d' ' -f1) - $(sed -n 2p "$W/w" | cut -d' ' -f1) ))
t "wire: watch retries back off 300 then 600 ms ($g1, $g2)" \
    both_about "$g1" "$g2"
t "wire: no relist for a failed watch" \
    test "$(reqs list services | wc -l)" -eq "$lists0"
# After that success the next failure starts from the base again.
sleep 0.3
reqlog >/dev/null
w0=$(reqs watch services | wc -l)
ctl /fault '{"kind":"services","verb":"watch","action":"status","status":500,"count":1}' >/dev/null
ctl /end-watches '' >/dev/null
wait_req watch services $((w0 + 2)) 5
tail -2 <(reqs watch services) >"$W/w"
g=$(( $(sed -n 2p "$W/w" | cut -d' ' -f1) - $(sed -n 1p "$W/w" | cut -d' ' -f1) ))
t "wire: back-off was reset by the successful watch ($g ms)" about $g 300 550

# An outage: every request fails for 4 s.  Waits stay under the cap, the
# sink keeps everything, and the watcher resyncs when the server is back.
sleep 0.3
t0=$(reqlog | wc -l)
ctl /fault '{"kind":"*","verb":"*","action":"drop","count":-1}' >/dev/null
ctl /end-watches '' >/dev/null
sleep 4
ctl /clear-faults '' >/dev/null
rv=$(ctl /apply '{"kind":"services","op":"add","object":{"metadata":{"name":"after","namespace":"alpha"},"spec":{"clusterIP":"10.96.1.2"}}}' | tr -dc 0-9)
t "sink: back after the outage, the next change arrives" \
    wait_for "svc ADDED alpha/after $rv" 5
stop_driver
reqlog | tail -n +$((t0 + 1)) | awk '$2 == "watch" {print $1}' |
    awk 'NR > 1 {print $1 - last} {last = $1}' | sort -n >"$W/g"
t "wire: several retries during the outage ($(wc -l <"$W/g"))" \
    test "$(wc -l <"$W/g")" -ge 4
t "wire: no wait over the cap during the outage (max $(tail -1 "$W/g") ms)" \
    about "$(tail -1 "$W/g")" 0 1300
t "sink: nothing retracted, no new snapshot" bash -c "
    ! grep -q DELETED '$W/out' && test \$(grep -c 'svc BEGIN' '$W/out') -eq 1"
finish
