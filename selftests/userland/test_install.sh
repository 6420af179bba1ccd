#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Description: libpromisegrid installs with PREFIX and DESTDIR, and a
# program outside the repository builds against it through pkg-config,
# shared and static, and runs (no module needed: it only encodes and
# checks frames). TAP; ends with "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 pass=0 fail=0

t() {	# t NAME CMD...
	n=$((n + 1))
	if "${@:2}" >"$tmp/log" 2>&1; then
		echo "ok $n - $1"
		pass=$((pass + 1))
	else
		sed 's/^/# /' "$tmp/log"
		echo "not ok $n - $1"
		fail=$((fail + 1))
	fi
}

install_prefix() {
	make -s -C "$top/userland/lib" install PREFIX="$tmp/prefix" &&
	make -s -C "$top/userland/pg" install PREFIX="$tmp/prefix"
}

staged() {	# DESTDIR puts the files under it, paths as for PREFIX
	make -s -C "$top/userland/lib" install PREFIX=/usr DESTDIR="$tmp/stage" &&
	for f in lib/libpromisegrid.so.1 lib/libpromisegrid.a \
		lib/pkgconfig/libpromisegrid.pc include/libpromisegrid.h \
		include/libpromisegrid-cbor.h \
		include/linux/promisegrid.h share/man/man3/libpromisegrid.3; do
		[ -e "$tmp/stage/usr/$f" ] || { echo "missing /usr/$f"; return 1; }
	done &&
	grep -qx 'prefix=/usr' "$tmp/stage/usr/lib/pkgconfig/libpromisegrid.pc"
}

# A program of a user's, in a directory of its own.
write_program() {
	mkdir -p "$tmp/user"
	cat >"$tmp/user/prog.c" <<'PROG'
#include <stdio.h>
#include <libpromisegrid-cbor.h>

int main(void)
{
	cbor_item_t *slot = cbor_build_string("hello");
	struct pg_buf frame = { 0 };
	char s[PG_CID_STR_MAX];
	struct pg_cid c;

	pg_cid_of("a spec", 6, &c);
	pg_cid_format(&c, s, sizeof(s));
	if (pg_frame_encode(&frame, &c, &slot, 1) ||
	    pg_frame_check(frame.p, frame.len))
		return 1;
	printf("%s %zu\n", s, frame.len);
	cbor_decref(&slot);
	pg_buf_free(&frame);
	return 0;
}
PROG
}

build_shared() {
	export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
	cd "$tmp/user" &&
	cc -o prog prog.c $(pkg-config --cflags --libs libpromisegrid) &&
	LD_LIBRARY_PATH="$tmp/prefix/lib" ./prog | grep -q '^bafkrei.* 53$' &&
	LD_LIBRARY_PATH="$tmp/prefix/lib" ldd ./prog | grep -q "$tmp/prefix/lib/libpromisegrid.so.1"
}

build_static() {
	export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
	cd "$tmp/user" &&
	cc -static-libgcc -o prog-static prog.c "$tmp/prefix/lib/libpromisegrid.a" \
		$(pkg-config --cflags --libs --static libpromisegrid | sed 's/-lpromisegrid//') &&
	./prog-static | grep -q '^bafkrei'
}

only_pg_symbols() {	# the ABI is pg_* only, versioned
	nm -D --defined-only "$tmp/prefix/lib/libpromisegrid.so.1" |
		awk '$2 != "A" { print $3 }' >"$tmp/syms" &&
	! grep -v '^pg_.*@@LIBPROMISEGRID_1\(\.[0-9]*\)\?$' "$tmp/syms"
}

# The map names every PG_EXPORT and nothing else; the static library's
# global symbols are the same set (the shared validator stays inside).
exports_are_the_map() {
	grep -ho 'PG_EXPORT [^(=]*' "$top"/userland/lib/*.c |
		sed 's/ *$//; s/.*[ *]//' | sort -u >"$tmp/exported" &&
	sed -n 's/^\t\t\(pg_[a-z0-9_]*\);$/\1/p' \
		"$top/userland/lib/libpromisegrid.map" | sort >"$tmp/map" &&
	diff "$tmp/exported" "$tmp/map" &&
	sed 's/@@.*//' "$tmp/syms" | sort >"$tmp/so" &&
	diff "$tmp/map" "$tmp/so" &&
	nm -g --defined-only "$tmp/prefix/lib/libpromisegrid.a" |
		awk 'NF == 3 { print $3 }' | sort >"$tmp/a" &&
	diff "$tmp/map" "$tmp/a"
}

# <libpromisegrid.h> alone does not pull in libcbor's headers.
bytes_header_without_libcbor() {
	echo '#include <libpromisegrid.h>' |
		cc -E -H -I"$tmp/prefix/include" -x c - -o /dev/null 2>"$tmp/inc" &&
	! grep 'cbor' "$tmp/inc"
}

# One version: the pkg-config file's is tools/version.sh's, which
# MODULE_VERSION, DKMS and the packages also take.
one_version() {
	PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" \
		pkg-config --modversion libpromisegrid >"$tmp/v" &&
	"$top/tools/version.sh" "$top" | diff - "$tmp/v"
}

installed_pg() {
	"$tmp/prefix/bin/pg" cid "$top/docs/protocols/example-hello-v1.md" |
		grep -qx "$("$top/tools/pg-cid" "$top/docs/protocols/example-hello-v1.md" | head -1)" &&
	man -l "$tmp/prefix/share/man/man1/pg.1" >/dev/null 2>&1
}

echo "TAP version 13"
echo "1..9"
t "make install PREFIX= installs the library, header, pkg-config file, pg" install_prefix
t "make install DESTDIR= stages the same files" staged
write_program
t "a program outside the repo links the shared library via pkg-config" build_shared
t "and the static library" build_static
t "the shared library exports only versioned pg_* symbols" only_pg_symbols
t "the map lists every PG_EXPORT; the .a and .so export exactly those" exports_are_the_map
t "<libpromisegrid.h> compiles without libcbor's headers" bytes_header_without_libcbor
t "the installed pg works and has its man page" installed_pg
t "the pkg-config version is the release's (tools/version.sh)" one_version
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
