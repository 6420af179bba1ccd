#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-module.sh [ABI]
#
# Build the module against the cached Debian headers for ABI (default:
# what fetch-kernel.sh resolves for $PG_KERNEL, i.e. 6.1). The source is
# the repo root (its Kbuild has obj-m += kmod/) or $PG_MODULE_SRC.
# The last line on stdout is "KO=<path of promisegrid.ko>".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$here/../.." && pwd)
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

main() {
	local abi=${1:-} src=${PG_MODULE_SRC:-$REPO} kdir cc ko
	if [ -z "$abi" ]; then
		abi=$("$here/fetch-kernel.sh" | tail -n 1)
		abi=${abi#ABI=}
	fi
	kdir=$CACHE/kernels/$abi/kdir
	[ -f "$kdir/Makefile" ] || die "no headers at $kdir (fetch-kernel.sh)"
	cc=$(kernel_cc "$kdir")
	src=$(cd "$src" && pwd)
	make -s -C "$kdir" M="$src" CC="$cc" -j"$(nproc)" modules >&2
	if [ -f "$src/kmod/promisegrid.ko" ]; then
		ko=$src/kmod/promisegrid.ko
	elif [ -f "$src/promisegrid.ko" ]; then
		ko=$src/promisegrid.ko
	else
		die "build produced no promisegrid.ko under $src"
	fi
	# Module BTF on top of the kernel's, for bpftool and fentry tracing.
	if grep -q '^CONFIG_DEBUG_INFO_BTF_MODULES=y' "$kdir/.config"; then
		local btf=$CACHE/kernels/$abi/vmlinux.btf
		[ -s "$btf" ] || "$here/extract-btf.sh" "$CACHE/kernels/$abi/vmlinuz" "$btf" ||
			echo "build-module: warning: no kernel BTF, module BTF skipped" >&2
		[ ! -s "$btf" ] || "$here/../module-btf.sh" "$ko" "$btf" ||
			echo "build-module: warning: module BTF not generated" >&2
	fi
	# Refuse a stale .ko left by a build against another kernel.
	modinfo -F vermagic "$ko" | grep -q "^$abi " ||
		die "$ko is not built for $abi: $(modinfo -F vermagic "$ko")"
	echo "KO=$ko"
}

main "$@"
