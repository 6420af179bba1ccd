#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Static checks over kmod/ as TAP: checkpatch.pl --strict, and sparse
# (make C=2) against Debian's headers for the target kernel (fetched by
# tools/testing/vm/fetch-kernel.sh, PG_KERNEL, default 6.1). Both must be silent.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pass=0 fail=0

report() {	# report N NAME STATUS
	if [ "$3" -eq 0 ]; then
		echo "ok $1 - $2"; pass=$((pass + 1))
	else
		echo "not ok $1 - $2"; sed 's/^/# /' "$out/log"; fail=$((fail + 1))
	fi
}

echo "TAP version 13"
echo "1..2"
tools/testing/checkpatch.sh >"$out/log" 2>&1
report 1 "checkpatch.pl --strict: kmod/ and common/ clean" $?

abi=$(tools/testing/vm/fetch-kernel.sh "${PG_KERNEL:-6.1}" 2>"$out/log" | tail -n 1)
abi=${abi#ABI=}
kdir=${PG_CACHE:-/var/cache/promisegrid}/kernels/$abi/kdir
# Build in a scratch copy so sparse sees every file, and the tree stays
# clean. Any line sparse prints is a finding.
mkdir -p "$out/src"
cp -r Kbuild kmod common uapi "$out/src/"
make -C "$kdir" M="$out/src" C=2 CHECK=sparse modules >"$out/build" 2>&1
rc=$?
grep -E 'warning:|error:' "$out/build" >"$out/log"
[ "$rc" -ne 0 ] && tail -20 "$out/build" >>"$out/log"
[ "$rc" -eq 0 ] && [ ! -s "$out/log" ]
report 2 "sparse (make C=2): kmod/ clean on $abi" $?
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
