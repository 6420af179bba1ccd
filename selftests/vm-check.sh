#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Host-side entry of the selftests: builds the test programs, then boots
# the VM (tools/testing/vm/run.sh builds the module and puts it at
# /pg/promisegrid.ko) and runs selftests/run_tests.sh in it. Exits with
# the runner's status. Extra arguments go to tools/testing/vm/run.sh.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

make -s -C selftests all
# test_policy drives the eBPF policies with their loader and bpftool.
make -s -C tools/policy

set --  --timeout 900 --config selftests/config --script selftests/run_tests.sh \
	--file selftests/tests.list:/pg/bin/tests.list "$@"
set -- "$@" --bin tools/policy/build/pg-policy --bin "$(command -v bpftool)"
for f in selftests/build/test_*; do
	set -- "$@" --bin "$f"
done
exec tools/testing/vm/run.sh "$@"
