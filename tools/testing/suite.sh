# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Sourced by tools/testing/check.sh and tools/testing/check-matrix.sh: run suites that
# print TAP and a closing "N passed, N failed" line, and add them up.
#   suite NAME CMD...   run CMD, echo its output, add up its result line;
#                       prints "### NAME: N s" after it
#   suite_total         print the "total: ..." line; returns the status
# The caller sets up: set -uo pipefail (no -e).
suite_log=$(mktemp -d)
trap 'rm -rf "$suite_log"' EXIT
total_pass=0 total_fail=0 total_skip=0 status=0

suite() {
	local name=$1 line p f s rc t0
	shift
	echo "### $name"
	t0=$(date +%s)
	"$@" 2>&1 | tee "$suite_log/out"
	rc=${PIPESTATUS[0]}
	echo "### $name: $(($(date +%s) - t0)) s"
	line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$suite_log/out" | tail -1)
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

suite_total() {
	local summary="$total_pass passed, $total_fail failed"
	[ "$total_skip" -gt 0 ] && summary="$summary, $total_skip skipped"
	echo "total: $summary"
	return "$status"
}
