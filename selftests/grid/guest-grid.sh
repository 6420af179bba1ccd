#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# One host of the grid test (selftests/grid/check-grid.sh), in the VM.
# The kernel command line says which: pg.role=A (the sender and caller)
# or another letter (a receiver and worker), pg.hosts=A,B,C (all roles)
# and pg.nats=URL,... (the host's nats-servers, as 10.0.2.2). This script
# prints GRID-* lines; the host script judges them and prints the TAP.
# Every wait is bounded.

arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^pg\.$1=//p"; }
role=$(arg role)
hosts=$(arg hosts | tr ',' ' ')
nats=$(arg nats)
# C's bridge reaches the cluster only through its TLS server.
tls=$(arg tls)
# A nats-server that takes only users of its operator's account (JWT
# and nkey creds), alone, outside the cluster.
creds=$(arg creds)
nframes=$(arg frames)
ncalls=$(arg calls)
say() { echo "GRID-$*"; }

# waitlog FILE PATTERN SECONDS: until a line of FILE matches.
waitlog() {
	i=0
	while [ "$i" -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

insmod /pg/promisegrid.ko || { say "FAIL $role insmod"; exit 1; }
cd /tmp || exit 1
# The test's pCIDs: names of three short texts, the same on every host.
echo "pg-grid test: fan-out frames" >fan.txt
echo "pg-grid test: done" >done.txt
echo "pg-grid test: control" >ctl.txt
echo "pg-grid test: a claimed pCID" >clm.txt
echo "pg-grid test: one-way throughput" >bench.txt
echo "pg-grid test: a function served on several hosts" >fn.txt
echo "pg-grid test: interest that is withdrawn" >wd.txt
echo "pg-grid test: exported by nobody, open" >open.txt
echo "pg-grid test: a slow link" >slow.txt
echo "pg-grid test: round trips" >rtt.txt
echo "pg-grid test: round trips on one host" >loc.txt
echo "pg-grid test: round trip phases" >ph.txt
FAN=$(pg cid --hex fan.txt | sed "s/^00//")
DONE=$(pg cid --hex done.txt | sed "s/^00//")
CTL=$(pg cid --hex ctl.txt | sed "s/^00//")
CLM=$(pg cid --hex clm.txt | sed "s/^00//")
BENCH=$(pg cid --hex bench.txt | sed "s/^00//")
nbench=$(arg bench)
brounds=$(arg brounds)	# rounds of the one-way bench
rrounds=$(arg rrounds)	# and of the round trips
rcalls=200		# calls per round trip round (check-grid.sh expects n=200)
FN=$(pg cid --hex fn.txt | sed "s/^00//")
WD=$(pg cid --hex wd.txt | sed "s/^00//")
OPEN=$(pg cid --hex open.txt | sed "s/^00//")
SLOW=$(pg cid --hex slow.txt | sed "s/^00//")
RTT=$(pg cid --hex rtt.txt | sed "s/^00//")
LOC=$(pg cid --hex loc.txt | sed "s/^00//")
PH=$(pg cid --hex ph.txt | sed "s/^00//")
# centiseconds since boot
cs() { tr -d . </proc/uptime | cut -d' ' -f1; }
# ns on a CPU of every thread of process $1 (schedstat's first field)
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }

# Credentials, before the main bridges: A and B each run a bridge with
# the user's creds on the operator-mode server alone (prefix pg.creds),
# and A's frame on CRD must reach B's receiver through it. C's bridge,
# with another operator's user and then with no creds, must be refused
# and say so. Each bridge here stops before the main ones start.
echo "pg-grid test: over a creds-only server" >crd.txt
CRD=$(pg cid --hex crd.txt | sed "s/^00//")
if [ -n "$creds" ]; then
	cb="pg-bridge --nats $creds --host-id $role --prefix pg.creds --export $CRD"
	case $role in
	A)
		$cb --creds /pg/user.creds >creds.json 2>creds.log &
		cpid=$!
		if waitlog creds.log "route +fanout $CRD" 45; then
			pg send "$CRD" '"over creds"' || say "FAIL A send on CRD"
			sleep 1
		else
			say "FAIL A never took CRD"
		fi
		kill -TERM "$cpid"
		wait "$cpid"
		say "CREDS-EXIT A $?"
		;;
	B)
		pg sub --count 1 --timeout 50000 "$CRD" >crd.out 2>&1 &
		spid=$!
		$cb --creds /pg/user.creds >creds.json 2>creds.log &
		cpid=$!
		wait "$spid"
		say "CREDS-GOT B $(tr '\n' ' ' <crd.out)"
		kill -TERM "$cpid"
		wait "$cpid"
		say "CREDS-EXIT B $?"
		;;
	C)
		for how in wrong none; do
			opt=""
			[ "$how" = wrong ] && opt="--creds /pg/wrong.creds"
			# shellcheck disable=SC2086  # $opt is two words or none
			$cb $opt >"creds-$how.json" 2>"creds-$how.log" &
			cpid=$!
			i=0	# it must exit by itself, at once
			while kill -0 "$cpid" 2>/dev/null && [ "$i" -lt 100 ]; do
				sleep 0.1
				i=$((i + 1))
			done
			kill -KILL "$cpid" 2>/dev/null
			wait "$cpid"
			say "CREDS-REFUSED $how rc=$? $(grep -m 1 'nats:' "creds-$how.log")"
		done
		;;
	esac
	cat creds.log creds-*.log 2>/dev/null | sed 's/^/creds: /'
fi

pg sub --raw --timeout 300000 "$FAN" >fan.raw 2>fan.err &
fanpid=$!
# Interest withdrawn: B alone receives WD, for one frame; its close is
# the kernel's route notice to B's bridge, which tells the others.
[ "$role" = B ] && pg sub --count 1 --timeout 120000 "$WD" >wd.out 2>&1 &
# --export-open: no bridge names OPEN; B receives it, so it crosses.
[ "$role" = B ] && pg sub --count 1 --timeout 120000 "$OPEN" >open.out 2>&1 &
# A slow link: B receives SLOW; A's bridge stalls while A sends on it.
[ "$role" = B ] && pg sub --raw --timeout 240000 "$SLOW" >slow.raw 2>slow.err &
[ "$role" = B ] && slowpid=$!
# One worker group spread over the three hosts: each serves, and A also
# calls (its kernel picks between its own worker and its bridge, whose
# share goes to B's or C's).
if [ "$role" = A ]; then
	mode="--call $FN:workers --serve $FN:workers"
else
	mode="--serve $FN:workers"
fi
# A worker: reply "ROLE BODY", and note the body served.
pg serve "$FN" workers -- sh -c \
	'b=$(cat); echo "$b" >>/tmp/served; printf "%s %s" '"$role"' "$b"' \
	2>serve.err &
servepid=$!
# One-way throughput, A to B: through the bridges, and raw NATS
# between the same guests with the same payload sizes.
if [ "$role" = B ]; then
	grid-bench pg-recv "$BENCH" "$nbench" 400000 30000 "$brounds" \
		>bench-pg.out 2>&1 &
	benchpg=$!
	grid-bench nats-sub "$nats" pgtest.raw "$nbench" 400000 30000 "$brounds" \
		>bench-nats.out 2>&1 &
	benchnats=$!
	# Round trips, A to B and back: a C worker on RTT (group echo), found
	# by --export-open, and a cnats responder, both echoing the body.
	grid-bench pg-echo "$RTT" echo 400 >echo-pg.out 2>&1 &
	echopg=$!
	grid-bench nats-echo "$nats" pgtest.rtt 400 >echo-nats.out 2>&1 &
	echonats=$!
fi

# Capabilities stay the kernel's: B and C each claim CLM on their own
# kernel, on fd 3, and receive on it there; only B gives its bridge a
# token. A receives CLM unclaimed.
tok=""
if [ "$role" = A ]; then
	pg sub --timeout 300000 "$CLM" >clm.out 2>clm.err &
	clmpid=$!
else
	exec 3<>/dev/promisegrid
	pg claim --fd 3 "$CLM" >/dev/null || say "FAIL $role claim"
	pg sub --fd 3 "$CLM" || say "FAIL $role sub on the claim"
	[ "$role" = B ] && tok="--token $(pg grant --fd 3 "$CLM")"
fi
sleep 0.5
# shellcheck disable=SC2086  # $mode and $tok are two words each
bridge_nats=$nats
[ -n "$tls" ] && bridge_nats="$tls --tls-ca /pg/ca.pem"
# On CPU 0, with grid-bench's processes (see grid-bench.c for why).
# C's bridge (off the measured paths) also times its loop's stages.
timing=""
[ "$role" = C ] && timing=1
# shellcheck disable=SC2086  # $bridge_nats may carry the TLS option
PG_BRIDGE_TIMING=$timing taskset -c 0 pg-bridge --nats $bridge_nats --no-randomize --host-id "$role" \
	--export "$FAN,$DONE,$CTL,$CLM,$BENCH,$WD,$PH" --export-open $mode $tok \
	>bridge.json 2>bridge.log &
bridgepid=$!
# B: the CPU time of its bridge and echo workers when A's round trips
# start and end (A sends a frame on PH at each), and per call between.
rtt_cpu() {
	[ $# = 6 ] || return 0
	n=$((rrounds * rcalls * 1000))	# ns -> us per call
	say "RTT-CPU B calls=$((rrounds * rcalls)) bridge_us_per_call=$((($4 - $1) / n)) pg_echo_us_per_call=$((($5 - $2) / n)) nats_echo_us_per_call=$((($6 - $3) / n))"
}
if [ "$role" = B ]; then
	pg sub --count 2 --timeout 300000 "$PH" 2>/dev/null | while read -r _; do
		echo "$(cpu_ns "$bridgepid") $(cpu_ns "$echopg") $(cpu_ns "$echonats")"
	done >rtt-cpu.txt &
fi

ok=1
for h in $hosts; do
	[ "$h" = "$role" ] && continue
	waitlog bridge.log "host $h heard" 120 || { ok=0; say "FAIL $role never heard $h"; }
done
waitlog bridge.log "route +fanout $FAN" 10 || ok=0
if [ "$role" = A ]; then
	waitlog bridge.log "route +call $FN workers" 10 || ok=0
fi
[ "$ok" = 1 ] && say "UP $role"

# Every other host heard announces the others too: give their
# subscriptions a moment to reach every server of the cluster.
sleep 2
if [ "$role" = A ]; then
	pg send "$CLM" '"from A"' || say "FAIL A send on CLM"
else
	pg send --fd 3 "$CLM" "\"from $role\"" || say "FAIL $role send on CLM"
fi
if [ "$role" = A ]; then
	seq 1 400 | head -c 1000 >payload
	i=1
	while [ "$i" -le "$nframes" ]; do
		pg send "$FAN" "$i" @payload || say "FAIL A send $i"
		i=$((i + 1))
	done
	start=$(date +%s)
	i=1
	while [ "$i" -le "$ncalls" ]; do
		r=$(echo "call $i" | pg call --timeout 10000 "$FN")
		say "CALL $i rc=$? reply=$r"
		i=$((i + 1))
	done
	say "CALLS-SECONDS $(($(date +%s) - start))"

	# Who answered, as the kernel attests it: the serving host's name,
	# given by its bridge and vouched for by this host's gateway.
	# Until both A's own worker (attested as local) and another host
	# (attested by its name) have answered.
	i=1 local=0 remote=0
	while [ "$i" -le 8 ] && [ $((local * remote)) = 0 ]; do
		r=$(echo "attest $i" | pg call --attest --timeout 10000 "$FN" 2>attest.err)
		say "ATTEST rc=$? reply=$r $(tr '\n' ' ' <attest.err)"
		case $r in
		A*) local=1 ;;
		B* | C*) remote=1 ;;
		esac
		i=$((i + 1))
	done

	# --export-open: OPEN crosses once B's receive is heard of.
	if waitlog bridge.log "route +fanout $OPEN" 10; then
		pg send "$OPEN" '"open to all"' || say "FAIL A send open"
	else
		say "FAIL A never took OPEN"
	fi

	# Interest withdrawn: B's only receive of WD ends after one frame.
	if waitlog bridge.log "route +fanout $WD" 10; then
		pg send "$WD" '"wd"' || say "FAIL A send wd"
		t0=$(cs)
		waitlog bridge.log "route -fanout $WD" 15 &&
			say "WD-WITHDRAWN ms=$((($(cs) - t0) * 10))"
		pg send "$WD" '"late"' 2>wd.err
		say "WD-AFTER rc=$? $(tr '\n' ' ' <wd.err)"
	else
		say "FAIL A never took WD"
	fi

	# A fault: after 3 calls the host kills this host's nats-server
	# (the first of its list); calls go on, each ending in time (answered, or
	# timed out with pg call's status 3), until 10 are answered after
	# the bridge reconnected to another server of the cluster.
	i=1 after=0
	while [ "$i" -le 60 ] && [ "$after" -lt 10 ]; do
		[ "$i" = 4 ] && say "KILL-MY-NATS"
		r=$(echo "fault $i" | pg call --timeout 3000 "$FN")
		rc=$?
		say "FCALL $i rc=$rc reply=$r"
		# Only answers that crossed NATS show that traffic resumed.
		case $rc$r in
		"0B "* | "0C "*)
			grep -q reconnected bridge.log && after=$((after + 1)) ;;
		esac
		i=$((i + 1))
	done
	say "FAULT-AFTER $after"

	# Another: C's bridge dies; once C's interest lapsed, calls go to
	# A's worker and B, and every one is answered.
	pg send "$CTL" '"kill-bridge-C"' || say "FAIL A send ctl"
	waitlog bridge.log "host C gone" 20 && say "C-GONE"
	i=1
	while [ "$i" -le 10 ]; do
		r=$(echo "after $i" | pg call --timeout 5000 "$FN")
		say "ACALL $i rc=$? reply=$r"
		i=$((i + 1))
	done
	# The bench: rounds of raw NATS and the bridges in turn, apart in
	# time.
	r=0
	while [ "$r" -lt "$brounds" ]; do
		grid-bench nats-pub "$nats" pgtest.raw "$nbench" 1051 \
			$((r * nbench)) >>bench.out 2>&1
		sleep 3
		grid-bench pg-send "$BENCH" "$nbench" 1000 $((r * nbench)) \
			>>bench.out 2>&1
		sleep 3
		r=$((r + 1))
	done
	while read -r line; do say "$line"; done <bench.out

	# Round trips: alternating rounds of raw NATS and the bridges, with
	# the CPU time A's bridge took in each (it idles in a NATS round).
	if waitlog bridge.log "route +call $RTT echo" 10; then
		waitlog bridge.log "route +fanout $PH" 10 &&
			pg send "$PH" '"start"'
		for r in $(seq "$rrounds"); do
			c0=$(cpu_ns "$bridgepid")
			grid-bench nats-rtt "$nats" pgtest.rtt "$rcalls" 100 >>rtt.out 2>&1
			c1=$(cpu_ns "$bridgepid")
			grid-bench pg-rtt "$RTT" "$rcalls" 100 >>rtt.out 2>&1
			c2=$(cpu_ns "$bridgepid")
			echo "BRIDGE-CPU round=$r nats_us_per_call=$(((c1 - c0) / (rcalls * 1000))) pg_us_per_call=$(((c2 - c1) / (rcalls * 1000)))" >>rtt.out
		done
		pg send "$PH" '"end"'
		while read -r line; do say "$line"; done <rtt.out
	else
		say "FAIL A never took RTT"
	fi
	# For scale: the same calls to a worker on A itself (no bridge,
	# no NATS), what the kernels and the library cost on one guest.
	grid-bench pg-echo "$LOC" echo 60 >echo-loc.out 2>&1 &
	locpid=$!
	if waitlog echo-loc.out ready 10; then
		grid-bench pg-rtt "$LOC" 200 100 >rtt-loc.out 2>&1
		while read -r line; do say "LOCAL $line"; done <rtt-loc.out
	fi
	kill "$locpid" 2>/dev/null

	# A slow link, as the kernel sees it: the bridge does not read
	# (stopped) while A sends 200 frames on SLOW, with a queue of 64
	# frames per receiver. The kernel refuses what no queue takes
	# (ENOBUFS to the sender) and tells the bridge how many it lost.
	if waitlog bridge.log "route +fanout $SLOW" 10; then
		q=$(cat /sys/module/promisegrid/parameters/queue_frames)
		echo 64 >/sys/module/promisegrid/parameters/queue_frames
		kill -STOP "$bridgepid"
		i=1 refused=0
		while [ "$i" -le 200 ]; do
			pg send "$SLOW" "$i" 2>/dev/null || refused=$((refused + 1))
			i=$((i + 1))
		done
		kill -CONT "$bridgepid"
		sleep 3
		echo "$q" >/sys/module/promisegrid/parameters/queue_frames
		kill -USR1 "$bridgepid"
		sleep 1
		say "SLOW refused=$refused $(tail -n 1 bridge.json |
			sed -n 's/.*"kernel":\([0-9]*\).*/kernel_dropped=\1/p')"
	else
		say "FAIL A never took SLOW"
	fi
	sleep 2
	pg send "$DONE" '"done"' || say "FAIL A send done"
elif [ "$role" = C ]; then
	# C's bridge is killed (SIGKILL, after its counters) when A says.
	pg sub --count 1 --timeout 240000 "$CTL" >ctl.out 2>&1 ||
		say "FAIL C no control frame"
	kill -USR1 "$bridgepid"
	sleep 0.5
	kill -KILL "$bridgepid"
	say "BRIDGE-KILLED C"
else
	pg sub --count 1 --timeout 300000 "$DONE" >done.out 2>&1 ||
		say "FAIL $role no done frame"
	wait "$benchpg" "$benchnats"
	cat bench-nats.out bench-pg.out | grep '^BENCH' |
		while read -r line; do say "$line"; done
	# shellcheck disable=SC2046  # six numbers
	[ "$role" = B ] && rtt_cpu $(tr '\n' ' ' <rtt-cpu.txt)
fi
# Late duplicates (a loop) would come now.
sleep 3
kill "$fanpid" ${servepid:+"$servepid"} ${clmpid:+"$clmpid"} \
	${slowpid:+"$slowpid"} 2>/dev/null
wait "$fanpid" ${servepid:+"$servepid"} ${clmpid:+"$clmpid"} 2>/dev/null
if [ "$role" = A ]; then
	cat clm.out >clm.all
else
	pg recv --fd 3 --timeout 500 >clm.all 2>/dev/null
fi
for f in A B C; do
	say "CLM $role from-$f=$(grep -c "\"from $f\"" clm.all)"
done
[ "$role" = B ] && say "OPEN B $(tr '\n' ' ' <open.out)"
# grid([42(SLOW), i]) is 48 bytes for i <= 23, 49 up to 255.
[ "$role" = B ] && say "SLOW B bytes=$(wc -c <slow.raw)"
say "FAN $role bytes=$(wc -c <fan.raw) sha=$(sha256sum <fan.raw | cut -d' ' -f1)"
if [ -f served ]; then
	while read -r line; do say "SERVED $role $line"; done <served
fi
kill -TERM "$bridgepid"
wait "$bridgepid"
say "BRIDGE-EXIT $role $?"
say "STATS $(tail -n 1 bridge.json)"
cat bridge.log
exit 0
