#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Host-side entry of the stress and fuzz tests: builds the programs, then
# boots the VM (tools/testing/vm/run.sh builds the module and puts it at
# /pg/promisegrid.ko) and runs selftests/run_tests.sh in it over
# tests.list. Exits with the runner's status. Extra arguments go to
# tools/testing/vm/run.sh. $PG_STRESS_SECONDS sets each test's load phase
# (programs' -d); $PG_STRESS_PROGS runs only the programs it lists.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

make -s -C selftests/stress all

guest=$(mktemp)
trap 'rm -f "$guest"' EXIT
# The guest runner, with the load phase passed in.
{
	echo '#!/bin/sh'
	echo "PG_TEST_ARGS='${PG_STRESS_SECONDS:+-d $PG_STRESS_SECONDS}'"
	[ -z "${PG_STRESS_PROGS:-}" ] ||
		echo "PG_TESTS='$PG_STRESS_PROGS'"
	# Each program: its load phase per test, and its setup (300 s).
	echo 'PG_TIMEOUT=${PG_TIMEOUT:-300}'
	echo 'export PG_TEST_ARGS PG_TESTS PG_TIMEOUT'
	echo 'exec sh /pg/run_tests.sh'
} >"$guest"

set -- --timeout 900 --script "$guest" \
	--file selftests/run_tests.sh:/pg/run_tests.sh \
	--file selftests/stress/tests.list:/pg/bin/tests.list "$@"
for f in selftests/stress/build/*; do
	case $f in *.o) continue ;; esac
	set -- "$@" --bin "$f"
done
tools/testing/vm/run.sh "$@"
