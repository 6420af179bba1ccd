#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# version.sh [TREE]: the module's version, for MODULE_VERSION, DKMS and
# packages. A copy without git (DKMS's /usr/src/promisegrid-VERSION, a
# tarball) carries it in TREE/VERSION. In git: the newest tag vX.Y.Z,
# with the commits since and the commit (X.Y.Z+N.gHASH) when HEAD is not
# the tag; without a tag, kmod/version.h's X.Y.Z and the commit
# (X.Y.Z+gHASH). "+dirty" marks uncommitted changes.
tree=${1:-$(dirname "$0")/../..}
if [ -s "$tree/VERSION" ]; then
	cat "$tree/VERSION"
	exit 0
fi
base=$(sed -n 's/^#define PG_VERSION "\(.*\)"$/\1/p' "$tree/kmod/version.h" \
	2>/dev/null)
[ -n "$base" ] || { echo "version.sh: no version in $tree/kmod/version.h" >&2; exit 1; }
if v=$(git -C "$tree" describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
	echo "$v" | sed -e 's/^v//' -e 's/-\([0-9]*\)-g\([0-9a-f]*\)/+\1.g\2/' \
		-e 's/-dirty$/+dirty/' -e 's/+\(.*\)+dirty$/+\1.dirty/'
elif h=$(git -C "$tree" rev-parse --short HEAD 2>/dev/null); then
	d=""
	git -C "$tree" diff --quiet HEAD -- 2>/dev/null || d=.dirty
	echo "$base+g$h$d"
else
	echo "$base"
fi
