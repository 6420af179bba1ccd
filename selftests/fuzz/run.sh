#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh SECONDS: fuzz on a scratch copy of the seeds (the committed
# corpus does not grow), then print one summary line:
#   fuzz: N execs in S s, coverage C, crashes K
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-300}
work=$(mktemp -d /tmp/pg-fuzz.XXXXXX)
mkdir -p "$work/corpus" "$work/artifacts"
cp "$here/build/seeds/"* "$here/regressions/"* "$work/corpus/" 2>/dev/null
"$here/build/fuzz_cbor" -max_total_time="$secs" -print_final_stats=1 \
	-artifact_prefix="$work/artifacts/" -max_len=4096 \
	"$work/corpus" >"$work/log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | cut -d' ' -f2)
crashes=$(find "$work/artifacts" -type f | wc -l)
tail -n 5 "$work/log"
echo "fuzz: ${execs:-0} execs in $secs s, coverage ${cov:-0}, crashes $crashes (artifacts: $work/artifacts)"
[ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ]
