#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check-matrix: on every kernel of tools/testing/vm/kernels.list (or the
# names in $PG_KERNELS), the selftests, the userland suite, the
# independent conformance client and the stress
# suite, each in its own VM. Each suite prints TAP, its own "N passed, N
# failed" line and its time; the last line is the total. A kernel that
# cannot be fetched counts as one failure. Exit status: 0 only if every
# suite passed. PG_MATRIX_SUITES picks suites (default
# "selftests userland conformance stress").
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
# shellcheck source=tools/testing/suite.sh
. tools/testing/suite.sh

list=${PG_KERNELS_LIST:-tools/testing/vm/kernels.list}
kernels=${PG_KERNELS:-$(awk '!/^#/ && NF >= 3 { print $1 }' "$list")}
suites=${PG_MATRIX_SUITES:-selftests userland conformance stress}

tools/deps.sh
# shellcheck disable=SC2086  # one name a word
echo "# kernels:" $kernels
for k in $kernels; do
	t0=$(date +%s)
	if ! abi=$(tools/testing/vm/fetch-kernel.sh "$k" | tail -n 1); then
		echo "not ok - kernel $k: fetch-kernel.sh failed"
		total_fail=$((total_fail + 1)); status=1
		continue
	fi
	abi=${abi#ABI=}
	for s in $suites; do
		case $s in
		selftests)
			suite "VM: selftests on $k ($abi)" env PG_KERNEL="$k" \
				selftests/vm-check.sh ;;
		userland)
			suite "VM: libpromisegrid, pg, Python and Go on $k ($abi)" \
				selftests/userland/vm-userland.sh --kernel "$k" ;;
		conformance)
			suite "VM: independent conformance client on $k ($abi)" \
				selftests/conformance/vm-conformance.sh --kernel "$k" ;;
		stress)
			suite "VM: stress and frame fuzzing on $k ($abi)" \
				selftests/stress/vm-stress.sh --kernel "$k" ;;
		*)	echo "check-matrix: unknown suite $s" >&2; exit 2 ;;
		esac
	done
	echo "### kernel $k ($abi): $(($(date +%s) - t0)) s"
done
suite_total
