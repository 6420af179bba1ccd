#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-module.sh [ABI]
#
# Build the module against the cached Debian headers for ABI (default:
# what fetch-kernel.sh resolves for $PG_KERNEL, i.e. 6.1). The source is
# the repo root (its Kbuild has obj-m += kmod/) or $PG_MODULE_SRC.
# A kernel of another Debian release than the host's (trixie's 6.12 and
# 7.x on a bookworm host: gcc-14 or newer, a kbuild needing a newer libc)
# is built inside a minbase chroot of its release (tools/testing/vm/chroot.sh)
# with the packages fetch-kernel.sh listed in build-deps; the headers and
# the source are bind-mounted at their own paths.
# The last line on stdout is "KO=<path of promisegrid.ko>".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../../.." && pwd)
CACHE=${PG_CACHE:-/var/cache/promisegrid}

die() { echo "build-module: $*" >&2; exit 1; }

# The compiler the kernel was built with, e.g. gcc-12, if it is installed.
kernel_cc() {
	local cc
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' \
		"$1/.config")
	if [ -n "$cc" ] && command -v "$cc" >/dev/null; then
		echo "$cc"
	else
		echo "build-module: warning: kernel built with '$cc'," \
		     "using gcc" >&2
		echo gcc
	fi
}

# The Debian release whose chroot builds for ABI; empty: the host builds.
build_release() {
	local suite host
	suite=$(cat "$CACHE/kernels/$1/suite" 2>/dev/null || true)
	suite=${suite%%-*}
	# shellcheck disable=SC1091
	host=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -z "$suite" ] || [ "$suite" = "$host" ] || echo "$suite"
}

# The module's BTF: Kbuild adds it when the headers ship vmlinux (Debian
# 13 on); otherwise pahole encodes it on top of the kernel's BTF taken
# from the image.
add_btf() {
	local abi=$1 ko=$2 kdir=$3 btf=$CACHE/kernels/$1/vmlinux.btf
	grep -q '^CONFIG_DEBUG_INFO_BTF_MODULES=y' "$kdir/.config" || return 0
	# grep reads all of readelf's output: no SIGPIPE under pipefail
	if readelf -S "$ko" | grep -c '\.BTF' >/dev/null; then
		return 0
	fi
	[ -s "$btf" ] || "$here/extract-btf.sh" "$CACHE/kernels/$abi/vmlinuz" "$btf" ||
		echo "build-module: warning: no kernel BTF, module BTF skipped" >&2
	[ ! -s "$btf" ] || "$here/../../build/module-btf.sh" "$ko" "$btf" ||
		echo "build-module: warning: module BTF not generated" >&2
}

main() {
	local abi=${1:-} src=${PG_MODULE_SRC:-$REPO} kdir cc ko rel
	if [ -z "$abi" ]; then
		abi=$("$here/fetch-kernel.sh" | tail -n 1)
		abi=${abi#ABI=}
	fi
	kdir=$CACHE/kernels/$abi/kdir
	[ -f "$kdir/Makefile" ] || die "no headers at $kdir (fetch-kernel.sh)"
	src=$(cd "$src" && pwd -P)
	rel=$(build_release "$abi")
	if [ -n "$rel" ]; then
		cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' \
			"$kdir/.config")
		# shellcheck disable=SC2046  # one package a line
		"$here/chroot.sh" ensure "$rel" \
			$(cat "$CACHE/kernels/$abi/build-deps" 2>/dev/null)
		echo "build-module: building for $abi in the $rel chroot ($cc)" >&2
		"$here/chroot.sh" run "$rel" "$src" "$CACHE/kernels/$abi" -- \
			make -s -C "$(cd "$kdir" && pwd -P)" M="$src" CC="$cc" \
			-j"$(nproc)" modules >&2
	else
		cc=$(kernel_cc "$kdir")
		make -s -C "$kdir" M="$src" CC="$cc" -j"$(nproc)" modules >&2
	fi
	if [ -f "$src/kmod/promisegrid.ko" ]; then
		ko=$src/kmod/promisegrid.ko
	elif [ -f "$src/promisegrid.ko" ]; then
		ko=$src/promisegrid.ko
	else
		die "build produced no promisegrid.ko under $src"
	fi
	add_btf "$abi" "$ko" "$kdir"
	# Refuse a stale .ko left by a build against another kernel.
	modinfo -F vermagic "$ko" | grep -q "^$abi " ||
		die "$ko is not built for $abi: $(modinfo -F vermagic "$ko")"
	echo "KO=$ko"
}

main "$@"
