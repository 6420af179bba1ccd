#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the Debian packages (tools/deb/build.sh, into a scratch directory)
# and check their contents with dpkg-deb; then build the module from the
# source promisegrid-dkms ships, as DKMS would, against the cached 6.1
# headers (tools/testing/vm/fetch-kernel.sh) and check its MODULE_VERSION. TAP.
set -uo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0 pass=0 fail=0

t() {	# t NAME CMD...: one test
	local name=$1
	shift
	n=$((n + 1))
	if "$@" >"$out/t.log" 2>&1; then
		echo "ok $n - $name"; pass=$((pass + 1))
	else
		echo "not ok $n - $name"; sed 's/^/# /' "$out/t.log"
		fail=$((fail + 1))
	fi
}
# has DEB PATTERN...: dpkg-deb -c lists a path matching each
has() {
	local deb=$1 p
	shift
	dpkg-deb -c "$deb" | awk '{ print $6 }' >"$out/list"
	for p in "$@"; do
		grep -Eq -- "$p" "$out/list" || { echo "no $p in $deb"; return 1; }
	done
}
field() { dpkg-deb -f "$1" "$2"; }
ver=$("$top/tools/build/version.sh" "$top")
deb() { echo "$out/debs/$1_${ver}_$2.deb"; }

echo "TAP version 13"
if ! "$top/tools/deb/build.sh" "$out/debs" >"$out/build" 2>&1; then
	sed 's/^/# /' "$out/build"
	echo "1..1"; echo "not ok 1 - make deb builds the packages"
	echo "0 passed, 1 failed"; exit 1
fi
dkms=$(deb promisegrid-dkms all) lib=$(deb libpromisegrid1 amd64)
dev=$(deb libpromisegrid-dev amd64) tools=$(deb promisegrid-tools amd64)
src=usr/src/promisegrid-$ver
# shellcheck disable=SC2001
src_re=$(sed 's/[.+]/\\&/g' <<<"$src")	# the version has . and +

t "make deb builds the four packages" ls "$dkms" "$lib" "$dev" "$tools"
t "promisegrid-dkms: Architecture all, Section kernel, depends on dkms" \
	sh -c "[ '$(field "$dkms" Architecture)' = all ] &&
	       [ '$(field "$dkms" Section)' = kernel ] &&
	       echo '$(field "$dkms" Depends)' | grep -q 'dkms'"
t "promisegrid-dkms: the module's sources in /usr/src/promisegrid-$ver" \
	has "$dkms" "^\./$src_re/dkms\.conf\$" "^\./$src_re/Kbuild\$" \
	"^\./$src_re/kmod/main\.c\$" "^\./$src_re/kmod/Kbuild\$" \
	"^\./$src_re/common/pg_cbor\.c\$" \
	"^\./$src_re/uapi/linux/promisegrid\.h\$" "^\./$src_re/VERSION\$"
t "promisegrid-dkms: no build outputs" \
	sh -c "! dpkg-deb -c '$dkms' | grep -E '\.(o|ko|cmd|mod)\$'"
mkdir -p "$out/x"
dpkg-deb -R "$dkms" "$out/x/dkms"
t "promisegrid-dkms: dkms.conf names version $ver, no CLEAN or MAKE" \
	sh -c "grep -qx 'PACKAGE_VERSION=\"$ver\"' '$out/x/dkms/$src/dkms.conf' &&
	       ! grep -Eq '^(CLEAN|MAKE)' '$out/x/dkms/$src/dkms.conf'"
t "promisegrid-dkms: udev rule makes /dev/promisegrid root:promisegrid 0660" \
	grep -Eq 'KERNEL=="promisegrid".*GROUP="promisegrid".*MODE="0660"' \
	"$out/x/dkms/usr/lib/udev/rules.d/60-promisegrid.rules"
t "promisegrid-dkms: loaded at boot (modules-load.d)" \
	grep -qx promisegrid "$out/x/dkms/usr/lib/modules-load.d/promisegrid.conf"
t "promisegrid-dkms: postinst creates the group, then runs DKMS" \
	sh -c "grep -n 'addgroup --system' '$out/x/dkms/DEBIAN/postinst' | cut -d: -f1 >'$out/a' &&
	       grep -n 'common.postinst' '$out/x/dkms/DEBIAN/postinst' | head -1 | cut -d: -f1 >'$out/b' &&
	       [ \"\$(cat '$out/a')\" -lt \"\$(cat '$out/b')\" ]"
t "promisegrid-dkms: prerm removes it from DKMS" \
	grep -q 'dkms remove' "$out/x/dkms/DEBIAN/prerm"
t "promisegrid-dkms: postrm removes the group on purge" \
	grep -q 'delgroup --system' "$out/x/dkms/DEBIAN/postrm"
t "libpromisegrid1: the shared library and its shlibs" \
	sh -c "dpkg-deb -c '$lib' | grep -q 'usr/lib/x86_64-linux-gnu/libpromisegrid.so.1\$' &&
	       dpkg-deb --ctrl-tarfile '$lib' | tar -t | grep -q shlibs &&
	       [ '$(field "$lib" Section)' = libs ]"
t "libpromisegrid-dev: header, uapi header, .so, .a, pkg-config file, man page" \
	has "$dev" 'usr/include/libpromisegrid\.h$' \
	'usr/include/libpromisegrid-cbor\.h$' \
	'usr/include/linux/promisegrid\.h$' \
	'usr/lib/x86_64-linux-gnu/libpromisegrid\.so$' \
	'usr/lib/x86_64-linux-gnu/libpromisegrid\.a$' \
	'usr/lib/x86_64-linux-gnu/pkgconfig/libpromisegrid\.pc$' \
	'usr/share/man/man3/libpromisegrid\.3\.gz$'
t "promisegrid-tools: pg, pg-policy, cbor-check and pg(1)" \
	has "$tools" 'usr/bin/pg$' 'usr/bin/pg-policy$' 'usr/bin/cbor-check$' \
	'usr/share/man/man1/pg\.1\.gz$'
# The shipped source builds as DKMS builds it, with the package's version.
abi=$("$top/tools/testing/vm/fetch-kernel.sh" 6.1 2>/dev/null | tail -n 1)
abi=${abi#ABI=}
kdir=${PG_CACHE:-/var/cache/promisegrid}/kernels/$abi/kdir
t "the packaged source builds against $abi with MODULE_VERSION $ver" \
	sh -c "make -s -C '$kdir' M='$out/x/dkms/$src' modules &&
	       [ \"\$(modinfo -F version '$out/x/dkms/$src/kmod/promisegrid.ko')\" = '$ver' ]"
echo "1..$n"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
