#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo, inside the VM (busybox sh). PCID is set by tools/demo.sh.
# One sender, one attested fan-out receiver and a worker group of two on
# one pCID: the subscriber sees all six frames, each worker three.
set -e
: "${PCID:?}"
insmod /pg/promisegrid.ko
echo "== /dev/promisegrid is up: $(ls -l /dev/promisegrid)"

pg-demo recv "$PCID" subscriber 6 - attest >/tmp/subscriber.log 2>&1 &
pg-demo recv "$PCID" worker-1 3 workers >/tmp/worker-1.log 2>&1 &
pg-demo recv "$PCID" worker-2 3 workers >/tmp/worker-2.log 2>&1 &

# Send only once all three receive (their first line says so).
for i in $(seq 100); do
	[ "$(cat /tmp/subscriber.log /tmp/worker-1.log /tmp/worker-2.log |
		grep -c receiving)" -eq 3 ] && break
	sleep 0.1
done
pg-demo send "$PCID" 6
wait
for who in subscriber worker-1 worker-2; do
	echo "== $who"
	cat "/tmp/$who.log"
done
