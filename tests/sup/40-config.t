#!/usr/bin/env bash
# `kipvs --config FILE`: the parent reads a KubeProxyConfiguration with
# kube-proxy's precedence (the file wins; of kube-proxy's flags only
# --hostname-override and those without a field apply) and hands the
# result to every daemon as flags.  A bad file stops the parent before any
# daemon starts, naming the field and line.
. "$(dirname "$0")/lib.sh"
need_root

cfg=$TMP/kube-proxy.yaml
cat >"$cfg" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: ipvs
clientConnection:
  kubeconfig: $TMP/tf.kubeconfig
iptables:
  masqueradeAll: true
ipvs:
  scheduler: wlc
EOF

# The command line's --ipvs-scheduler loses to the file.
start_kipvs --config "$cfg" --ipvs-scheduler=rr
wait_for 20 all_up
ok $? "three children up with --config"
for d in kipvs-watcherd kipvs-planner kipvs-applierd; do
	p=$(child_pid "$d")
	args=$(tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null)
	grep -qx -- '--ipvs-scheduler=wlc' <<<"$args" &&
	    grep -qx -- '--masquerade-all=true' <<<"$args" &&
	    grep -qx -- "--kubeconfig=$TMP/tf.kubeconfig" <<<"$args" &&
	    grep -qx -- "--hostname-override=$NODE" <<<"$args" &&
	    ! grep -q -- '--ipvs-scheduler=rr' <<<"$args"
	ok $? "$d got the file's settings as flags"
done
grep -q 'warning: --ipvs-scheduler is ignored because --config is given' "$LOG"
ok $? "the overridden command-line flag is named in a warning"
p=$(child_pid kipvs-planner)
wait_for 20 first_sync "$p"
ok $? "the first sync is applied with the file's kubeconfig"
kill -TERM "$KPID" 2>/dev/null; wait "$KPID" 2>/dev/null; KPID=

printf 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nipvs:\n  bogus: 1\n' >"$TMP/bad.yaml"
"$KIPVS" --libexec-dir "$LIBEXEC" --config "$TMP/bad.yaml" \
    >/dev/null 2>"$TMP/bad.log"
rc=$?
[ "$rc" -eq 1 ] && grep -q "bad.yaml:4: unknown field 'ipvs.bogus'" "$TMP/bad.log"
ok $? "a bad file stops the parent, naming the line and field (status $rc)"
finish
