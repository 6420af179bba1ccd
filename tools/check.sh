#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Every test, in order: host unit tests (CBOR validator, cbor-check, uapi
# header, libpromisegrid, the Python codec, the Go client, installing the
# library), static checks (checkpatch, sparse), the selftests and the
# userland suite (the C library, pg, Python, Go) inside a QEMU VM running
# Debian's 6.1 and 6.12 kernels, the independent conformance client
# (written from the docs alone) on both, then the stress suite. Each
# suite prints TAP and its own "N passed, N failed" line; this script adds
# them up and ends with the total. Exit status: 0 only if every suite passed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
total_pass=0 total_fail=0 total_skip=0 status=0

suite() {	# suite NAME CMD...: run, echo, add up its closing line
	local name=$1 line p f s rc
	shift
	echo "### $name"
	"$@" 2>&1 | tee "$log/out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log/out" | tail -1)
	if [ -z "$line" ]; then
		echo "### $name: no result line (exit $rc): counted as 1 failure"
		total_fail=$((total_fail + 1)); status=1
		return
	fi
	p=$(sed -E 's/.*\b([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.*\b([0-9]+) failed.*/\1/' <<<"$line")
	s=$(sed -nE 's/.*\b([0-9]+) skipped.*/\1/p' <<<"$line")
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	total_skip=$((total_skip + ${s:-0}))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "### $name: exit $rc with no failed test: counted as 1 failure"
		total_fail=$((total_fail + 1))
	fi
	[ "$rc" -eq 0 ] || status=1
}

tools/deps.sh
make -s tools >/dev/null
make -s -C selftests/host all kwarn >/dev/null || status=1
suite "host: CBOR validator" env ASAN_OPTIONS=detect_leaks=0 \
	selftests/host/test_cbor
suite "host: cbor-check" selftests/host/cbor-check.sh tools/cbor-check/cbor-check
suite "host: spec vectors (cbor-check, pg-cid)" selftests/host/vectors.sh \
	tools/cbor-check/cbor-check tools/pg-cid
suite "host: uapi header" selftests/uapi/run.sh
suite "host: libpromisegrid encoding" make -s -C userland/lib/tests check
suite "host: Python codec" /usr/bin/python3 selftests/userland/test_python_codec.py
suite "host: Go client" make -s -C userland/go check
suite "host: install and pkg-config" selftests/userland/test_install.sh
suite "static: checkpatch and sparse" tools/static-checks.sh
# Debian 12's own kernel first, then the 6.12 it also ships; PG_KERNELS
# overrides the list (e.g. PG_KERNELS=6.1 for a quicker run).
for k in ${PG_KERNELS:-6.1 6.12}; do
	suite "VM: selftests on Debian's $k kernel" env PG_KERNEL="$k" \
		selftests/vm-check.sh
done
for k in ${PG_KERNELS:-6.1 6.12}; do
	suite "VM: libpromisegrid, pg, Python and Go on Debian's $k kernel" \
		selftests/userland/vm-userland.sh --kernel "$k"
done
for k in ${PG_KERNELS:-6.1 6.12}; do
	suite "VM: independent conformance client on Debian's $k kernel" \
		selftests/conformance/vm-conformance.sh --kernel "$k"
done
suite "VM: stress and frame fuzzing on Debian's 6.1 kernel" \
	selftests/stress/vm-stress.sh
# The KASAN/lockdep/kmemleak kernel takes ~23 min to build once: run on it
# only when it is cached (tools/debug-kernel/build.sh, or make check-debug
# with PG_BUILD_DEBUG_KERNEL=1).
if [ -f "${PG_CACHE:-/var/cache/promisegrid}/debug-kernel/.complete" ]; then
	suite "VM: selftests and stress on the debug kernel" \
		tools/debug-kernel/check-debug.sh
else
	echo "### debug kernel: # SKIP not built (make check-debug with PG_BUILD_DEBUG_KERNEL=1)"
fi

summary="$total_pass passed, $total_fail failed"
[ "$total_skip" -gt 0 ] && summary="$summary, $total_skip skipped"
echo "total: $summary"
exit "$status"
