#!/bin/sh
# shellcheck shell=sh
# /init of the kipvs test VM (busybox sh, PID 1). Installed into the
# initramfs by tests/vm/mkinitramfs.sh; run by tests/vm/run.sh.
#
# Kernel command line parameters (set by run.sh):
#   kipvs.run=DIR     per-run directory on the host; DIR/cmd.sh is the command
#   kipvs.nonce=HEX   makes the output marker lines unique
#   kipvs.net=1       configure eth0 for qemu user networking
#   kipvs.repo=DIR    the repository; kept visible at the same path even
#                     when it lies under /tmp or /run, which get fresh tmpfs
#   kipvs.outdir=DIR  host directory shared writable (mount tag "kipvsout"),
#                     mounted at the same path inside the guest
#
# Everything this script says goes to the kernel console (ttyS0); the test's
# output goes to ttyS1 between the marker lines
#   KIPVS-VM-<nonce>-BEGIN
#   KIPVS-VM-<nonce>-END rc=<exit status>
PATH=/bin
export PATH

mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/null >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

say() { echo "kipvs-init: $*"; }
halt_now() {
    say "powering off"
    poweroff -f
    sleep 10
}
die() {
    say "FATAL: $*"
    if [ -n "${OUT:-}" ] && [ -n "${NONCE:-}" ]; then
        echo "kipvs-vm: guest setup failed: $*" >"$OUT"
        echo "KIPVS-VM-$NONCE-END rc=125" >"$OUT"
    fi
    halt_now
}

RUN='' NONCE='' NET='' OUTDIR='' REPO=''
# shellcheck disable=SC2013 # the command line is a list of words
for arg in $(cat /proc/cmdline); do
    case $arg in
    kipvs.run=*) RUN=${arg#kipvs.run=} ;;
    kipvs.nonce=*) NONCE=${arg#kipvs.nonce=} ;;
    kipvs.net=*) NET=${arg#kipvs.net=} ;;
    kipvs.outdir=*) OUTDIR=${arg#kipvs.outdir=} ;;
    kipvs.repo=*) REPO=${arg#kipvs.repo=} ;;
    esac
done

OUT=/dev/ttyS1
[ -c "$OUT" ] || OUT=/dev/console
# No \n -> \r\n translation and no echo on the output port.
stty -F "$OUT" raw -echo 2>/dev/null

if [ -z "$RUN" ] || [ -z "$NONCE" ]; then
    die "kipvs.run= / kipvs.nonce= missing"
fi
KVER=$(uname -r)

# virtio (PCI) transport, 9p, overlayfs.
modprobe -a virtio_pci 9pnet_virtio 9p overlay || die "loading boot modules failed"

mkdir -p /host /overlay /newroot
n=0
until mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose \
    hostroot /host; do
    n=$((n + 1))
    [ $n -lt 20 ] || die "cannot mount the host root (9p tag hostroot)"
    sleep 0.1
done
[ -f "/host$RUN/cmd.sh" ] || die "/host$RUN/cmd.sh not found"

mount -t tmpfs -o mode=0755 tmpfs /overlay
mkdir -p /overlay/upper /overlay/work
mount -t overlay overlay \
    -o lowerdir=/host,upperdir=/overlay/upper,workdir=/overlay/work /newroot ||
    die "overlay mount failed"

R=/newroot
# The repository may be a clone under /tmp (CI's is): hold on to its
# overlay view before the fresh /run and /tmp hide it, and put it back at
# the same path afterwards.
if [ -n "$REPO" ]; then
    [ -d "$R$REPO" ] || die "repository $REPO not visible through 9p"
    mkdir -p /repo-held
    mount -o bind "$R$REPO" /repo-held || die "bind-mounting $REPO failed"
fi
mount -t proc proc $R/proc || die "mount proc"
mount -t sysfs sysfs $R/sys || die "mount sysfs"
mount -t devtmpfs devtmpfs $R/dev || die "mount devtmpfs"
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
mount -t tmpfs -o mode=0755 tmpfs $R/run || die "mount /run"
mount -t tmpfs -o mode=1777 tmpfs $R/tmp || die "mount /tmp"
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup 2>/dev/null
if [ -n "$REPO" ] && [ ! -d "$R$REPO" ]; then
    mkdir -p "$R$REPO" || die "mkdir $R$REPO"
    mount -o move /repo-held "$R$REPO" || die "moving $REPO back failed"
fi

# The host's /lib/modules is for another kernel: show the guest's own
# module tree there, so modprobe inside the chroot (iptables, ipvsadm and
# ipset call it) finds the guest's modules. The kernel's own autoloading
# runs /sbin/modprobe of this initramfs, which uses the same tree.
mkdir -p "$R/lib/modules/$KVER" || die "mkdir $R/lib/modules/$KVER"
mount -o bind "/lib/modules/$KVER" "$R/lib/modules/$KVER" ||
    die "bind-mounting the module tree failed"

if [ -n "$OUTDIR" ]; then
    mkdir -p "$R$OUTDIR" || die "mkdir $R$OUTDIR"
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 \
        kipvsout "$R$OUTDIR" || die "cannot mount the output share at $OUTDIR"
fi

ip link set lo up || die "cannot bring lo up"
hostname kipvs-vm
if [ "$NET" = 1 ]; then
    modprobe virtio_net
    n=0
    while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 20 ]; do
        n=$((n + 1))
        sleep 0.1
    done
    ip link set eth0 up || die "cannot bring eth0 up"
    ip addr add 10.0.2.15/24 dev eth0 || die "cannot configure eth0"
    ip route add default via 10.0.2.2 || die "cannot add the default route"
fi

mkdir -p $R/run/kipvs
cp "/host$RUN/cmd.sh" $R/run/kipvs/cmd.sh || die "cannot copy cmd.sh"

say "running $RUN/cmd.sh"
exec 3>"$OUT"
echo "KIPVS-VM-$NONCE-BEGIN" >&3
chroot $R /bin/bash /run/kipvs/cmd.sh </dev/null >&3 2>&3
rc=$?
say "test exited with status $rc"
# Anything the test left running must not hold the output port open:
# closing its last descriptor waits until all output has left the UART.
kill -9 -1 2>/dev/null
sleep 0.1
echo "KIPVS-VM-$NONCE-END rc=$rc" >&3
exec 3>&-
sync
halt_now
