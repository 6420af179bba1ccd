#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fetch-netmod.sh ABI
#
# The guest's network driver for run.sh --net: Debian's kernels build
# e1000 (QEMU's default NIC model) as a module, and fetch-kernel.sh does
# not extract modules. This downloads the kernel's image package once
# (tools/testing/vm/apt.sh, the private configuration), keeps only e1000.ko
# (decompressed if the package has it as .ko.xz or .ko.zst) in
# ${PG_CACHE:-/var/cache/promisegrid}/kernels/$ABI/net/ and prints its
# path as the last stdout line: "NETKO=<path>".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${PG_CACHE:-/var/cache/promisegrid}
abi=${1:?usage: fetch-netmod.sh ABI}
dir=$CACHE/kernels/$abi
out=$dir/net/e1000.ko
tmp=""

die() { echo "fetch-netmod: $*" >&2; exit 1; }

[ -f "$dir/.complete" ] || die "kernel $abi is not cached (fetch-kernel.sh)"
exec 9>"$CACHE/kernels/.$abi.net.lock"
flock 9
if [ ! -f "$out" ]; then
	ver=$(cat "$dir/.complete")
	# From 7.x on the modules are in linux-modules-ABI; before, in the
	# -unsigned image.
	pkg=linux-image-$abi-unsigned
	if "$here/apt.sh" apt-cache show "linux-modules-$abi" >/dev/null 2>&1; then
		pkg=linux-modules-$abi
	fi
	tmp=$(mktemp -d "$CACHE/kernels/.net.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	chmod 777 "$tmp"	# apt's _apt user downloads into it
	echo "fetch-netmod: downloading $pkg=$ver for e1000.ko" >&2
	(cd "$tmp" && "$here/apt.sh" apt-get download -q=2 "$pkg=$ver") >&2 ||
		die "apt-get download $pkg=$ver failed"
	dpkg-deb --fsys-tarfile "$tmp"/*.deb |
		tar -x -C "$tmp" --wildcards '*/e1000/e1000.ko*'
	ko=$(find "$tmp" -name 'e1000.ko*' | head -n 1)
	[ -n "$ko" ] || die "no e1000.ko in $pkg"
	mkdir -p "$dir/net"
	case $ko in
	*.xz) xz -dc "$ko" >"$tmp/e1000.ko" ;;
	*.zst) zstd -qdc "$ko" >"$tmp/e1000.ko" ;;
	*) cp "$ko" "$tmp/e1000.ko" ;;
	esac
	mv "$tmp/e1000.ko" "$out"
fi
echo "NETKO=$out"
