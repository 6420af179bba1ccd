#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check-grid: the grid across hosts (issue 14), with real servers.
# A cluster of three nats-server processes on the host's loopback
# (127.0.0.1, client ports PG_GRID_PORT.. +2, route ports +2000..), and
# three QEMU guests (tools/testing/vm/run.sh --net: each reaches the host's
# loopback as 10.0.2.2), each with the module, pg and pg-bridge, each
# connecting first to a different server. A sends fan-out frames and
# calls a function that B and C serve in one worker group; the guests
# print GRID-* lines (selftests/grid/guest-grid.sh) and this script
# judges them and prints TAP. A fifth server, alone, takes only users
# of its operator's account (JWT and nkey creds made at run time by
# nats-creds.py): A and B bridge one frame through it first, and C's
# bridge, with wrong or no creds, is refused. Installs nats-server,
# libnats-dev and python3-cryptography.
#   PG_GRID_FRAMES (20), PG_GRID_CALLS (40), PG_GRID_BENCH (2000 frames
#   of 1051 bytes, one way A to B, through the bridges and raw NATS),
#   PG_KERNEL (6.1), PG_GRID_PORT (24222), PG_GRID_ICOUNT (0; 1: CPU
#   per call in instructions, see below)
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2

frames=${PG_GRID_FRAMES:-20}
[ "$frames" -ge 1 ] && [ "$frames" -le 23 ] ||
	{ echo "PG_GRID_FRAMES: 1 to 23"; exit 2; }
calls=${PG_GRID_CALLS:-300}	# the issue asks for 300 calls, each exactly once
nbench=${PG_GRID_BENCH:-2000}
# Rounds of the one-way bench and of the round trips (passed to the
# guests): single rounds move by more than the targets' margins. Nine
# round trip rounds of about a second each: with four, one burst of
# load on this host's two cores moved the median by 0.2x.
brounds=5 rrounds=9
kernel=${PG_KERNEL:-6.1}
port=${PG_GRID_PORT:-24222}
# PG_GRID_ICOUNT=1: the guests count instructions while they run (QEMU
# -icount, sleep=on, one vCPU), so the CPU times per call the round
# trips report are instruction counts (a virtual us is a thousand) that do
# not depend on the host's load; the wall-clock figures then do.
vmopts=()
[ "${PG_GRID_ICOUNT:-0}" = 0 ] || vmopts=(--icount-sleep --smp 1)
roles=(A B C)
tmp=$(mktemp -d)
pids=()
pass=0 fail=0

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $*"; }
nok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - $*"; }
check() {	# check NAME CONDITION...
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}

need=()
for p in nats-server libnats-dev python3-cryptography; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "# installing ${need[*]}"
	apt-get update -qq &&
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${need[@]}" >/dev/null || exit 1
fi
tools/deps.sh
make -s -C userland/pg >/dev/null && make -s -C userland/bridge >/dev/null &&
	make -s -C selftests/grid >/dev/null ||
	{ echo "Bail out! build failed"; exit 1; }
abi=$(tools/testing/vm/fetch-kernel.sh "$kernel" | tail -n 1)
abi=${abi#ABI=}
tools/testing/vm/build-module.sh "$abi" >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log"; echo "Bail out! module build failed"; exit 1; }

# The NATS cluster: three servers, full mesh of routes, on 127.0.0.1.
for p in $port $((port + 1)) $((port + 2)) $((port + 3)) $((port + 4)) $((port + 2000)) $((port + 2001)) $((port + 2002)) $((port + 2003)); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		echo "Bail out! 127.0.0.1:$p is in use: set PG_GRID_PORT to another base"
		exit 1
	fi
done
urls=()
for i in 0 1 2; do
	urls+=("nats://10.0.2.2:$((port + i))")
	routes=""
	for j in 0 1 2; do
		[ "$j" = "$i" ] && continue
		routes="$routes${routes:+,}nats://127.0.0.1:$((port + 2000 + j))"
	done
	# --no_advertise: the guests would read 127.0.0.1 as their own.
	nats-server -a 127.0.0.1 -p $((port + i)) -n "pg-grid-$i" \
		--cluster_name pg-grid --cluster "nats://127.0.0.1:$((port + 2000 + i))" \
		--routes "$routes" --no_advertise >"$tmp/nats$i.log" 2>&1 &
	pids+=($!)
done
# A fourth server of the cluster takes clients only over TLS, with a
# certificate from a CA made here; C's bridge connects to it alone.
(
	cd "$tmp" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pg-grid-ca \
		-keyout ca.key -out ca.pem &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=pg-grid-nats \
		-keyout srv.key -out srv.csr &&
	echo "subjectAltName=IP:10.0.2.2,IP:127.0.0.1" >srv.ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 2 -extfile srv.ext -out srv.pem
) >"$tmp/tls.log" 2>&1 || { cat "$tmp/tls.log"; echo "Bail out! openssl failed"; exit 1; }
nats-server -a 127.0.0.1 -p $((port + 3)) -n pg-grid-tls -D \
	--tls --tlscert "$tmp/srv.pem" --tlskey "$tmp/srv.key" \
	--cluster_name pg-grid --cluster "nats://127.0.0.1:$((port + 2003))" \
	--routes "nats://127.0.0.1:$((port + 2000)),nats://127.0.0.1:$((port + 2001)),nats://127.0.0.1:$((port + 2002))" \
	--no_advertise >"$tmp/nats3.log" 2>&1 &
pids+=($!)
tls_url="tls://10.0.2.2:$((port + 3))"
# The fifth: operator mode (a MEMORY resolver with the account's JWT),
# not in the cluster; only the user's creds get in.
mkdir -m 700 "$tmp/creds" &&
	/usr/bin/python3 selftests/grid/nats-creds.py "$tmp/creds" >"$tmp/creds.out" 2>&1 ||
	{ cat "$tmp/creds.out"; echo "Bail out! nats-creds.py failed"; exit 1; }
nats-server -c "$tmp/creds/server.conf" -a 127.0.0.1 -p $((port + 4)) \
	-n pg-grid-creds >"$tmp/nats4.log" 2>&1 &
pids+=($!)
creds_url="nats://10.0.2.2:$((port + 4))"
for i in 0 1 2 3 4; do
	for _ in $(seq 1 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$((port + i))") 2>/dev/null && break
		sleep 0.2
	done
done
echo "# nats-server $(nats-server --version | head -n 1) x3 on 127.0.0.1:$port..$((port + 2)), one TLS-only on $((port + 3)), one creds-only on $((port + 4)) ($(cat "$tmp/creds.out"))"

# On the host: the binary and its options (no module needed).
br=userland/bridge/build/pg-bridge
check "host: pg-bridge is linked with Debian's cnats ($(ldd "$br" | awk '/libnats/ { print $3 }'))" \
	sh -c "ldd '$br' | grep -q '=> /lib/x86_64-linux-gnu/libnats.so'"
bad=0
for args in "" "--nats n --host-id a.b" "--nats n --host-id 'a b'" \
	"--nats n --host-id a --prefix a..b" "--nats n --host-id a --export nope" \
	"--nats n --host-id a --serve bafkreidtzm4frjuhvbeuzizsgbjqcyuc6pnnhhkcz5rmuttz3wrkvr6zvq" \
	"--nats n --host-id a --export bafkreidtzm4frjuhvbeuzizsgbjqcyuc6pnnhhkcz5rmuttz3wrkvr6zvq --call bafkreidtzm4frjuhvbeuzizsgbjqcyuc6pnnhhkcz5rmuttz3wrkvr6zvq:g" \
	"--nats n --host-id a --token 00" \
	"--nats n --host-id a --export-open --creds '$tmp/creds/none.creds'"; do
	eval "\"$br\" $args" >/dev/null 2>&1
	rc=$?
	[ "$rc" = 2 ] || { bad=$((bad + 1)); echo "# pg-bridge $args: exit $rc, not 2"; }
done
check "host: pg-bridge refuses bad options with exit 2 (9 cases, an unreadable --creds one)" test "$bad" = 0

# The guests, each with the servers in its own order (A starts on the
# first, B on the second, C on the third).
# Kill A's first server when A says so (bounded like the VMs).
(
	for _ in $(seq 1 4800); do
		if grep -q '^GRID-KILL-MY-NATS' "$tmp/A.log" 2>/dev/null; then
			kill "${pids[0]}"
			echo "# killed nats-server pg-grid-0 (pid ${pids[0]})"
			break
		fi
		sleep 0.1
	done
) &
pids+=($!)
k=0
for r in "${roles[@]}"; do
	list=""
	for j in 0 1 2; do
		list="$list${list:+,}${urls[$(((k + j) % 3))]}"
	done
	tls=""
	[ "$r" = C ] && tls="pg.tls=$tls_url"
	# A and B get the user's creds; C another operator's user's.
	cf=user
	[ "$r" = C ] && cf=wrong
	tools/testing/vm/run.sh --kernel "$kernel" --no-build --net --timeout 480 "${vmopts[@]}" \
		--mem 512 --bin userland/pg/build/pg --file "$tmp/ca.pem:/pg/ca.pem" \
		--file "$tmp/creds/$cf.creds:/pg/$cf.creds" \
		--bin userland/bridge/build/pg-bridge \
		--bin selftests/grid/build/grid-bench \
		--append "pg.role=$r pg.hosts=A,B,C pg.nats=$list pg.frames=$frames pg.calls=$calls pg.bench=$nbench pg.brounds=$brounds pg.rrounds=$rrounds pg.creds=$creds_url $tls" \
		--script selftests/grid/guest-grid.sh --log "$tmp/$r.log" \
		>"$tmp/$r.out" 2>&1 &
	pids+=($!)
	eval "vm_$r=$!"
	k=$((k + 1))
done
for r in "${roles[@]}"; do
	eval "wait \$vm_$r"
	echo "$?" >"$tmp/$r.rc"
done

for r in "${roles[@]}"; do
	echo "# --- guest $r ---"
	grep -hE '^(GRID-|pg-bridge|PG-VM|creds: .*nats:)' "$tmp/$r.log" 2>/dev/null |
		grep -vE '^GRID-(CALL|SERVED|STATS) ' | sed 's/^/# /' | head -n 100
	grep -h '^run.sh:' "$tmp/$r.out" | sed 's/^/# /'
done
g() { grep -h "^GRID-$1" "$tmp/$2.log" 2>/dev/null; }

for r in "${roles[@]}"; do
	check "guest $r: module, bridge up, every other host heard (VM exit $(cat "$tmp/$r.rc"))" \
		test "$(cat "$tmp/$r.rc")" = 0 -a -n "$(g "UP $r" "$r")"
done

# Case 1: fan-out, byte-exact and exactly once. A's own local receiver
# has the frames as sent; B's and C's must be the same bytes, with no
# frame missing or repeated (and none coming back to A).
fa=$(g "FAN A" A)
fb=$(g "FAN B" B)
fc=$(g "FAN C" C)
echo "# $fa"
echo "# $fb"
echo "# $fc"
bytes_a=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$fa")
# grid([42(FAN), i, h'1000 bytes']) is 1051 bytes for i <= 23.
check "fan-out: A's $frames frames, each once at A (no loop back), $bytes_a bytes" \
	test "${bytes_a:-0}" = $((frames * 1051))
check "fan-out: B got A's frames byte-exact, each exactly once" \
	test -n "$fa" -a "${fb#GRID-FAN B }" = "${fa#GRID-FAN A }"
check "fan-out: C got A's frames byte-exact, each exactly once" \
	test -n "$fa" -a "${fc#GRID-FAN C }" = "${fa#GRID-FAN A }"

# Case 2: one worker group on A, B and C; A calls.
answered=0 wrong=0 by_a=0 by_b=0 by_c=0
for i in $(seq 1 "$calls"); do
	line=$(g "CALL $i " A | head -n 1)
	case $line in
	"GRID-CALL $i rc=0 reply=A call $i") answered=$((answered + 1)); by_a=$((by_a + 1)) ;;
	"GRID-CALL $i rc=0 reply=B call $i") answered=$((answered + 1)); by_b=$((by_b + 1)) ;;
	"GRID-CALL $i rc=0 reply=C call $i") answered=$((answered + 1)); by_c=$((by_c + 1)) ;;
	*) wrong=$((wrong + 1)); [ "$wrong" -le 5 ] && echo "# unexpected: ${line:-no line for call $i}" ;;
	esac
done
echo "# calls: $answered of $calls answered ($by_a by A, $by_b by B, $by_c by C) in $(g CALLS-SECONDS A | cut -d' ' -f2) s"
check "group: $calls calls from A, each answered by a member on A, B or C" \
	test "$answered" = "$calls"
served=$( (g "SERVED A" A; g "SERVED B" B; g "SERVED C" C) | sed 's/^GRID-SERVED [A-Z] //' | sort)
dups=$(uniq -d <<<"$served" | grep -c . || true)
nserved=$(grep -c '^call ' <<<"$served" || true)
echo "# served: $nserved of the $calls calls; $dups bodies served twice in the whole run"
check "group: each call served exactly once across A, B and C, none twice in the run" \
	test "$nserved" = "$calls" -a "$dups" = 0
check "group: all three hosts served (A $by_a, B $by_b, C $by_c)" \
	test "$by_a" -gt 0 -a "$by_b" -gt 0 -a "$by_c" -gt 0

# Gateways: the reply's attestation names the host that served it.
att=$(g ATTEST A)
echo "# $att"
check "gateway: pg call --attest on A names the serving host (B or C) as the kernel attests it" \
	grep -qE '^GRID-ATTEST rc=0 reply=([BC]) attest .*host \1( |$)' <<<"$att"
check "gateway: an answer from A's own worker is attested as local (null host)" \
	grep -qE '^GRID-ATTEST rc=0 reply=A attest .*host local( |$)' <<<"$att"
check "gateway: no frame came back to its bridge (own_skipped 0 with kernel gateways)" \
	test -n "$(g STATS A)" -a -z "$( (g STATS A; g STATS B) | grep -v '"gateway":true,"watching":true' )" \
	-a -z "$( (g STATS A; g STATS B) | grep -v '"own_skipped":0,' )"

# TLS: C's bridge spoke to the cluster only through the TLS server, so
# every case above that C took part in crossed TLS.
check "TLS: C's bridge connected over TLS with the CA given by --tls-ca (server: handshake complete)" \
	grep -q 'TLS handshake complete' "$tmp/nats3.log"
check "TLS: C got A's fan-out frames and served calls through it" \
	test -n "$fc" -a "${by_c:-0}" -gt 0

# Credentials: A's and B's bridges, with the user's creds, used only the
# creds-only server; C's were refused.
echo "# $(g "CREDS-GOT B" B)"
g CREDS-REFUSED C | sed 's/^/# /'
check "creds: A's frame crossed to B through bridges that had only the creds-only server (--creds)" \
	grep -q '"over creds"' <<<"$(g "CREDS-GOT B" B)"
check "creds: both of those bridges connected (A heard B) and exited 0" \
	test "$(g CREDS-EXIT A)" = "GRID-CREDS-EXIT A 0" -a \
	"$(g CREDS-EXIT B)" = "GRID-CREDS-EXIT B 0" -a \
	-n "$(grep -h '^creds: pg-bridge\[A\]: host B heard' "$tmp/A.log")"
check "creds: C's bridge with another operator's user was refused: it said so and exited 1" \
	grep -qE '^GRID-CREDS-REFUSED wrong rc=1 .*nats: .*Authorization Violation' <<<"$(g CREDS-REFUSED C)"
check "creds: C's bridge without creds was refused: it said so and exited 1" \
	grep -qE '^GRID-CREDS-REFUSED none rc=1 .*nats: .*Authorization Violation' <<<"$(g CREDS-REFUSED C)"
nauth=$(grep -c 'authentication error' "$tmp/nats4.log" || true)
check "creds: the server logged C's two refusals ($nauth), and no bridge heard C there" \
	test "$nauth" -ge 2 -a -z "$(grep -h '^creds: pg-bridge\[[AB]\]: host C heard' "$tmp/A.log" "$tmp/B.log")"

# --export-open: no bridge was told OPEN; B's receive made it cross.
echo "# $(g "OPEN B" B)"
check "export-open: A's frame on a pCID no bridge named reached B's receiver" \
	grep -q 'open to all' <<<"$(g "OPEN B" B)"

# A slow link: A's bridge stalled; what its kernel queue could not hold
# was refused to the sender, counted in the drop notice the bridge read,
# and the rest crossed.
slow=$(g "SLOW refused" A)
slowb=$(g "SLOW B" B)
echo "# $slow; $slowb"
refused=$(sed -n 's/.*refused=\([0-9]*\).*/\1/p' <<<"$slow")
kdrop=$(sed -n 's/.*kernel_dropped=\([0-9]*\).*/\1/p' <<<"$slow")
check "slow link: the kernel refused what the stalled bridge's queue could not hold (${refused:-?} of 200), and its drop notice told the bridge (${kdrop:-?})" \
	test -n "$refused" -a "${refused:-0}" -gt 0 -a "${kdrop:-x}" = "${refused:-y}"
# B got the frames A's kernel queued: 200 - refused, 23 of 48 bytes, the rest 49.
nq=$((200 - ${refused:-200}))
want=$(( nq <= 23 ? nq * 48 : 23 * 48 + (nq - 23) * 49 ))
check "slow link: B got exactly the $nq frames the bridge's queue held" \
	test "$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$slowb")" = "$want"

# Interest withdrawn: B's last receive of WD closed; A's bridge stopped
# taking WD, and a send on it found no receiver.
wd=$(g WD-WITHDRAWN A)
echo "# ${wd:-no withdrawal seen} $(g WD-AFTER A)"
check "interest: B's unreceive withdrew A's forwarding of WD within 3 s (${wd#GRID-WD-WITHDRAWN })" \
	test -n "$wd" -a "$(sed -n 's/.*ms=\([0-9]*\).*/\1/p' <<<"$wd")" -le 3000
check "interest: then a send on WD on A is EHOSTUNREACH" \
	grep -q 'EHOSTUNREACH' <<<"$(g WD-AFTER A)"

# Fault: A's nats-server killed mid-stream.
fcalls=$(g "FCALL " A)
nf=$(grep -c . <<<"$fcalls" || true)
lost=$(grep -c ' rc=3 ' <<<"$fcalls" || true)
other=$(grep -vcE ' rc=(0|3) ' <<<"$fcalls" || true)
rstats=$(g STATS A)
reconn=$(sed -n 's/.*"reconnects":\([0-9]*\).*/\1/p' <<<"$rstats")
echo "# server kill: $nf calls, $lost timed out (lost in flight), A's bridge reconnected ${reconn:-?} times"
check "server killed: every call during the fault ended in time (answered or timed out)" \
	test "$nf" -gt 0 -a "$other" = 0
check "server killed: A's bridge reconnected to another server of the cluster" \
	test "${reconn:-0}" -ge 1
check "server killed: traffic resumed (10 calls answered by B or C after the reconnect)" \
	test "$(g FAULT-AFTER A | cut -d' ' -f2)" = 10

# Fault: C's bridge killed.
acalls=$(g "ACALL " A)
byab=$(grep -cE '^GRID-ACALL ([0-9]+) rc=0 reply=[AB] after \1$' <<<"$acalls" || true)
echo "# bridge kill: $(g BRIDGE-KILLED C) $(g C-GONE A); after it $byab of 10 calls answered by A or B"
check "bridge killed: A saw C's interest lapse" test -n "$(g C-GONE A)"
check "bridge killed: the next 10 calls all answered, by A or B" test "$byab" = 10
# Claimed pCIDs: B and C each claimed CLM; only B's bridge had a token.
clm() { g "CLM $1" "$1" | sed -n "s/.*from-$2=\([0-9]*\).*/\1/p"; }
echo "# CLM at A: from B $(clm A B), from C $(clm A C); at B: from A $(clm B A); at C: from A $(clm C A), from B $(clm C B)"
echo "pg-grid test: a claimed pCID" >"$tmp/clm.txt"
clmhex=$(userland/pg/build/pg cid --hex "$tmp/clm.txt" | sed 's/^00//')
cfail=$(g STATS C | grep -o "\"pcid\":\"$clmhex\",[^}]*" |
	sed -n 's/.*"inject_failed":\([0-9]*\).*/\1/p')
echo "# C's bridge refused ${cfail:-?} injections on the claimed pCID"
check "claimed: without a token, C's frame on its claimed pCID did not leave C" \
	test "$(clm A C)" = 0 -a "$(clm C C)" = 1
check "claimed: with B's token its claimed pCID crossed both ways, once each" \
	test "$(clm A B)" = 1 -a "$(clm B A)" = 1
check "claimed: frames from other hosts did not enter C without a token (refused and counted)" \
	test "$(clm C A)" = 0 -a "$(clm C B)" = 0 -a "${cfail:-0}" -ge 1

# A and B stop their bridges with SIGTERM at the end (C's was killed).
grep -hE 'Sanitizer|runtime error' "$tmp/A.log" "$tmp/B.log" "$tmp/C.log" |
	head -n 20 | sed 's/^/# /'
check "bridges A and B exited 0 on SIGTERM" \
	test "$(g "BRIDGE-EXIT A" A)" = "GRID-BRIDGE-EXIT A 0" -a \
	"$(g "BRIDGE-EXIT B" B)" = "GRID-BRIDGE-EXIT B 0"

# Round trips (informative, but every call must be answered): a call
# through the bridges against a NATS request, same guests, same body.
rtts=$(g "RTT " A)
echo "${rtts//GRID-/# }"
# Where a round's time went on A: the CPU time per call of the caller
# (RTT's cpu_us_per_call) and of A's bridge (schedstat, in the guest's
# clock, so it counts time QEMU was not running as well).
g "BRIDGE-CPU" A | sed 's/^GRID-/# A: /'
g "RTT-CPU" B | sed 's/^GRID-/# B: /'
check "round trip: $rrounds x 200 calls through the bridges, each answered" \
	test "$(grep -c '^GRID-RTT pg n=200 ' <<<"$rtts")" = "$rrounds"
# Which NATS server each side was on by then: a path across two servers
# crosses a cluster route, one more hop each way.
on() { grep -hoE "^pg-bridge\[$1\]: (re)?connected to [^ ]+" "$tmp/$1.log" | tail -n 1 | sed 's/.* to //'; }
echo "# servers at the end: bridges A $(on A), B $(on B); raw NATS client on A $(g "grid-bench: on" A | tail -n 1 | sed 's/.* on //')"
loc=$(g "LOCAL RTT pg" A | sed -n 's/.* median_us=\([0-9]*\) .*/\1/p')
echo "# local round trip on A (a worker on A itself, no bridge, no NATS): median ${loc:-?} us"
awk '/^GRID-RTT nats/ { split($5, a, "="); n[++i] = a[2] }
     /^GRID-RTT pg/ { split($5, a, "="); p[++j] = a[2] }
     END { for (k = 1; k <= i && k <= j; k++)
		if (n[k] > 0)
			printf "# round %d: median round trip %.2fx raw NATS (%d us vs %d us)\n", k, p[k] / n[k], p[k], n[k] }' <<<"$rtts"

# The bench (informative, but every frame must arrive once): rounds of
# N, raw NATS and the bridges in turn; per round the ratio of rates is
# raw time / bridge time, and the median of the rounds is given.
bpg=$(g "BENCH pg" B)
bnats=$(g "BENCH nats" B)
echo "# raw NATS A->B:  ${bnats#GRID-BENCH nats }"
echo "# via bridges:    ${bpg#GRID-BENCH pg }"
rp=$(sed -n 's/.* rounds=\([0-9,]*\).*/\1/p' <<<"$bpg")
rn=$(sed -n 's/.* rounds=\([0-9,]*\).*/\1/p' <<<"$bnats")
if [ -n "$rp" ] && [ -n "$rn" ]; then
	awk -v p="$rp" -v r="$rn" -v n="$nbench" 'BEGIN {
		k = split(p, a, ","); split(r, b, ",")
		for (i = 1; i <= k; i++) {
			x[i] = (a[i] > 0) ? b[i] / a[i] : 0
			fa = (a[i] > 0) ? n * 1e6 / a[i] : 0
			fb = (b[i] > 0) ? n * 1e6 / b[i] : 0
			printf "# round %d: bridges %d/s, raw NATS %d/s, ratio %.2f\n", i, fa, fb, x[i]
		}
		# the median: sort the k ratios
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
			if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
		printf "# one-way throughput, frames of about 1050 bytes, bridges / raw NATS: median ratio %.2f (first to last arrival at B, under TCG)\n", x[int((k + 1) / 2)]
	}'
fi
check "bench: $brounds x $nbench frames A to B through the bridges, each exactly once" \
	test -n "$bpg" -a -z "$(grep -v " n=$((brounds * nbench)) dup=0 missing=0 " <<<"$bpg")"
# The bench's sender writes 64 frames at a time: A's bridge read them
# together and sent runs of them as one NATS message each.
apub=$(g STATS A | sed -n 's/.*"published":\([0-9]*\),"published_messages":\([0-9]*\),.*/\1 \2/p')
echo "# A's bridge published ${apub% *} frames in ${apub#* } NATS messages"
check "bench: A's bridge packed runs of frames into fewer NATS messages" \
	test -n "$apub" -a "${apub#* }" -gt 0 -a "$((${apub% *} / 2))" -gt "${apub#* }"

ctime=$(g STATS C | sed -n 's/.*"timing":{"nats_io":{"n":\([0-9]*\),.*"from_nats":{"n":\([0-9]*\),.*/\1 \2/p')
check "stats: PG_BRIDGE_TIMING=1 timed C's loop (${ctime:-no timing}), and A's counters have no timing" \
	test -n "$ctime" -a "${ctime% *}" -gt 0 -a "${ctime#* }" -gt 0 -a \
	-z "$(g STATS A | grep '"timing"')"

for r in "${roles[@]}"; do
	echo "# bridge $r: $(g "STATS" "$r" | sed 's/^GRID-STATS //')"
done
echo "1..$((pass + fail))"	# TAP allows the plan last
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
