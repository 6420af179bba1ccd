#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# mkinitramfs.sh --out FILE.cpio.gz [--module KO] [--script GUEST_SCRIPT]
#                [--bin PATH]... [--file SRC:DST]... [--python SCRIPT]...
#
# Pack a newc initramfs: busybox-static and its applets, tools/testing/vm/
# guest-init.sh as /init, the module as /pg/promisegrid.ko, the guest
# script as /pg/guest.sh, each --bin in /pg/bin/ with the shared
# libraries it needs (at their host paths), each --file SRC at DST.
# --python SCRIPT (repeatable) adds Debian's /usr/bin/python3 and just
# the standard-library files the SCRIPTs import, found by importing them
# on the host (their top level runs, not their __main__ part); ship the
# scripts themselves with --file. Imports inside functions are not seen:
# name such a module instead of a file (--python shutil) to add it.
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

# Copy the shared libraries and loader of a dynamic ELF, at their paths.
add_libs() {
	local root=$1 elf=$2 lib
	while IFS= read -r lib; do
		[ -e "$root$lib" ] || install -D -m 0755 "$lib" "$root$lib"
	done < <(ldd "$elf" 2>/dev/null |
		sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p')
}

# Copy an executable and, for a dynamic ELF, its libraries and loader.
add_bin() {
	local root=$1 bin=$2
	[ -f "$bin" ] || die "--bin $bin: no such file"
	install -D -m 0755 "$bin" "$root/pg/bin/$(basename "$bin")"
	add_libs "$root" "$bin"
}

# Prints the standard-library files (modules, their .pyc, extension .so)
# that importing the scripts (or modules) in argv loads. Run with -S and no
# environment, as in the guest: no site-packages, no PYTHON* variables.
# site and the codecs are imported so that python3 without -S starts too.
# _hashlib is left out: it needs libcrypto (2 MB packed), and hashlib
# falls back on the interpreter's built-in sha256 and friends.
py_files='
import importlib, importlib.util, os, runpy, sys
import site, encodings.ascii, encodings.latin_1, encodings.utf_8
stdlib = os.path.dirname(os.__file__)
for script in sys.argv[1:]:
    if not os.path.isfile(script):
        importlib.import_module(script)
        continue
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="pg_mkinitramfs")
files = set()
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None) or ""
    if path.startswith(stdlib + "/") and module.__name__ != "_hashlib":
        files.add(path)
        if path.endswith(".py"):
            files.add(importlib.util.cache_from_source(path))
print("\n".join(sorted(f for f in files if os.path.isfile(f))))
'

# Debian's python3 at /usr/bin/python3 with what the scripts import.
add_python() {
	local root=$1 py file stdlib
	shift
	py=$(readlink -f /usr/bin/python3)
	[ -x "$py" ] || die "--python: no /usr/bin/python3 (apt install python3)"
	install -D -m 0755 "$py" "$root$py"
	[ "$py" = /usr/bin/python3 ] ||
		ln -sf "$(basename "$py")" "$root/usr/bin/python3"
	add_libs "$root" "$py"
	stdlib=$(env -i "$py" -S -c 'import os; print(os.path.dirname(os.__file__))')
	# getpath's landmark for the extension modules' directory.
	mkdir -p "$root$stdlib/lib-dynload"
	env -i "$py" -S -B -c "$py_files" "$@" >"$root/.pyfiles" ||
		die "--python: importing $* failed"
	while IFS= read -r file; do
		install -D -p -m 0644 "$file" "$root$file"
		case $file in
		*.so) chmod 0755 "$root$file"; add_libs "$root" "$file" ;;
		esac
	done <"$root/.pyfiles"
	rm -f "$root/.pyfiles"
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
	local out="" module="" script="" bins=() files=() pys=() b f
	while [ $# -gt 0 ]; do
		case $1 in
		--out) out=$2; shift 2 ;;
		--module) module=$2; shift 2 ;;
		--script) script=$2; shift 2 ;;
		--bin) bins+=("$2"); shift 2 ;;
		--file) files+=("$2"); shift 2 ;;
		--python) pys+=("$2"); shift 2 ;;
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
	[ ${#pys[@]} -eq 0 ] || add_python "$root" "${pys[@]}"

	(cd "$root" && find . -print0 |
		cpio --null -o -H newc --owner 0:0 --quiet) | gzip -1 >"$out"
}

main "$@"
