#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# check-debug.sh [tools/testing/vm/run.sh options]
#
# Run the selftests and the stress suite on the debug kernel (KASAN,
# lockdep, kmemleak, UBSAN, DEBUG_LIST: tools/testing/debug-kernel/build.sh) and
# fail on any kernel report in the guest log. tools/testing/vm/run.sh boots it:
# build.sh lays the kernel out like a Debian one in a private cache, so
# PG_CACHE=<that cache> run.sh --kernel <release> finds the image and the
# build tree, and builds the module against the tree. The module is built
# from a copy of the sources, so the stock kernel's objects in kmod/ stay.
#
# Without a built kernel it exits 4 with a SKIP message, unless
# PG_BUILD_DEBUG_KERNEL=1 (then it builds one: about 25 min on 2 cores).
# $PG_STRESS_SECONDS sets the stress tests' load phase (default 3 here:
# the debug kernel is several times slower). $PG_DEBUG_SUITES picks
# "selftests", "stress" or both (the default).
# Exit: 0 all passed; 1 a test failed or the kernel reported a problem;
# 4 skipped; else what run.sh returned (124 timeout, 125 no status).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
CACHE=${PG_CACHE:-/var/cache/promisegrid}
DIR=$CACHE/debug-kernel
LOGDIR=${PG_DEBUG_LOGDIR:-$DIR/logs}

log() { echo "check-debug: $*" >&2; }

# Boot messages of the debug options themselves, not reports.
BENIGN='RCU lockdep checking is enabled|kmemleak: Kernel memory leak detector initialized|kmemleak: Automatic memory scanning thread started|PG-VM: kernel log problems:|PG-VM-KERNEL-PROBLEMS=|^[0-9]+:(ok|# ----) .*kmemleak'

# The guest log must show no report (guest-init.sh lists the kernel log's
# problem lines and the final kmemleak scan); 0 if clean.
scan_log() {
	local logf=$1 pattern found
	pattern='BUG:|WARNING:|Oops|KASAN|UBSAN|kmemleak|lockdep|'
	pattern+='circular locking|general protection|Call Trace|'
	pattern+='blocked for more than|unreferenced object'
	# From /init on: earlier reports cannot involve the module (guest-init
	# shows them as a warning).
	found=$(sed -n '/^PG-VM: booted/,$p' "$logf" |
		sed '/^PG-VM: warning: kernel reports during boot/,/^[^[]/d' |
		grep -En "$pattern" | grep -Ev "$BENIGN" || true)
	if [ -n "$found" ]; then
		log "kernel reports in $logf:"
		echo "$found" | head -n 60 >&2
		return 1
	fi
}

# The guest script's own status (run.sh also fails on the benign lines).
guest_status() {
	sed -n 's/^PG-VM-EXIT=\([0-9]\{1,\}\)$/\1/p' "$1" | tail -n 1
}

passed=0 failed=0
# PG_DEBUG_SUITES: which suites to run (default both).
suites=${PG_DEBUG_SUITES:-selftests stress}
suites=${suites//,/ }
for f in $suites; do
	case $f in
	selftests | stress) ;;
	*) echo "check-debug: PG_DEBUG_SUITES: no suite '$f'" \
		"(selftests, stress)" >&2; exit 2 ;;
	esac
done

# Adds a suite's closing "N passed, N failed" to the totals; a suite that
# printed none (no boot, a crash) counts as one failure.
count_results() {
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
	failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
}

# run_suite NAME RUN.SH-ARGS...: boots the debug kernel, keeps the log.
run_suite() {
	local name=$1 rc=0 start
	shift
	start=$(date +%s)
	log "$name on $release (log: $LOGDIR/$name.log)"
	PG_CACHE=$DIR/cache PG_MODULE_SRC=$src \
		"$top/tools/testing/vm/run.sh" --kernel "$release" --timeout 1800 \
		--log "$LOGDIR/$name.log" "$@" || rc=$?
	log "$name: run.sh status $rc after $(($(date +%s) - start)) s"
	# run.sh's 1 may only be guest-init matching the boot lines above
	if [ "$rc" = 1 ] && [ "$(guest_status "$LOGDIR/$name.log")" = 0 ]; then
		rc=0
	fi
	count_results "$LOGDIR/$name.log"
	if ! scan_log "$LOGDIR/$name.log"; then
		rc=1
		failed=$((failed + 1))	# the kernel report, as a failure
	fi
	return "$rc"
}

guest=""
main() {
	local rc=0 f
	if [ ! -f "$DIR/.complete" ] && [ -z "${PG_BUILD_DEBUG_KERNEL:-}" ]; then
		echo "SKIP: no debug kernel in $DIR (build it once with" \
		     "tools/testing/debug-kernel/build.sh, ~25 min, or set" \
		     "PG_BUILD_DEBUG_KERNEL=1)"
		exit 4
	fi
	release=$("$here/build.sh" | tail -n 1)
	release=${release#KERNEL=}
	mkdir -p "$LOGDIR"

	# A private copy of the module's sources for this kernel's objects,
	# one per run: two trees checked at once must not build each other's.
	src=$(mktemp -d "$DIR/module-src.XXXXXX")
	cp -a "$top/Kbuild" "$src/"
	cp -a "$top/kmod" "$top/common" "$top/uapi" "$src/"
	(cd "$src/kmod" && rm -f ./*.o ./*.ko ./*.mod ./*.mod.c .*.cmd \
		modules.order)
	(cd "$src/common" && rm -f ./*.o .*.cmd)

	make -s -C "$top/selftests" all
	make -s -C "$top/selftests/stress" all
	make -s -C "$top/tools/policy"

	# KASAN and lockdep slow everything several times: longer limits.
	guest=$(mktemp)
	trap 'rm -rf "$guest" "$src"' EXIT
	{
		echo '#!/bin/sh'
		echo 'export PG_TEST_TIMEOUT=120 PG_TIMEOUT=900'
		echo 'exec sh /pg/run_tests.sh'
	} >"$guest"
	set -- --script "$guest" \
		--file "$top/selftests/run_tests.sh:/pg/run_tests.sh" \
		--file "$top/selftests/tests.list:/pg/bin/tests.list" \
		--bin "$top/tools/policy/build/pg-policy" \
		--bin "$(command -v bpftool)"
	for f in "$top"/selftests/build/test_*; do set -- "$@" --bin "$f"; done
	case " $suites " in *" selftests "*) run_suite selftests "$@" || rc=1 ;; esac

	{
		echo '#!/bin/sh'
		echo "PG_TEST_ARGS='-d ${PG_STRESS_SECONDS:-3}'"
		# 100 000 receives on one endpoint took over 120 s here on a
		# slow day, with and without the last module change; with
		# single-threaded TCG (tools/testing/vm/README.md) stress_endpoints
		# took over 300 s (34 + 166 + 96 s for its first two tests):
		# 600 s per test (PG_TEST_TIMEOUT, the programs' watchdog),
		# and 1500 s per program (PG_TIMEOUT, the runner's: it was
		# its default 300 s, which cut stress_endpoints once on a
		# loaded host).
		echo 'export PG_TEST_ARGS PG_TEST_TIMEOUT=600 PG_TIMEOUT=1500'
		echo 'exec sh /pg/run_tests.sh'
	} >"$guest"
	set -- --script "$guest" \
		--file "$top/selftests/run_tests.sh:/pg/run_tests.sh" \
		--file "$top/selftests/stress/tests.list:/pg/bin/tests.list"
	for f in "$top"/selftests/stress/build/*; do
		case $f in *.o) continue ;; esac
		set -- "$@" --bin "$f"
	done
	case " $suites " in *" stress "*) run_suite stress "$@" || rc=1 ;; esac

	# Nothing run is not a pass.
	if [ $((passed + failed)) = 0 ]; then
		log "no test ran"
		rc=1
	fi
	if [ "$rc" = 0 ]; then
		log "PASS: $suites clean on $release"
	else
		log "FAIL: see $LOGDIR/"
	fi
	echo "debug: $passed passed, $failed failed"
	return "$rc"
}

main "$@"
