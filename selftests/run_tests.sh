#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest-side runner of the selftests (busybox sh). The module is at
# $PG_KO (/pg/promisegrid.ko), the test programs in $PG_BIN (/pg/bin),
# Python tests in $PG_PY (/pg/python). PG_TESTS overrides the list.
# Loads the module if needed, runs every test under `timeout`, echoes its
# TAP, and ends with "N passed, N failed[, N skipped]". Exits 1 if any test
# failed, or any program crashed, timed out or is missing.

PG_KO=${PG_KO:-/pg/promisegrid.ko}
PG_BIN=${PG_BIN:-/pg/bin}
PG_PY=${PG_PY:-/pg/python}
TIMEOUT=${PG_TIMEOUT:-120}
export PG_KO PG_PY
PATH=$PG_BIN:$PATH

TESTS=${PG_TESTS:-"test_frames test_sequences test_reads test_control
test_routing test_queues test_stats test_uring test_caps test_security
test_policy
test_module.sh"}

pass=0
fail=0
skip=0
out=$(mktemp)

if ! grep -q '^promisegrid ' /proc/modules; then
	insmod "$PG_KO" || echo "# insmod $PG_KO failed"
fi
i=0
while [ ! -c /dev/promisegrid ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -c /dev/promisegrid ] || echo "# /dev/promisegrid does not exist"

for t in $TESTS; do
	echo "# ---- $t"
	case $t in
	*.py) prog=$PG_PY/$t ;;
	*) prog=$PG_BIN/$t ;;
	esac
	if [ ! -f "$prog" ]; then
		echo "not ok - $t: $prog not found"
		fail=$((fail + 1))
		continue
	fi
	case $t in
	*.sh) timeout "$TIMEOUT" sh "$prog" >"$out" 2>&1 ;;
	*.py) timeout "$TIMEOUT" python3 "$prog" >"$out" 2>&1 ;;
	*) timeout "$TIMEOUT" "$prog" >"$out" 2>&1 ;;
	esac
	rc=$?
	cat "$out"
	p=$(grep -c '^ok ' "$out")
	s=$(grep -c '^ok .*# SKIP' "$out")
	f=$(grep -c '^not ok ' "$out")
	pass=$((pass + p - s))
	skip=$((skip + s))
	fail=$((fail + f))
	case $rc in
	0 | 4) ;;
	1)
		if [ "$f" -eq 0 ]; then
			echo "not ok - $t: exit status 1 without a failed test"
			fail=$((fail + 1))
		fi
		;;
	124 | 143 | 137)
		echo "not ok - $t: timed out after $TIMEOUT s (status $rc)"
		fail=$((fail + 1))
		;;
	*)
		if [ $rc -gt 128 ]; then
			echo "not ok - $t: crashed, killed by signal $((rc - 128))"
		else
			echo "not ok - $t: exit status $rc"
		fi
		fail=$((fail + 1))
		;;
	esac
	echo "# $t: exit status $rc"
done
rm -f "$out"

if [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]
