#!/usr/bin/env bash
# Fetch Debian's stock amd64 kernel (the package linux-image-amd64 points at)
# into the VM cache and unpack it there, without installing it.
#
#   tests/vm/fetch-kernel.sh            # idempotent; silent when up to date
#
# Environment:
#   KIPVS_CACHE       cache directory (default: <repo>/.cache/vm)
#   KIPVS_KERNEL_DEB  use this local linux-image-*.deb instead of apt
#
# Result: $KIPVS_CACHE/kernel/<package>_<version>/ holds the unpacked package
# (boot/vmlinuz-*, lib/modules/<kver>/ with a modules.dep made by depmod), and
# $KIPVS_CACHE/kernel/current names that directory.
set -euo pipefail

PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${KIPVS_CACHE:-$repo/.cache/vm}
kdir=$cache/kernel

die() { printf 'fetch-kernel: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'fetch-kernel: %s\n' "$*" >&2; }

for tool in dpkg-deb depmod flock; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' not found (install: dpkg, kmod, util-linux)"
done

mkdir -p "$kdir"
exec 9>"$kdir/.lock"
flock 9

current_ok() {
    local name
    [[ -f $kdir/current ]] || return 1
    name=$(<"$kdir/current")
    [[ -n $name && -f $kdir/$name/.complete ]]
}

# Decide which package/version we want, and where it comes from.
deb=${KIPVS_KERNEL_DEB:-}
if [[ -n $deb ]]; then
    [[ -f $deb ]] || die "KIPVS_KERNEL_DEB=$deb: no such file"
    pkg=$(dpkg-deb -f "$deb" Package) || die "$deb: not a .deb"
    ver=$(dpkg-deb -f "$deb" Version)
else
    command -v apt-cache >/dev/null 2>&1 || {
        current_ok && exit 0
        die "apt-cache not found and no kernel cached in $kdir"
    }
    # "Depends: linux-image-6.1.0-NN-amd64 (= 6.1.x-y)"
    info=$(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null) || true
    pkg=
    re='^Depends:.*(linux-image-[0-9][^ ,|]*)'
    while IFS= read -r line; do
        if [[ $line =~ $re ]]; then pkg=${BASH_REMATCH[1]}; break; fi
    done <<<"$info"
    if [[ -z $pkg ]]; then
        # Offline or no package lists: an already unpacked kernel will do.
        current_ok && exit 0
        die "cannot resolve linux-image-amd64 with apt-cache (no Debian" \
            "package lists? run 'apt-get update' first)"
    fi
    info=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null) || true
    ver=
    while IFS= read -r line; do
        if [[ $line == Version:\ * ]]; then ver=${line#Version: }; break; fi
    done <<<"$info"
    [[ -n $ver ]] || die "apt-cache knows no version of $pkg (run 'apt-get update')"
fi

name=${pkg}_${ver//:/%3a}
dest=$kdir/$name
if [[ -f $dest/.complete ]]; then
    [[ -f $kdir/current && $(<"$kdir/current") == "$name" ]] ||
        printf '%s\n' "$name" >"$kdir/current"
    exit 0
fi

tmp=$(mktemp -d "$kdir/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [[ -z $deb ]]; then
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found"
    note "downloading $pkg=$ver with apt-get"
    # apt drops privileges to _apt for downloading; let it write here.
    if [[ $(id -u) == 0 ]] && id _apt >/dev/null 2>&1; then
        chown _apt "$tmp"
    fi
    (cd "$tmp" && apt-get -q download "$pkg=$ver") >&2 ||
        die "apt-get download $pkg=$ver failed (network? 'apt-get update'?)"
    shopt -s nullglob
    debs=("$tmp"/*.deb)
    shopt -u nullglob
    [[ ${#debs[@]} == 1 ]] || die "apt-get download produced no .deb"
    deb=${debs[0]}
fi

note "unpacking $(basename "$deb")"
dpkg-deb -x "$deb" "$tmp/root" || die "dpkg-deb -x $deb failed"

shopt -s nullglob
vmlinuz=("$tmp"/root/boot/vmlinuz-*)
mods=("$tmp"/root/lib/modules/*/)
shopt -u nullglob
[[ ${#vmlinuz[@]} == 1 && ${#mods[@]} == 1 ]] ||
    die "$pkg does not look like a kernel image package (no boot/vmlinuz-*" \
        "and lib/modules/<version>)"
kver=$(basename "${mods[0]}")
[[ ${vmlinuz[0]} == */vmlinuz-$kver ]] ||
    die "kernel image and module directory versions differ"

# The package has no modules.dep (its postinst makes one); make it here.
depmod -b "$tmp/root" "$kver" || die "depmod failed for $kver"

printf '%s\n' "$kver" >"$tmp/root/KVER"
touch "$tmp/root/.complete"
rm -rf "$dest"
mv "$tmp/root" "$dest"
printf '%s\n' "$name" >"$kdir/current"

# Drop older unpacked kernels (about 400 MB each).
for old in "$kdir"/*/; do
    old=${old%/}
    [[ $(basename "$old") == "$name" ]] || rm -rf "$old"
done
note "kernel $kver ready in $dest"
