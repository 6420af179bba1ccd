#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make deb: build the Debian packages from the tree, offline, with
# dpkg-buildpackage: promisegrid-dkms (the module's source, built by DKMS
# through dh-dkms; the udev rule, the group, modules-load.d),
# libpromisegrid1, libpromisegrid-dev and promisegrid-tools (pg,
# pg-policy, cbor-check).
#
# The packaging lives in tools/deb/debian; this script copies the tree's
# tracked files into OUT/promisegrid-VERSION (default OUT: build/deb),
# adds debian/ with a changelog for VERSION (tools/build/version.sh) and the
# dkms.conf taken from the tree's, and builds the binary packages there.
# The .debs land in OUT. Installs its build dependencies with apt.
#
# PG_DEB_RELEASE=trixie (or another Debian release than the host's)
# builds them inside that release's minbase chroot (tools/testing/vm/chroot.sh),
# so the library and the tools link against its libraries (libcbor0.10
# on Debian 13); promisegrid-dkms is the same either way.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-$top/build/deb}

deps=(build-essential dpkg-dev debhelper dh-dkms fakeroot libcbor-dev liburing-dev
      libbpf-dev libelf-dev zlib1g-dev clang bpftool make gcc)
rel=${PG_DEB_RELEASE:-}
# shellcheck disable=SC1091
[ "$rel" != "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" ] || rel=""
missing=()
[ -z "$rel" ] || "$top/tools/testing/vm/chroot.sh" ensure "$rel" "${deps[@]}"
for p in "${deps[@]}"; do
	[ -z "$rel" ] || break
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -c "ok installed" \
		>/dev/null || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deb: installing ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >&2
fi

ver=$("$top/tools/build/version.sh" "$top")
src=$out/promisegrid-$ver
rm -rf "$out"
mkdir -p "$src"
out=$(cd "$out" && pwd -P) src=$out/promisegrid-$ver
# The tracked files as they are now (uncommitted changes included), or
# every file of a tree without git.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# shellcheck disable=SC2016  # expanded by the inner sh
	(cd "$top" && git ls-files -z | xargs -0 -r sh -c \
		'for f; do [ ! -e "$f" ] || printf "%s\0" "$f"; done' sh |
		tar --null -T - -c) | tar -x -C "$src"
else
	(cd "$top" && tar -c --exclude=./build --exclude=.git .) | tar -x -C "$src"
fi
echo "$ver" >"$src/VERSION"
cp -r "$here/debian" "$src/debian"
sed 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="#MODULE_VERSION#"/' \
	"$top/dkms.conf" >"$src/debian/promisegrid-dkms.dkms"
cat >"$src/debian/changelog" <<CL
promisegrid ($ver) unstable; urgency=medium

  * Built from the tree by tools/deb/build.sh (make deb).

 -- PromiseGrid kernel module authors <promisegrid@localhost.localdomain>  $(date -R)
CL
if [ -n "$rel" ]; then
	"$top/tools/testing/vm/chroot.sh" run "$rel" "$out" -- sh -c \
		"cd '$src' && dpkg-buildpackage -b -us -uc --no-sign" \
		>"$out/build.log" 2>&1
else
	(cd "$src" && dpkg-buildpackage -b -us -uc --no-sign) >"$out/build.log" 2>&1
fi || {
	tail -n 40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
}
ls "$out"/*.deb
