#!/usr/bin/env bash
# Build the kipvs test VM's initramfs from the kernel unpacked by
# fetch-kernel.sh: static busybox, tests/vm/initramfs-init.sh as /init and
# the kernel modules the tests need (IPVS, ipset, x_tables, ...).
#
#   tests/vm/mkinitramfs.sh        # rebuilds only when an input changed
#
# Environment: KIPVS_CACHE (default <repo>/.cache/vm), KIPVS_BUSYBOX
# (default /bin/busybox, from busybox-static).
#
# Result: $KIPVS_CACHE/boot/current names a directory $KIPVS_CACHE/boot/<id>/
# holding vmlinuz (and vmlinux, its unpacked ELF image, for PVH boot),
# initramfs.cpio.gz, kver and modules.txt.
set -euo pipefail

PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${KIPVS_CACHE:-$repo/.cache/vm}
busybox=${KIPVS_BUSYBOX:-/bin/busybox}
init=$here/initramfs-init.sh

die() { printf 'mkinitramfs: error: %s\n' "$*" >&2; exit 1; }

# Modules to put into the initramfs (their dependencies come along).
# Names as modprobe knows them; built-in ones are skipped.
MODULES=(
    # boot: virtio PCI transport, 9p host share, overlayfs, virtio net
    virtio_pci 9pnet_virtio 9pnet 9p netfs fscache overlay virtio_net
    # links
    dummy veth af_packet ipv6 ipip
    # IPVS and every scheduler (the whole ipvs directory is added below)
    ip_vs
    # conntrack, NAT
    nf_conntrack nf_conntrack_netlink nf_defrag_ipv4 nf_defrag_ipv6 nf_nat
    nfnetlink libcrc32c crc32c_generic
    # ipset (all set types are added below)
    ip_set
    # x_tables / iptables-legacy
    x_tables ip_tables ip6_tables
    iptable_nat iptable_filter iptable_mangle iptable_raw
    ip6table_nat ip6table_filter ip6table_mangle ip6table_raw
    ipt_REJECT ip6t_REJECT
    xt_set xt_comment xt_mark xt_MASQUERADE xt_conntrack xt_addrtype
    xt_multiport xt_tcpudp xt_statistic xt_nat xt_state xt_ipvs
    xt_REDIRECT xt_connmark xt_limit xt_physdev
    # nf_tables, so that the nft-based "iptables" works too
    nf_tables nft_compat nft_chain_nat nft_ct nft_nat nft_masq nft_redir
    nft_reject nft_reject_inet nft_reject_ipv4 nft_reject_ipv6
    nft_fib_ipv4 nft_fib_ipv6 nft_fib_inet nft_limit
)
# Whole module directories (relative to lib/modules/<kver>/kernel).
MODULE_DIRS=(net/netfilter/ipvs net/netfilter/ipset)
# Never included: needs SSE4.2, which the emulated CPU lacks; the
# crc32c_generic module provides "crc32c" instead.
SKIP_RE='/crc32c-intel\.ko'

for tool in cpio gzip depmod modprobe sha256sum flock find sort; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found"
done
[[ -x $busybox ]] || die "$busybox not found (install busybox-static)"
if ldd "$busybox" 2>/dev/null | grep -q '=>'; then
    die "$busybox is dynamically linked (install busybox-static)"
fi

kname=$(cat "$cache/kernel/current" 2>/dev/null) ||
    die "no kernel in $cache/kernel (run tests/vm/fetch-kernel.sh)"
kroot=$cache/kernel/$kname
[[ -f $kroot/.complete ]] || die "$kroot is incomplete (run tests/vm/fetch-kernel.sh)"
kver=$(<"$kroot/KVER")
vmlinuz=$kroot/boot/vmlinuz-$kver
kmod=$kroot/lib/modules/$kver

# Unpack the ELF kernel from a bzImage (x86 boot protocol >= 2.08: the
# payload's offset and length are in the setup header). qemu boots such an
# ELF directly through its PVH entry point, which saves the several seconds
# the emulated CPU needs to decompress the kernel.
extract_vmlinux() {
    local img=$1 dst=$2 sects off len start magic
    u() { od -An -t"u$2" -j "$1" -N "$2" "$img" | tr -d ' '; }
    [[ $(od -An -c -j $((0x202)) -N4 "$img" | tr -d ' ') == HdrS ]] || return 1
    sects=$(u $((0x1f1)) 1)
    ((sects != 0)) || sects=4
    off=$(u $((0x248)) 4)
    len=$(u $((0x24c)) 4)
    start=$(((sects + 1) * 512 + off))
    magic=$(od -An -tx1 -j "$start" -N4 "$img" | tr -d ' ')
    local dec
    case $magic in
    fd377a58) dec=(xz -dc --single-stream) ;;
    1f8b*) dec=(gzip -dc) ;;
    28b52ffd) dec=(zstd -qdc) ;;
    *) return 1 ;;
    esac
    command -v "${dec[0]}" >/dev/null 2>&1 || return 1
    tail -c +$((start + 1)) "$img" | head -c "$len" | "${dec[@]}" >"$dst" 2>/dev/null || true
    [[ $(od -An -c -N4 "$dst" 2>/dev/null | tr -d ' ') == 177ELF ]] || {
        rm -f "$dst"
        return 1
    }
    # Only an image with a PVH entry note (Xen note type 18) can be booted
    # this way; without readelf, trust CONFIG_PVH.
    if command -v readelf >/dev/null 2>&1; then
        readelf -n "$dst" 2>/dev/null | grep -q 'Xen.*(0x00000012)'
    else
        grep -qx 'CONFIG_PVH=y' "$kroot/boot/config-$kver"
    fi || {
        rm -f "$dst"
        return 1
    }
}

mkdir -p "$cache/boot"
exec 9>"$cache/boot/.lock"
flock 9

id=$(
    {
        printf '%s\n' "$kname"
        sha256sum <"$busybox"
        sha256sum <"${BASH_SOURCE[0]}"
        sha256sum <"$init"
    } | sha256sum
)
id=${id:0:16}
out=$cache/boot/$id
if [[ -f $out/.complete ]]; then
    [[ -f $cache/boot/current && $(<"$cache/boot/current") == "$id" ]] ||
        printf '%s\n' "$id" >"$cache/boot/current"
    exit 0
fi
printf 'mkinitramfs: building initramfs for %s\n' "$kver" >&2

tmp=$(mktemp -d "$cache/boot/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
st=$tmp/root

# Resolve the module list (with dependencies) to files.
names=("${MODULES[@]}")
for d in "${MODULE_DIRS[@]}"; do
    [[ -d $kmod/kernel/$d ]] || die "$kmod/kernel/$d missing"
    while IFS= read -r f; do
        f=${f##*/}
        f=${f%%.ko*}
        names+=("$f")
    done < <(find "$kmod/kernel/$d" -name '*.ko*' | sort)
done
declare -A files=()
builtin=()
for m in "${names[@]}"; do
    deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$m" 2>&1) ||
        die "module $m: $deps"
    while read -r kind path _; do
        case $kind in
        insmod) [[ $path =~ $SKIP_RE ]] || files[$path]=1 ;;
        builtin) builtin+=("$m") ;;
        esac
    done <<<"$deps"
done

mkdir -p "$st"/{bin,dev,proc,sys,run,tmp,host,overlay,newroot,usr}
mkdir -p "$st/lib/modules/$kver"
ln -s bin "$st/sbin"
ln -s ../bin "$st/usr/bin"
ln -s ../bin "$st/usr/sbin"
cp "$busybox" "$st/bin/busybox"
while IFS= read -r applet; do
    [[ -n $applet && $applet != busybox ]] || continue
    ln -s busybox "$st/bin/$applet"
done < <("$busybox" --list)
[[ -L $st/bin/modprobe && -L $st/bin/sh ]] || die "busybox lacks sh or modprobe"
install -m 0755 "$init" "$st/init"
if [[ $(id -u) == 0 ]]; then
    mknod -m 600 "$st/dev/console" c 5 1
fi

for f in "${!files[@]}"; do
    rel=${f#"$kmod"/}
    [[ $rel != "$f" ]] || die "unexpected module path $f"
    mkdir -p "$st/lib/modules/$kver/${rel%/*}"
    case $f in
    *.ko) cp "$f" "$st/lib/modules/$kver/$rel" ;;
    *.ko.xz) xz -dc "$f" >"$st/lib/modules/$kver/${rel%.xz}" ;;
    *.ko.zst) zstd -qdc "$f" >"$st/lib/modules/$kver/${rel%.zst}" ;;
    *.ko.gz) gzip -dc "$f" >"$st/lib/modules/$kver/${rel%.gz}" ;;
    *) die "unknown module file type: $f" ;;
    esac
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
    [[ -f $kmod/$f ]] && cp "$kmod/$f" "$st/lib/modules/$kver/"
done
depmod -b "$st" "$kver" || die "depmod failed"

(cd "$st/lib/modules/$kver" && find kernel -name '*.ko' | sed 's|.*/||; s|\.ko$||' |
    sort) >"$tmp/modules.txt"
if ((${#builtin[@]})); then
    printf '%s\n' "${builtin[@]}" | sort -u | sed 's/^/builtin: /' >>"$tmp/modules.txt"
fi

(cd "$st" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc --owner 0:0 --reproducible) |
    gzip -n -6 >"$tmp/initramfs.cpio.gz"
cp "$vmlinuz" "$tmp/vmlinuz"
extract_vmlinux "$vmlinuz" "$tmp/vmlinux" ||
    printf 'mkinitramfs: warning: cannot unpack vmlinux (PVH boot); using bzImage\n' >&2
printf '%s\n' "$kver" >"$tmp/kver"
rm -rf "$st"
touch "$tmp/.complete"
rm -rf "$out"
chmod 755 "$tmp"
mv "$tmp" "$out"
trap - EXIT
printf '%s\n' "$id" >"$cache/boot/current"

# Drop initramfs builds of older inputs.
for old in "$cache/boot"/*/; do
    old=${old%/}
    [[ $(basename "$old") == "$id" ]] || rm -rf "$old"
done
printf 'mkinitramfs: %s (%s modules)\n' "$out/initramfs.cpio.gz" \
    "$(grep -vc '^builtin:' "$out/modules.txt")" >&2
