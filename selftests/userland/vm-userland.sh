#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The userland suite in the VM: libpromisegrid's C client test, the pg
# command (test_pg.sh), the Python binding (test_python.py) and the Go
# client (test_go.sh: userland/go's tests, a static `go test -c` binary),
# run by selftests/run_tests.sh against the module. Installs and builds
# what it needs first.
# Extra arguments go to tools/testing/vm/run.sh (e.g. --kernel 6.12); PG_TIMEOUT
# (per test program) and PG_TEST_TIMEOUT (per C test) go to the guest.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

tools/deps.sh
make -s -C userland/pg
make -s -C selftests/userland
make -s -C userland/go vm
py=()
for f in userland/python/promisegrid.py userland/python/example.py \
	userland/python/stdio_worker.py selftests/userland/test_python.py \
	selftests/userland/test_python_codec.py; do
	py+=(--file "$f:/pg/python/$(basename "$f")")
done
# test_python_codec checks the pCIDs against the spec files: give it them.
for f in docs/protocols/*.md uapi/linux/promisegrid.h; do
	py+=(--file "$f:/$f")
done
guest=$(mktemp)
trap 'rm -f "$guest"' EXIT
{
	echo 'PG_TESTS="test_lib_client test_pg.sh test_python.py test_go.sh"'
	# The Go device tests fail, rather than skip, if anything is missing.
	echo 'PG_GO_VM=1; export PG_GO_VM'
	# Slower kernels (KASAN, lockdep) pass longer limits down.
	echo "PG_TIMEOUT=${PG_TIMEOUT:-120} PG_TEST_TIMEOUT=${PG_TEST_TIMEOUT:-60}"
	echo 'export PG_TESTS PG_TIMEOUT PG_TEST_TIMEOUT'
	cat selftests/run_tests.sh
} >"$guest"
exec tools/testing/vm/run.sh --timeout 600 --script "$guest" \
	--bin userland/pg/build/pg --bin selftests/userland/build/test_lib_client \
	--bin selftests/userland/test_pg.sh --bin userland/examples/shell-example.sh \
	--bin selftests/userland/test_go.sh --bin userland/go/build/promisegrid-go.test \
	--bin userland/go/build/pg-go-example \
	--python selftests/userland/test_python.py \
	--python userland/python/example.py --python shutil --python locale --python json \
	--python userland/python/stdio_worker.py "${py[@]}" "$@"
