#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Where the instructions go: perf in the guest under QEMU's -icount.
# Boots tools/testing/vm/run.sh --icount --smp 1 with Debian's perf (linux-perf,
# installed on the host if missing) and, for each CASE, runs
# `pgbench --profile CASE` under `perf record -e cpu-clock -c PERIOD -a -g`.
# Under -icount the guest's clock counts instructions, so the cpu-clock
# timer samples every PERIOD guest instructions: a profile of instruction
# counts. Prints, per case, the flat profile (self), the inclusive one
# (children) and the split by process; keeps it in
# tools/bench/build/profile.txt. Not part of make bench (make bench-profile).
#
#   tools/bench/profile.sh [--kernel V] [--periods "N..."] [--size B]
#                          [--count N] [CASE...]
# --count: messages of each case (20000; a quarter of it round trips for
# pgrtt). Under -icount a case's loop is so regular that a fixed sampling
# period aliases with it: one period alone put pg1's system-call share at
# 18 % and another at 8 %. So each case runs once under perf for each of
# --periods (instructions between samples; six numbers near 23 000 to
# 50 000 by default) and each bucket's share is the mean over the runs,
# with its range. The folded call chains go through profile-buckets.awk:
# the issue's candidates, each with its share of the samples and of the
# instructions per message measured without perf.
# CASEs: pg1 (default), pgbatch, pgrtt, mq1, pipe1 (see pgbench --help).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

vmargs=()
periods="50021 43013 37501 31013 27011 23003"
size=64
count=20000
cases=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) vmargs+=(--kernel "$2"); shift 2 ;;
	--periods) periods=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--count) count=$2; shift 2 ;;
	-*) echo "usage: $0 [--kernel V] [--periods 'N...'] [--size B] [--count N] [CASE...]" >&2
	    exit 2 ;;
	*) cases+=("$1"); shift ;;
	esac
done
[ "${#cases[@]}" -gt 0 ] || cases=(pg1)

out=tools/bench/build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tools/deps.sh vm >/dev/null
if ! dpkg-query -W -f='${Status}' linux-perf 2>/dev/null | grep -q "ok installed"; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends linux-perf >&2
fi
perf=$(command -v perf)
make -s -C tools/bench

cat >"$tmp/guest.sh" <<EOF
#!/bin/sh
set -u
dmesg -n 1
insmod /pg/promisegrid.ko
i=0
while [ ! -c /dev/promisegrid ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done
# perf resolves the module's symbols from its file
mkdir -p /lib/modules/\$(uname -r)/extra
cp /pg/promisegrid.ko /lib/modules/\$(uname -r)/extra/
echo -1 >/proc/sys/kernel/perf_event_paranoid
echo 0 >/proc/sys/kernel/kptr_restrict
status=0
for c in ${cases[*]}; do
	echo "PROFILE-BEGIN \$c"
	# the cost without perf, then the same case under perf
	pgbench --profile \$c --size $size --count-n $count || status=1
	for p in $periods; do
		perf record -q -e cpu-clock -c \$p -a -g -o /tmp/perf.\$c.\$p \\
			-- pgbench --profile \$c --size $size --count-n $count ||
			status=1
	done
	p=${periods%% *}
	echo "## \$c: self (flat), symbols above 0.3 %, period \$p"
	perf report -i /tmp/perf.\$c.\$p --stdio --no-children --sort sym -g none \\
		--percent-limit 0.3 2>/dev/null | grep -v '^#' | grep -v '^\$'
	echo "## \$c: by process (pid), period \$p"
	perf report -i /tmp/perf.\$c.\$p --stdio --no-children --sort pid -g none \\
		2>/dev/null | grep -v '^#' | grep -v '^\$' | head -8
	echo "## \$c: inclusive (children), symbols above 1 %, period \$p"
	perf report -i /tmp/perf.\$c.\$p --stdio --children --sort sym -g none \\
		--percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^\$' |
		grep -v ' \\[\\.\\] 0x'
	echo "## \$c: call chains (folded)"
	for p in $periods; do
		echo "## period \$p"
		perf report -i /tmp/perf.\$c.\$p --stdio --no-children \\
			--sort comm,sym -g folded,0,caller,count 2>/dev/null |
			grep -v '^\$'
		rm -f /tmp/perf.\$c.\$p
	done
	echo "PROFILE-END \$c"
done
exit \$status
EOF

status=0
tools/testing/vm/run.sh --icount --smp 1 --timeout 900 "${vmargs[@]}" \
	--bin "$out/pgbench" --bin "$perf" --script "$tmp/guest.sh" \
	--log "$out/profile-console.log" >/dev/null || status=$?
console=$out/profile-console.log
{
	echo "# tools/bench/profile.sh --periods '$periods' --size $size --count $count ${cases[*]}"
	echo "# tree $(git describe --always --dirty 2>/dev/null || echo unknown)," \
	     "$(date -u '+%Y-%m-%d %H:%M UTC'), QEMU -icount shift=0, -smp 1"
	grep -E '^PG-VM: booted' "$console" || true
	for c in "${cases[@]}"; do
		sed -n "/^PROFILE-BEGIN $c\$/,/^PROFILE-END $c\$/p" "$console" \
			>"$tmp/$c"
		cost=$(sed -n 's/.*messages, \([0-9]*\) virtual ns per message.*/\1/p' \
			"$tmp/$c" | head -1)
		echo
		echo "## $c: where the instructions go ($cost per message without perf)"
		echo
		sed -n '/## .*call chains (folded)/,$p' "$tmp/$c" |
			awk -v cost="$cost" -f tools/bench/profile-buckets.awk
		echo
		sed '/## .*call chains (folded)/,$d' "$tmp/$c"
	done
} >"$out/profile.txt"
echo "profile: $out/profile.txt (VM status $status)" >&2
exit "$status"
