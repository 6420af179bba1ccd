#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fetch-kernel.sh [VERSION]
#
# Download Debian's kernel image and headers for VERSION (a series such as
# "6.1" or "6.12", or a Debian ABI name such as "6.1.0-56-amd64" or
# "6.12.117+deb12-amd64"; default $PG_KERNEL
# or 6.1) into ${PG_CACHE:-/var/cache/promisegrid}/kernels/$ABI/:
#   vmlinuz, config, System.map   the kernel (modules are not extracted)
#   kdir                          the headers tree to build modules against
#   root/                         the extracted headers/common/kbuild debs
# A complete cache is reused without network. Progress goes to stderr; the
# last line on stdout is "ABI=<abi>".
set -euo pipefail

CACHE=${PG_CACHE:-/var/cache/promisegrid}
tmp=""
# What follows the version in an ABI: -56 (bookworm), +deb12, +bpo.
abi_tail='(-[0-9]+|\+deb[0-9]+|\+bpo)-amd64'

die() { echo "fetch-kernel: $*" >&2; exit 1; }
log() { echo "fetch-kernel: $*" >&2; }

# Newest ABI of a series ("6.1") that apt knows about; else one cached.
resolve_abi() {
	local series=$1 re abi
	re="^linux-headers-${series//./\\.}\\.[0-9.]+$abi_tail\$"
	abi=$(apt-cache search --names-only "$re" 2>/dev/null |
		awk '{ sub(/^linux-headers-/, "", $1); print $1 }' |
		sort -V | tail -n 1)
	if [ -z "$abi" ]; then
		abi=$(find "$CACHE/kernels" -mindepth 2 -maxdepth 2 \
			-name .complete -path "*/$series.*-amd64/*" \
			-printf '%h\n' 2>/dev/null | sed 's|.*/||' |
			sort -V | tail -n 1)
		[ -n "$abi" ] && log "apt has no $series kernel; using cached $abi"
	fi
	if [ -z "$abi" ]; then
		echo "fetch-kernel: apt knows no linux-headers-$series.*-amd64." >&2
		echo "  Run 'apt-get update'; for a series newer than bookworm's" \
		     "6.1 (e.g. 6.12) add bookworm-backports first:" >&2
		echo "  echo 'deb http://deb.debian.org/debian bookworm-backports" \
		     "main' >/etc/apt/sources.list.d/backports.list" >&2
		exit 1
	fi
	echo "$abi"
}

# Field $2 of package $1's candidate version (apt-cache show).
pkg_field() {
	apt-cache show --no-all-versions "$1" 2>/dev/null |
		sed -n "s/^$2: //p" | head -n 1
}

# Point absolute symlinks and include lines at the extracted root.
relocate() {
	local root=$1 abi=$2 link target
	while IFS= read -r link; do
		target=$(readlink "$link")
		ln -sfnr "$root$target" "$link"
	done < <(find "$root" -lname '/*')
	sed -i "s|^include /usr/src/|include $root/usr/src/|" \
		"$root/usr/src/linux-headers-$abi/Makefile"
}

fetch() {
	local abi=$1 dir=$2 ver deps common kbuild deb
	ver=$(pkg_field "linux-headers-$abi" Version)
	[ -n "$ver" ] || die "apt has no linux-headers-$abi (apt-get update?)"
	deps=$(pkg_field "linux-headers-$abi" Depends)
	common=$(grep -o 'linux-headers-[^ ,]*-common' <<<"$deps" | head -n 1)
	kbuild=$(grep -o 'linux-kbuild-[^ ,]*' <<<"$deps" | head -n 1)
	if [ -z "$common" ] || [ -z "$kbuild" ]; then
		die "cannot parse Depends of linux-headers-$abi: $deps"
	fi

	tmp=$(mktemp -d "$CACHE/kernels/.dl.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	chmod 777 "$tmp"	# apt's _apt user downloads into it
	log "downloading $abi ($ver)"
	(cd "$tmp" && apt-get download -q=2 \
		"linux-image-$abi-unsigned=$ver" "linux-headers-$abi=$ver" \
		"$common=$ver") >&2
	(cd "$tmp" && { apt-get download -q=2 "$kbuild=$ver" ||
		apt-get download -q=2 "$kbuild"; }) >&2

	mkdir -p "$tmp/out/root"
	for deb in "$tmp"/*.deb; do
		case $deb in
		*/linux-image-*)
			dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/out" \
				--wildcards './boot/vmlinuz-*' './boot/config-*' \
				'./boot/System.map-*' ;;
		*)	dpkg-deb -x "$deb" "$tmp/out/root" ;;
		esac
	done
	rm -rf "$dir"
	mv "$tmp/out" "$dir"
	relocate "$dir/root" "$abi"
	ln -sfn "boot/vmlinuz-$abi" "$dir/vmlinuz"
	ln -sfn "boot/config-$abi" "$dir/config"
	ln -sfn "boot/System.map-$abi" "$dir/System.map"
	ln -sfn "root/usr/src/linux-headers-$abi" "$dir/kdir"
	if [ ! -f "$dir/vmlinuz" ] || [ ! -f "$dir/kdir/Makefile" ]; then
		die "extraction of $abi incomplete"
	fi
	echo "$ver" >"$dir/.complete"
	rm -rf "$tmp"
	trap - EXIT
	log "cached $abi in $dir ($(du -sh "$dir" | cut -f1))"
}

main() {
	local version=${1:-${PG_KERNEL:-6.1}} abi dir
	if [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$abi_tail$ ]]; then
		abi=$version
	elif [[ $version =~ ^[0-9]+\.[0-9]+$ ]]; then
		abi=$(resolve_abi "$version")
	else
		die "bad version '$version' (want e.g. 6.1 or 6.1.0-56-amd64)"
	fi
	dir=$CACHE/kernels/$abi
	mkdir -p "$CACHE/kernels"
	exec 9>"$CACHE/kernels/.$abi.lock"
	flock 9
	[ -f "$dir/.complete" ] || fetch "$abi" "$dir"
	echo "ABI=$abi"
}

main "$@"
