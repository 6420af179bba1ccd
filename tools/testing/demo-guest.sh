#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The demo, inside the VM (busybox sh). PCID is set by tools/testing/demo.sh.
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

# Functions as a service: example-wordcount-v1 served by two workers of one
# group, called from C (four calls in flight at once), Python and the shell.
WC=$(pg cid /pg/docs/example-wordcount-v1.md)
echo
echo "== functions as a service: $WC (example-wordcount-v1)"
for w in worker-1 worker-2; do
	pg serve "$WC" counters -- sh -c "echo \"\$(wc -w) words, counted by $w\"" \
		2>"/tmp/$w.serve" &
done
for i in $(seq 100); do
	[ "$(cat /tmp/worker-1.serve /tmp/worker-2.serve | grep -c serving)" -eq 2 ] && break
	sleep 0.1
done
cat /tmp/worker-1.serve /tmp/worker-2.serve
wc-call "$WC" "the quick brown fox" "jumps over" "the lazy dog" \
	"a local grid kernel routes by content id"
printf 'Python: %s' "$(echo "hello from python" |
	python3 /pg/python/example.py call \
		"$(pg cid --hex /pg/docs/example-wordcount-v1.md)")"
echo
printf 'shell: %s\n' "$(echo "hello from the shell" | pg call "$WC")"
printf 'shell: %s\n' "$(echo "one more from the shell" | pg call "$WC")"
echo "== module counters"
pg stats | grep -E 'module\.(frames_sent|deliveries|control|drops) '
