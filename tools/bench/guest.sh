#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The benchmark inside the VM (busybox sh). tools/bench/run.sh prepends
# PGBENCH_ARGS. Loads the module, runs pgbench (stderr: progress on the
# console), then prints its report between two marker lines for the host.
set -eu
: "${PGBENCH_ARGS=}"
dmesg -n 1 2>/dev/null || true
insmod /pg/promisegrid.ko
i=0
while [ ! -c /dev/promisegrid ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "pgbench: module loaded, parameters:"
for p in /sys/module/promisegrid/parameters/*; do
	echo "  ${p##*/}=$(cat "$p")"
done
status=0
# shellcheck disable=SC2086 # PGBENCH_ARGS is a list of words
pgbench $PGBENCH_ARGS >/tmp/pgbench.out || status=$?
echo "PGBENCH-REPORT-BEGIN"
cat /tmp/pgbench.out
echo "PGBENCH-REPORT-END status=$status"
exit "$status"
