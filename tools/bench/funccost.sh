#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Exact instruction counts of single functions on the one-frame paths:
# ftrace's function_graph tracer in the guest under QEMU's -icount, where
# the trace clock counts guest instructions, so a traced function's
# duration is the instructions it ran (with its callees and the tracer's
# own exit hook: calibrated on pg_ep_put, which does next to nothing).
# Runs `pgbench --profile CASE` (one frame per write and per read, 64 B)
# once per group of functions; the functions of one group never call one
# another, so no traced call sits inside another's duration. A function
# that may sleep (pg_ep_read, schedule) would count the other process's
# instructions too: the read path is measured in its pieces.
#
#   tools/bench/funccost.sh [--kernel V] [--count N] [--size B] [CASE]
# Writes tools/bench/build/funccost.txt: per function, calls per message,
# mean and median instructions per call, instructions per message.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

vmargs=()
count=2000
size=64
case_=pg1
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) vmargs+=(--kernel "$2"); shift 2 ;;
	--count) count=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	-*) echo "usage: $0 [--kernel V] [--count N] [--size B] [CASE]" >&2; exit 2 ;;
	*) case_=$1; shift ;;
	esac
done

# Groups: none of a group's functions calls another of the same group.
groups=(
	"pg_ep_put"
	"pg_send"
	"vfs_write"
	"pg_frame_scan pg_authorize pg_route_send pg_wakeups_flush pg_buf_alloc pg_buf_put"
	"pg_ep_deliver pg_kernel_pcid"
	"kvmalloc_node kvfree pg_cid_obj_cmp_pg_route"
	"pg_ep_read_notice mutex_lock_interruptible mutex_unlock"
	"__wake_up pg_authorize_deliveries"
	"security_file_permission __fdget_pos"
	"pg_ep_read _copy_to_iter kmalloc_size_roundup"
	"pg_route_find pg_authorize_frame pg_ep_deliver_via pg_stat_inc"
	"bpf_trace_run1 __pg_caps_rights"
)

out=tools/bench/build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tools/deps.sh vm >/dev/null
make -s -C tools/bench

{
	cat <<EOF
#!/bin/sh
set -u
dmesg -n 1
insmod /pg/promisegrid.ko
i=0
while [ ! -c /dev/promisegrid ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done
T=/sys/kernel/tracing
echo 0 >\$T/tracing_on
echo 65536 >\$T/buffer_size_kb
echo local >\$T/trace_clock
status=0
EOF
	for g in "${groups[@]}"; do
		cat <<EOF
for once in 1; do
echo "FUNCCOST-GROUP $g"
echo nop >\$T/current_tracer
: >\$T/set_ftrace_filter
for f in $g; do echo \$f >>\$T/set_ftrace_filter 2>/dev/null || echo "FUNCCOST-MISSING \$f"; done
# an empty filter would trace every function
if grep -q '^#' \$T/set_ftrace_filter; then echo "FUNCCOST-SKIPPED $g"; continue; fi
echo function_graph >\$T/current_tracer
echo 0 >\$T/options/funcgraph-irqs
: >\$T/trace
echo 1 >\$T/tracing_on
pgbench --profile $case_ --size $size --count-n $count || status=1
echo 0 >\$T/tracing_on
# " 0)   1.234 us    |  func();" -> "func 1234"
sed -n 's/.* \([0-9.]*\) us *| *\([A-Za-z_0-9.]*\)\( \[[A-Za-z_0-9]*\]\)\{0,1\}();.*/\2 \1/p' \$T/trace |
	awk '{ printf "%s %.0f\n", \$1, \$2 * 1000 }' | sort -k1,1 -k2,2n |
	awk '{ n[\$1]++; s[\$1] += \$2; v[\$1, n[\$1]] = \$2 }
	END { for (f in n) printf "FUNCCOST %s %d %.1f %d\n", f, n[f], s[f] / n[f], v[f, int((n[f] + 1) / 2)] }'
grep -c 'us *|.*{' \$T/trace | sed 's/^/FUNCCOST-NESTED /'
done
EOF
	done
	# shellcheck disable=SC2016 # the guest's variables
	printf '%s\n' 'echo nop >$T/current_tracer' 'exit $status'
} >"$tmp/guest.sh"

status=0
tools/testing/vm/run.sh --icount --smp 1 --timeout 900 "${vmargs[@]}" \
	--bin "$out/pgbench" --script "$tmp/guest.sh" \
	--log "$out/funccost-console.log" >/dev/null || status=$?

cal=$(awk '$1 == "FUNCCOST" && $2 == "pg_ep_put" { print $5 }' \
	"$out/funccost-console.log" | head -1)
{
	echo "# tools/bench/funccost.sh --count $count $case_"
	echo "# tree $(git describe --always --dirty 2>/dev/null || echo unknown)," \
	     "$(date -u '+%Y-%m-%d %H:%M UTC'), QEMU -icount shift=0, -smp 1"
	grep -E '^PG-VM: booted|^pgbench: profile|^FUNCCOST-MISSING|^FUNCCOST-SKIPPED|^FUNCCOST-NESTED [1-9]' \
		"$out/funccost-console.log" || true
	echo "# tracer overhead per call (median of pg_ep_put): ${cal:-?} instructions, subtracted below"
	echo
	echo "| function | calls per message | instructions per call, mean (median), less the overhead | instructions per message |"
	echo "|---|---:|---:|---:|"
	awk -v msgs="$count" -v cal="${cal:-0}" '
	$1 == "FUNCCOST" && $2 != "pg_ep_put" {
		mean = $4 - cal; med = $5 - cal
		printf "| %s | %.2f | %.0f (%.0f) | %.0f |\n", $2, $3 / msgs,
		       mean, med, mean * $3 / msgs
	}' "$out/funccost-console.log"
} >"$out/funccost.txt"
cat "$out/funccost.txt"
echo "funccost: $out/funccost.txt (VM status $status)" >&2
exit "$status"
