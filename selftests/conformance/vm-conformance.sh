#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The independent conformance client (conformance.py, written from
# docs/abi.md, the uapi header and docs/protocols/ alone) run against the
# module in the VM. Extra arguments go to tools/testing/vm/run.sh (e.g. --kernel
# 6.12). PG_CONFORMANCE_TESTS: names of tests to run (default: all).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

guest=$(mktemp)
trap 'rm -f "$guest"' EXIT
cat >"$guest" <<GUEST
#!/bin/sh
insmod /pg/promisegrid.ko || echo "# insmod failed"
i=0
while [ ! -c /dev/promisegrid ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done
PG_FRESH_MODULE=1 exec timeout ${PG_TIMEOUT:-300} python3 /pg/conformance/conformance.py ${PG_CONFORMANCE_TESTS:-}
GUEST
# The spec files, so that the client can check the kernel's pCIDs
# against them and compute the retired v1 control pCID.
specs=()
for f in docs/protocols/*.md; do
	specs+=(--file "$f:/pg/conformance/protocols/$(basename "$f")")
done
exec tools/testing/vm/run.sh --timeout 600 --script "$guest" \
	--python selftests/conformance/conformance.py \
	--file selftests/conformance/conformance.py:/pg/conformance/conformance.py \
	"${specs[@]}" "$@"
