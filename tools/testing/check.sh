#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Every test, in order: host unit tests (CBOR validator, cbor-check, uapi
# header, libpromisegrid, the Python codec, the Go client, installing the
# library, the Debian packages), static checks (checkpatch, sparse), the
# selftests, the userland suite (the C library, pg, Python, Go) and the
# independent conformance client (written from the docs alone) inside a
# QEMU VM running Debian's kernels (bookworm's 6.1, Debian 13's 6.12,
# trixie-backports' 7.3; the whole matrix is make check-matrix), then the
# stress suite. Each
# suite prints TAP and its own "N passed, N failed" line; this script adds
# them up and ends with the total. Exit status: 0 only if every suite passed.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
# shellcheck source=tools/testing/suite.sh
. tools/testing/suite.sh

tools/deps.sh
make -s tools >/dev/null
make -s -C selftests/host all kwarn >/dev/null || status=1
suite "host: CBOR validator" env ASAN_OPTIONS=detect_leaks=0 \
	selftests/host/test_cbor
suite "host: cbor-check" selftests/host/cbor-check.sh tools/cbor-check/cbor-check
suite "host: spec vectors (cbor-check, pg-cid)" selftests/host/vectors.sh \
	tools/cbor-check/cbor-check tools/maint/pg-cid
suite "host: uapi header" selftests/uapi/run.sh
suite "host: libpromisegrid encoding" make -s -C userland/lib/tests check
suite "host: Python codec" /usr/bin/python3 selftests/userland/test_python_codec.py
suite "host: Go client" make -s -C userland/go check
suite "host: install and pkg-config" selftests/userland/test_install.sh
suite "host: Debian packages (make deb)" tools/testing/deb/check-deb.sh
suite "static: checkpatch and sparse" tools/testing/static-checks.sh
# Names of tools/testing/vm/kernels.list: bookworm's 6.1, Debian 13's 6.12 and
# trixie-backports' 7.3 (make check-matrix runs every kernel). PG_KERNELS
# overrides the list (e.g. PG_KERNELS=6.1 for a quicker run);
# PG_STRESS_KERNELS picks the kernels of the stress suite.
kernels=${PG_KERNELS:-6.1 6.12-deb13 7.3}
stress_kernels=${PG_STRESS_KERNELS:-$kernels}
for k in $kernels; do
	suite "VM: selftests on Debian's $k kernel" env PG_KERNEL="$k" \
		selftests/vm-check.sh
done
for k in $kernels; do
	suite "VM: libpromisegrid, pg, Python and Go on Debian's $k kernel" \
		selftests/userland/vm-userland.sh --kernel "$k"
done
for k in $kernels; do
	suite "VM: independent conformance client on Debian's $k kernel" \
		selftests/conformance/vm-conformance.sh --kernel "$k"
done
for k in $stress_kernels; do
	suite "VM: stress and frame fuzzing on Debian's $k kernel" \
		selftests/stress/vm-stress.sh --kernel "$k"
done
# The KASAN/lockdep/kmemleak kernel takes ~23 min to build once: run on it
# only when it is cached (tools/testing/debug-kernel/build.sh, or make check-debug
# with PG_BUILD_DEBUG_KERNEL=1).
# Three VMs, a three-server NATS cluster on the host's loopback; it
# installs nats-server, libnats-dev and python3-cryptography itself
# (PG_GRID=0 leaves it out).
if [ "${PG_GRID:-1}" = 1 ]; then
	suite "VM: the grid across three hosts over NATS (pg-bridge)" \
		selftests/grid/check-grid.sh
fi
if [ -f "${PG_CACHE:-/var/cache/promisegrid}/debug-kernel/.complete" ]; then
	suite "VM: selftests and stress on the debug kernel" \
		tools/testing/debug-kernel/check-debug.sh
else
	echo "### debug kernel: # SKIP not built (make check-debug with PG_BUILD_DEBUG_KERNEL=1)"
fi

suite_total
