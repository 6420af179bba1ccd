#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# mkinitramfs.sh --out FILE.cpio.gz [--module KO] [--script GUEST_SCRIPT]
#                [--bin PATH]... [--file SRC:DST]...
#
# Pack a newc initramfs: busybox-static and its applets, tools/vm/
# guest-init.sh as /init, the module as /pg/promisegrid.ko, the guest
# script as /pg/guest.sh, each --bin in /pg/bin/ with the shared
# libraries it needs (at their host paths), each --file SRC at DST.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=""

die() { echo "mkinitramfs: $*" >&2; exit 1; }

add_busybox() {
	local root=$1 applet
	install -D -m 0755 /bin/busybox "$root/bin/busybox"
	while IFS= read -r applet; do
		mkdir -p "$root/$(dirname "$applet")"
		[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done < <(/bin/busybox --list-full)
}

# Copy an executable and, for a dynamic ELF, its libraries and loader.
add_bin() {
	local root=$1 bin=$2 lib
	[ -f "$bin" ] || die "--bin $bin: no such file"
	install -D -m 0755 "$bin" "$root/pg/bin/$(basename "$bin")"
	while IFS= read -r lib; do
		[ -e "$root$lib" ] || install -D -m 0755 "$lib" "$root$lib"
	done < <(ldd "$bin" 2>/dev/null |
		sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p')
}

add_file() {
	local root=$1 spec=$2 src dst
	src=${spec%%:*}
	dst=${spec#*:}
	if [ "$src" = "$spec" ] || [ -z "$dst" ]; then
		die "--file $spec: want SRC:DST"
	fi
	[ -e "$src" ] || die "--file $spec: no such file"
	mkdir -p "$root/$(dirname "$dst")"
	cp -a "$src" "$root/$dst"
}

main() {
	local out="" module="" script="" bins=() files=() b f
	while [ $# -gt 0 ]; do
		case $1 in
		--out) out=$2; shift 2 ;;
		--module) module=$2; shift 2 ;;
		--script) script=$2; shift 2 ;;
		--bin) bins+=("$2"); shift 2 ;;
		--file) files+=("$2"); shift 2 ;;
		*) die "unknown argument $1" ;;
		esac
	done
	[ -n "$out" ] || die "--out is required"

	root=$(mktemp -d)
	trap 'rm -rf "$root"' EXIT
	mkdir -p "$root"/{dev,proc,sys,tmp,root,pg/bin}
	# mktemp made the root 0700: unprivileged test processes must be
	# able to walk / and use /tmp.
	chmod 0755 "$root"
	chmod 1777 "$root/tmp"
	mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
	add_busybox "$root"
	install -m 0755 "$here/guest-init.sh" "$root/init"
	if [ -n "$module" ]; then
		install -m 0644 "$module" "$root/pg/promisegrid.ko"
	fi
	if [ -n "$script" ]; then
		install -m 0755 "$script" "$root/pg/guest.sh"
	else
		printf '#!/bin/sh\necho "PG-VM: no guest script"\n' \
			>"$root/pg/guest.sh"
	fi
	for b in "${bins[@]}"; do add_bin "$root" "$b"; done
	for f in "${files[@]}"; do add_file "$root" "$f"; done

	(cd "$root" && find . -print0 |
		cpio --null -o -H newc --owner 0:0 --quiet) | gzip -1 >"$out"
}

main "$@"
