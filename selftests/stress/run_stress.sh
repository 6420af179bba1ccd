#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest-side runner of the stress and fuzz tests (busybox sh). The module
# is at $PG_KO (/pg/promisegrid.ko), the programs in $PG_BIN (/pg/bin).
# Loads the module if needed, runs each program under `timeout` with
# $PG_STRESS_ARGS (e.g. "-d 5"), echoes its TAP, and after each program
# checks that the kernel log gained no BUG, WARNING, KASAN, UBSAN, lockdep
# or kmemleak report (a kmemleak scan is triggered when kmemleak exists).
# Ends with "N passed, N failed[, N skipped]"; exits 1 if anything failed.
set -eu

PG_KO=${PG_KO:-/pg/promisegrid.ko}
PG_BIN=${PG_BIN:-/pg/bin}
TIMEOUT=${PG_TIMEOUT:-300}
ARGS=${PG_STRESS_ARGS:-}
export PG_KO
PATH=$PG_BIN:$PATH
PROGS=${PG_STRESS_PROGS:-"fuzz_frames stress_endpoints stress_races
stress_uring stress_memory stress_hostile stress_module"}
PATTERN='BUG:|WARNING:|Oops|KASAN|UBSAN|kmemleak|lockdep|circular locking'
PATTERN="$PATTERN|general protection|Call Trace|hung_task|blocked for more"

pass=0
fail=0
skip=0
out=$(mktemp)

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

for t in $PROGS; do
	echo "# ---- $t"
	prog=$PG_BIN/$t
	if [ ! -x "$prog" ]; then
		echo "not ok - $t: not found in $PG_BIN"
		fail=$((fail + 1))
		continue
	fi
	before=$(problems)
	start=$(date +%s)
	rc=0
	# shellcheck disable=SC2086  # ARGS is a list of options
	timeout "$TIMEOUT" "$prog" $ARGS >"$out" 2>&1 || rc=$?
	cat "$out"
	p=$(grep -c '^ok ' "$out" || true)
	s=$(grep -c '^ok .*# SKIP' "$out" || true)
	f=$(grep -c '^not ok ' "$out" || true)
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
		if [ "$rc" -gt 128 ]; then
			echo "not ok - $t: crashed, killed by signal $((rc - 128))"
		else
			echo "not ok - $t: exit status $rc"
		fi
		fail=$((fail + 1))
		;;
	esac
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

echo "# ---- kmemleak"
if kmemleak_scan; then
	[ ! -w /sys/kernel/debug/kmemleak ] ||
		{ echo "ok - kmemleak: no leak reported"; pass=$((pass + 1)); }
else
	echo "not ok - kmemleak reported leaks"
	fail=$((fail + 1))
fi
rm -f "$out"

if [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]
