#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fetch-kernel.sh [KERNEL]
#
# Download Debian's kernel image and headers for KERNEL, a NAME or an ABI
# of the pinned matrix tools/testing/vm/kernels.list (e.g. "6.1", "6.12-deb13",
# "7.3", "7.3-rt", "6.12.118+deb13-amd64"; default $PG_KERNEL or 6.1), into
# ${PG_CACHE:-/var/cache/promisegrid}/kernels/$ABI/:
#   vmlinuz, config, System.map   the kernel (modules are not extracted)
#   kdir                          the headers tree to build modules against
#   root/                         the extracted headers/common/kbuild debs
#   suite                         the Debian suite it came from
#   build-deps                    packages a build against kdir needs:
#                                 the gcc the headers depend on and the
#                                 kbuild's libraries (build-module.sh
#                                 installs them in the suite's chroot)
# An ABI missing from the matrix is fetched from whichever suite of
# tools/testing/vm/apt.sh has it; a complete cache entry of any other name (the
# debug kernel's) is used as it is. apt runs with the private configuration of
# tools/testing/vm/apt.sh; the host's sources are not used. A complete cache is
# reused without network. Progress goes to stderr; the last line on stdout
# is "ABI=<abi>".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${PG_CACHE:-/var/cache/promisegrid}
LIST=${PG_KERNELS_LIST:-$here/kernels.list}
tmp=""
# An ABI: 6.1.0-57, 6.12.118+deb12, 6.12.115+deb13.1, 7.3 or 7.3.4+deb13,
# then an optional flavour (rt, cloud) and the architecture.
abi_re='^[0-9]+\.[0-9]+(\.[0-9]+)?(-[0-9]+|\+deb[0-9]+(\.[0-9]+)?|\+bpo)?(-[a-z]+)?-amd64$'

die() { echo "fetch-kernel: $*" >&2; exit 1; }
log() { echo "fetch-kernel: $*" >&2; }
apt_() { "$here/apt.sh" "$@"; }

# "ABI SUITE" of a matrix NAME or ABI; empty if the matrix lacks it.
lookup() {
	awk -v k="$1" '!/^#/ && NF >= 3 && ($1 == k || $2 == k) {
		print $2, $3; exit }' "$LIST"
}

names() { awk '!/^#/ && NF >= 3 { printf " %s", $1 }' "$LIST"; }

# Field $2 of package $1's candidate version; empty if apt has none.
pkg_field() {
	apt_ apt-cache show --no-all-versions "$1" 2>/dev/null |
		sed -n "s/^$2: //p" | head -n 1 || true
}

# Point absolute symlinks, include lines and 7.x's KBUILD_OUTPUT line at
# the extracted root.
relocate() {
	local root=$1 abi=$2 link target
	while IFS= read -r link; do
		target=$(readlink "$link")
		ln -sfnr "$root$target" "$link"
	done < <(find "$root" -lname '/*')
	sed -i -e "s|^include /usr/src/|include $root/usr/src/|" \
		-e "s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$root/usr/src/|" \
		"$root/usr/src/linux-headers-$abi/Makefile"
}

# The package names of a Depends field, one a line.
dep_names() { tr ',' '\n' | sed -E 's/^ *//; s/[ (].*//; s/:any$//'; }

# The packages building against linux-headers-$1 needs, one a line:
# make, its gcc-N (or gcc-N-for-host; bookworm's headers from 6.1.192 on
# name it through linux-compiler-gcc-N-x86, whose Depends is gcc-N) and
# its linux-kbuild's Depends.
build_deps() {
	local deps kbuild p
	deps=$(pkg_field "linux-headers-$1" Depends)
	[ -n "$deps" ] || return 0
	kbuild=$(grep -o 'linux-kbuild-[^ ,]*' <<<"$deps" | head -n 1)
	{
		echo make
		grep -oE '(^|[ ,])gcc-[0-9]+(-for-host)?' <<<"$deps" |
			tr -d ' ,' || true
		for p in $(grep -oE 'linux-compiler-[^ ,]*' <<<"$deps" || true); do
			pkg_field "$p" Depends | dep_names
		done
		pkg_field "$kbuild" Depends | dep_names
	} | grep -v '^$' | sort -u
}

# Which of the image packages holds the kernel: from 7.x on the image is
# split into linux-binary (vmlinuz), linux-base (config, System.map) and
# linux-modules, and linux-image-ABI is a meta package; before, the
# -unsigned image has them all.
image_pkgs() {
	local abi=$1
	if [ -n "$(pkg_field "linux-binary-$abi" Version)" ]; then
		echo "linux-binary-$abi linux-base-$abi"
	else
		echo "linux-image-$abi-unsigned"
	fi
}

fetch() {
	local abi=$1 suite=$2 name=$3 dir=$4 ver deps common kbuild deb pkgs p
	ver=$(pkg_field "linux-headers-$abi" Version)
	if [ -z "$ver" ]; then
		apt_ update
		ver=$(pkg_field "linux-headers-$abi" Version)
	fi
	if [ -z "$ver" ]; then
		echo "fetch-kernel: the archive no longer has linux-headers-$abi" \
		     "(kernel '$name', suite $suite)." >&2
		echo "  Edit its line in $LIST to an ABI the archive has:" >&2
		apt_ apt-cache search --names-only \
			"^linux-headers-$(grep -oE '^[0-9]+\.[0-9]+' <<<"$abi" |
				sed 's/\./\\./')\\..*-amd64\$" 2>/dev/null |
			awk '{ print "    " substr($1, 15) }' | sort -V | tail -n 6 >&2 || true
		exit 1
	fi
	deps=$(pkg_field "linux-headers-$abi" Depends)
	common=$(grep -o 'linux-headers-[^ ,]*-common[^ ,]*' <<<"$deps" | head -n 1)
	kbuild=$(grep -o 'linux-kbuild-[^ ,]*' <<<"$deps" | head -n 1)
	if [ -z "$common" ] || [ -z "$kbuild" ]; then
		die "cannot parse Depends of linux-headers-$abi: $deps"
	fi
	pkgs=()
	for p in $(image_pkgs "$abi") "linux-headers-$abi" "$common" "$kbuild"; do
		pkgs+=("$p=$ver")
	done

	tmp=$(mktemp -d "$CACHE/kernels/.dl.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	chmod 777 "$tmp"	# apt's _apt user downloads into it
	log "downloading $abi ($ver, $suite)"
	(cd "$tmp" && apt_ apt-get download -q=2 "${pkgs[@]}") >&2 ||
		die "apt-get download ${pkgs[*]} failed"

	mkdir -p "$tmp/out/root" "$tmp/out/boot"
	for deb in "$tmp"/*.deb; do
		case ${deb##*/} in
		linux-image-*|linux-binary-*|linux-base-*)
			dpkg-deb -x "$deb" "$tmp/img" ;;
		*)	dpkg-deb -x "$deb" "$tmp/out/root" ;;
		esac
	done
	for p in vmlinuz config System.map; do
		if [ -f "$tmp/img/boot/$p-$abi" ]; then
			mv "$tmp/img/boot/$p-$abi" "$tmp/out/boot/"
		elif [ -f "$tmp/img/usr/lib/modules/$abi/$p" ]; then
			mv "$tmp/img/usr/lib/modules/$abi/$p" "$tmp/out/boot/$p-$abi"
		fi
	done
	rm -rf "$dir"
	mv "$tmp/out" "$dir"
	relocate "$dir/root" "$abi"
	ln -sfn "boot/vmlinuz-$abi" "$dir/vmlinuz"
	ln -sfn "boot/config-$abi" "$dir/config"
	ln -sfn "boot/System.map-$abi" "$dir/System.map"
	ln -sfn "root/usr/src/linux-headers-$abi" "$dir/kdir"
	if [ ! -f "$dir/vmlinuz" ] || [ ! -f "$dir/config" ] ||
	   [ ! -f "$dir/kdir/Makefile" ]; then
		die "extraction of $abi incomplete"
	fi
	echo "$suite" >"$dir/suite"
	build_deps "$abi" >"$dir/build-deps"
	echo "$ver" >"$dir/.complete"
	rm -rf "$tmp"
	trap - EXIT
	log "cached $abi in $dir ($(du -sh "$dir" | cut -f1))"
}

main() {
	local kernel=${1:-${PG_KERNEL:-6.1}} abi suite name dir line
	line=$(lookup "$kernel")
	if [ -n "$line" ]; then
		read -r abi suite <<<"$line"
		name=$kernel
	elif [ -f "$CACHE/kernels/$kernel/.complete" ]; then
		# Cached but not pinned (e.g. tools/testing/debug-kernel's own build).
		echo "ABI=$kernel"
		return
	elif [[ $kernel =~ $abi_re ]]; then
		abi=$kernel name=$kernel
		# Not pinned: the suite whose archive has it.
		suite=$(apt_ apt-cache madison "linux-headers-$abi" 2>/dev/null |
			awk -F'|' '{ split($3, a, " "); sub(/\/.*/, "", a[2]);
				print a[2]; exit }' || true)
		[ -n "$suite" ] || [ -f "$CACHE/kernels/$abi/.complete" ] ||
			die "no linux-headers-$abi in the suites of $LIST"
		log "$abi is not in $LIST (suite ${suite:-cached})"
	else
		die "unknown kernel '$kernel': $LIST names$(names) (or give an ABI)"
	fi
	dir=$CACHE/kernels/$abi
	mkdir -p "$CACHE/kernels"
	exec 9>"$CACHE/kernels/.$abi.lock"
	flock 9
	if [ ! -f "$dir/.complete" ]; then
		fetch "$abi" "$suite" "$name" "$dir"
	elif [ ! -f "$dir/suite" ] && [ -n "$suite" ]; then
		echo "$suite" >"$dir/suite"	# cached before the matrix
	fi
	if [ ! -s "$dir/build-deps" ]; then
		build_deps "$abi" >"$dir/build-deps.new" &&
			mv "$dir/build-deps.new" "$dir/build-deps"
	fi
	echo "ABI=$abi"
}

main "$@"
