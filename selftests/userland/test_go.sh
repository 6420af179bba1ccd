#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test_go.sh [TEST_BINARY]: runs the Go client's tests (userland/go, built
# with `go test -c`; default $PG_BIN/promisegrid-go.test, as in the VM)
# and prints their results as TAP, ending with "N passed, N failed". Run
# in userland/go on the host (make -C userland/go check) the tests that
# compare with the repository's files run too; with PG_GO_VM=1 (the VM
# suite) the device tests fail rather than skip if the device, pg or
# pg-go-example is missing. Exit status 0 only if every test passed.
bin=${1:-${PG_BIN:-/pg/bin}/promisegrid-go.test}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "TAP version 13"
"$bin" -test.v -test.count=1 -test.timeout=${PG_GO_TIMEOUT:-100s} >"$out" 2>&1
rc=$?
awk -v rc="$rc" '
/^=== (RUN|PAUSE|CONT)/ { why = ""; next }
/^[ \t]*--- (PASS|FAIL|SKIP): / {
	sub(/^[ \t]*--- /, "")
	status = $1; name = $2 " " $3
	n++
	if (status == "PASS:") { print "ok " n " - " name; pass++ }
	else if (status == "SKIP:") {
		print "ok " n " - " name " # SKIP " (why != "" ? why : "skipped")
		skip++
	}
	else { print "not ok " n " - " name; fail++ }
	next
}
/^(PASS|FAIL|ok[ \t]|FAIL[ \t])/ && !/^ok [0-9]/ { next }
{
	# the reason a test skipped is its last line before its result
	why = $0
	sub(/^[ \t]*[A-Za-z0-9_]+\.go:[0-9]+: /, "", why)
	print "# " $0
}
END {
	if (rc != 0 && fail == 0) {
		n++; fail++
		print "not ok " n " - the Go test binary: exit status " rc " without a failed test"
	}
	if (n == 0) { n++; fail++; print "not ok 1 - the Go test binary ran no test" }
	print "1.." n
	line = (pass + 0) " passed, " (fail + 0) " failed"
	if (skip) line = line ", " skip " skipped"
	print line
	exit fail ? 1 : 0
}' "$out"
