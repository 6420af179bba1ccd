#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The guest-side runner (busybox sh) of every suite that runs in the VM:
# the selftests, the stress and fuzz programs, the userland clients. The
# module is at $PG_KO (/pg/promisegrid.ko), the programs in $PG_BIN
# (/pg/bin), Python tests in $PG_PY (/pg/python).
#
# Which tests: $PG_TESTS, else the list in $PG_LIST ($PG_BIN/tests.list:
# selftests/tests.list or selftests/stress/tests.list, one name a line).
# Each runs under `timeout $PG_TIMEOUT` (C programs with $PG_TEST_ARGS,
# e.g. "-d 5" for the stress programs); its TAP is echoed and tallied;
# then the kernel log it produced is judged: a BUG, WARNING, KASAN, UBSAN,
# lockdep, kmemleak or hung-task line fails it. Where kmemleak exists, a
# scan at the end reports leaks. Ends with "N passed, N failed[, N
# skipped]"; exits 1 if any test failed, crashed, timed out or is missing.

PG_KO=${PG_KO:-/pg/promisegrid.ko}
PG_BIN=${PG_BIN:-/pg/bin}
PG_PY=${PG_PY:-/pg/python}
TIMEOUT=${PG_TIMEOUT:-120}
ARGS=${PG_TEST_ARGS:-}
LIST=${PG_LIST:-$PG_BIN/tests.list}
export PG_KO PG_PY
PATH=$PG_BIN:$PATH
PATTERN='BUG:|WARNING:|Oops|KASAN|UBSAN|kmemleak|lockdep|circular locking'
PATTERN="$PATTERN|general protection|Call Trace|hung_task|blocked for more"

pass=0
fail=0
skip=0
out=$(mktemp)

if [ -n "${PG_TESTS:-}" ]; then
	TESTS=$PG_TESTS
elif [ -r "$LIST" ]; then
	TESTS=$(sed -e '/^#/d' -e '/^$/d' "$LIST")
else
	echo "not ok - no PG_TESTS and no test list at $LIST"
	echo "0 passed, 1 failed"
	exit 1
fi

# Kernel log lines matching PATTERN so far.
problems() {
	dmesg | grep -cE "$PATTERN" || true
}

kmemleak_scan() {
	[ -w /sys/kernel/debug/kmemleak ] || return 0
	echo scan >/sys/kernel/debug/kmemleak 2>/dev/null || true
	leaks=$(cat /sys/kernel/debug/kmemleak 2>/dev/null || true)
	[ -z "$leaks" ] || echo "$leaks" | head -n 60
	[ -z "$leaks" ]
}

# Many endpoints, and rmmod with files open, need descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true
if ! grep -q '^promisegrid ' /proc/modules; then
	insmod "$PG_KO" || echo "# insmod $PG_KO failed"
fi
i=0
while [ ! -c /dev/promisegrid ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -c /dev/promisegrid ] || echo "# /dev/promisegrid does not exist"
# kmemleak: forget what the boot left, report only what the tests leak.
[ ! -w /sys/kernel/debug/kmemleak ] ||
	echo clear >/sys/kernel/debug/kmemleak 2>/dev/null || true

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
	before=$(problems)
	start=$(date +%s)
	# shellcheck disable=SC2086  # ARGS is a list of options
	case $t in
	*.sh) timeout "$TIMEOUT" sh "$prog" >"$out" 2>&1 ;;
	*.py) timeout "$TIMEOUT" python3 "$prog" >"$out" 2>&1 ;;
	*) timeout "$TIMEOUT" "$prog" $ARGS >"$out" 2>&1 ;;
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
	# The kernel log this test produced, judged as its own.
	after=$(problems)
	if [ "$after" -gt "$before" ]; then
		echo "not ok - $t: the kernel log gained $((after - before))" \
		     "problem lines:"
		dmesg | grep -E "$PATTERN" | tail -n $((after - before))
		dmesg | tail -n 60 | sed 's/^/# dmesg: /'
		fail=$((fail + 1))
	else
		echo "ok - $t: kernel log clean"
		pass=$((pass + 1))
	fi
	echo "# $t: exit status $rc, $(($(date +%s) - start)) s"
done
rm -f "$out"

if [ -w /sys/kernel/debug/kmemleak ]; then
	echo "# ---- kmemleak"
	if kmemleak_scan; then
		echo "ok - kmemleak: no leak reported"
		pass=$((pass + 1))
	else
		echo "not ok - kmemleak reported leaks"
		fail=$((fail + 1))
	fi
fi

if [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]
