#!/usr/bin/env bash
# Install exactly what kipvs needs to build and test on Debian 12, and fetch
# Debian's kernel for the real-kernel VM.  Run as root it installs what is
# missing; run as anyone else it prints the apt-get line to run and stops.
# A second run finds nothing missing and changes nothing.
#
# SPDX-License-Identifier: Apache-2.0
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

# Build: compiler, make, pkg-config and the -dev packages of every library
# the Makefile names.
build_pkgs=(
	build-essential pkg-config
	libcap-ng-dev libseccomp-dev
	libnl-3-dev libnl-genl-3-dev libnl-route-3-dev
	libipset-dev libiptc-dev
	libcurl4-openssl-dev libjansson-dev libevent-dev
	libkmod-dev libyaml-dev libssl-dev
)
# Tests: prove (perl), the reference tools compared against, the VM
# (qemu, a static busybox for its initramfs, cpio, depmod from kmod, xz
# to unpack the kernel for a direct boot),
# valgrind, clang with its sanitizer/fuzzer runtimes, curl for HTTP checks
# on loopback, python3 and openssl for the test apiserver and its
# certificates, man-db (and groff) to check the man pages, systemd for
# systemd-analyze on the unit files, strace to count the applier's
# netlink messages in the VM.
test_pkgs=(
	perl qemu-system-x86 busybox-static cpio kmod xz-utils
	ipvsadm ipset iptables iproute2
	valgrind clang libclang-rt-14-dev
	curl ca-certificates openssl python3 man-db systemd
	strace
	# nghttpx: an HTTP/2 TLS front for the test apiserver (tests/watch/17-h2.t)
	nghttp2-proxy
)
# kubectl for `kubectl apply --dry-run=client` of the DaemonSet manifest
# (tests/build/deploy.t): Debian's kubernetes-client, unless a kubectl is
# already installed (another package's /usr/bin/kubectl would conflict).
command -v kubectl >/dev/null || test_pkgs+=(kubernetes-client)

# KIPVS_DEPS_EXTRA names further packages (tests use it to check the
# missing-package path without uninstalling anything).
# shellcheck disable=SC2206
extra_pkgs=(${KIPVS_DEPS_EXTRA:-})

missing=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}" "${extra_pkgs[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	"install ok installed") ;;
	*) missing+=("$p") ;;
	esac
done

if [ "${#missing[@]}" -gt 0 ]; then
	line="apt-get install -y --no-install-recommends ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "tests/deps.sh: missing packages: ${missing[*]}" >&2
		echo "tests/deps.sh: as root, run:" >&2
		echo "    apt-get update && $line" >&2
		exit 1
	fi
	echo "tests/deps.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Debian's kernel for the VM: downloaded once into the git-ignored cache
# (apt-get download needs no root).
"$here/vm/fetch-kernel.sh"
