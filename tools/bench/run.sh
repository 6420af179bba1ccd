#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench: build pgbench, boot the test VM (tools/testing/vm/run.sh, the same
# harness as the selftests), run tools/bench/guest.sh in it and rewrite
# docs/bench.md with the table, the command, date, kernel version and which
# targets are met. Not part of make check. make bench runs
# tools/bench/icount.sh first: its tools/bench/build/icount.md (the
# repeatable figures) and tools/bench/profile.md go into docs/bench.md too.
#
#   tools/bench/run.sh [--quick] [--secs S] [--only LIST] [--no-doc]
#                      [--kernel VERSION] [--report FILE]
# --quick: a smoke run (0.3 s per case); it does not touch docs/bench.md
# unless --doc is given. Other options go to pgbench (see pgbench --help).
# The guest's report and console are kept in tools/bench/build/;
# --report FILE rewrites docs/bench.md from a kept report without a VM.
set -euo pipefail
# shellcheck disable=SC2016 # the sed scripts match literal backquotes
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

args=()
vmargs=()
doc=1
quick=0
report_in=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) args+=(--quick); quick=1; shift ;;
	--secs|--only) args+=("$1" "$2"); shift 2 ;;
	--kernel) vmargs+=(--kernel "$2"); shift 2 ;;
	--no-doc) doc=0; shift ;;
	--doc) doc=2; shift ;;
	--report) report_in=$2; shift 2 ;;
	*) echo "usage: $0 [--quick] [--secs S] [--only LIST] [--kernel V] [--no-doc|--doc]" >&2
	   exit 2 ;;
	esac
done
[ "$quick" = 1 ] && [ "$doc" = 1 ] && doc=0
# the report docs/bench.md was made from stays in report.txt
rname=report.txt
[ "$doc" = 0 ] && rname=report-partial.txt

out=tools/bench/build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "$report_in" ]; then
	cp "$report_in" "$tmp/report"
	took=$(sed -n 's/^bench-vm-seconds=//p' "$tmp/report")
	read -r -a args <<<"$(sed -n 's/^bench-args=//p' "$tmp/report")"
	# when and from which tree the kept report was made, not now
	when=$(sed -n 's/^bench-date=//p' "$tmp/report")
	rtree=$(sed -n 's/^bench-tree=//p' "$tmp/report")
	when=${when:-unknown (a kept report)} rtree=${rtree:-unknown}
else
	tools/deps.sh vm >/dev/null
	make -s -C tools/bench
	{
		echo "#!/bin/sh"
		echo "PGBENCH_ARGS='${args[*]}'"
		sed 1d tools/bench/guest.sh
	} >"$tmp/guest.sh"

	start=$(date +%s)
	status=0
	tools/testing/vm/run.sh --smp 2 --timeout 900 "${vmargs[@]}" \
		--bin "$out/pgbench" --script "$tmp/guest.sh" \
		--log "$out/console.log" || status=$?
	took=$(( $(date +%s) - start ))
	when=$(date -u '+%Y-%m-%d %H:%M UTC')
	rtree=$(git describe --always --dirty 2>/dev/null || echo unknown)

	sed -n '/^PGBENCH-REPORT-BEGIN/,/^PGBENCH-REPORT-END/p' \
		"$out/console.log" | sed '1d;$d' >"$tmp/report"
	if [ "$status" -ne 0 ] || ! grep -q '^| case |' "$tmp/report"; then
		echo "bench: the VM run failed (status $status);" \
		     "docs/bench.md unchanged; console: $out/console.log" >&2
		exit "${status/#0/1}"
	fi
	{
		cat "$tmp/report"
		echo "bench-vm-seconds=$took"
		echo "bench-args=${args[*]}"
		echo "bench-date=$when"
		echo "bench-tree=$rtree"
	} >"$out/$rname"
	echo "bench: report in $out/$rname, console in $out/console.log"
fi
if [ "$doc" = 0 ]; then
	echo "bench: VM run took ${took} s (docs/bench.md not rewritten)"
	exit 0
fi

kernel=$(sed -n 's/^pgbench: kernel \([^ ]*\).*/\1/p' "$tmp/report")
persec=$(sed -n 's/.*, \([0-9.]*\) s per case.*/\1/p' "$tmp/report")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
csv=$(sed -n '/^```csv/,/^```$/p' "$tmp/report" | sed '1,2d;$d')

# Targets, from the CSV: case,body,kind,value,unit,ratio,met,...
targets=$(printf '%s\n' "$csv" | awk '
function key(c, b, k) { return c "|" b "|" k }
{
	# the case name is quoted and may hold commas
	match($0, /^"[^"]*",/)
	c = substr($0, 2, RLENGTH - 3)
	n = split(substr($0, RLENGTH + 1), f, ",")
	v[key(c, f[1], f[2])] = f[3]; r[key(c, f[1], f[2])] = f[5]
}
function ge(name, q, want) {
	if (q == "") { printf "- %s: not measured\n", name; return }
	if (q + 0 >= want)
		printf "- %s: **met**, %.2fx (target >= %.1fx, %.0f %% above)\n", name, q, want, (q / want - 1) * 100
	else
		printf "- %s: **missed**, %.2fx (target >= %.1fx, %.0f %% short)\n", name, q, want, (1 - q / want) * 100
}
function le(name, q, want) {
	if (q == "") { printf "- %s: not measured\n", name; return }
	if (q + 0 <= want)
		printf "- %s: **met**, %.2fx (target <= %.2fx)\n", name, q, want
	else
		printf "- %s: **missed**, %.2fx (target <= %.2fx, %.0f %% over)\n", name, q, want, (q / want - 1) * 100
}
END {
	ge("single-frame throughput, 64 B, vs SEQPACKET, median of paired rounds", r[key("paired rounds: 1 frame/write throughput", 64, "paired_ratio")], 1.0)
	split("64 1024 16384", sz, " ")
	for (i = 1; i <= 3; i++)
		le("round-trip latency (median), " sz[i] " B, vs SEQPACKET, median of paired rounds", r[key("paired rounds: round-trip median", sz[i], "paired_ratio")], 1.0)
	le("eBPF policy on (enforcing=1) vs off, cost per frame, 64 B, median of paired rounds", r[key("paired rounds: eBPF policy on vs off, cost per frame", 64, "paired_ratio")], 1.10)
	le("eBPF policy on (enforcing=1) vs off, cost per frame, 1024 B, median of paired rounds", r[key("paired rounds: eBPF policy on vs off, cost per frame", 1024, "paired_ratio")], 1.10)
	ge("single-frame throughput, 64 B, vs SEQPACKET, one 2 s run each", r[key("promisegrid, 1 frame/write", 64, "throughput")], 1.0)
	b = r[key("promisegrid, batched 32 frames/write", 64, "throughput")]
	u = r[key("promisegrid, io_uring 32 SQEs/enter", 64, "throughput")]
	best = (u + 0 > b + 0) ? u : b
	ge(sprintf("batched or io_uring throughput, 64 B (best of the two: batched %.2fx, io_uring %.2fx)", b, u), best, 4.0)
	split("64 1024 16384", sz, " ")
	for (i = 1; i <= 3; i++)
		le("round-trip latency (median), " sz[i] " B, vs SEQPACKET, one 2 s run each", r[key("round trip, promisegrid", sz[i], "rtt_median")], 1.0)
	for (i = 1; i <= 3; i++) {
		one = v[key("cost/frame, 1 pCID in use", sz[i], "cost")]
		big = v[key("cost/frame, 100 000 pCIDs in use", sz[i], "cost")]
		if (one == "" || big == "" || one == "n/a" || big == "n/a")
			printf "- cost per frame, 100 000 vs 1 pCID, %s B: not measured\n", sz[i]
		else
			le("cost per frame with 100 000 pCIDs vs 1 pCID, " sz[i] " B", big / one, 1.10)
	}
}')

{
	cat <<HDR
<!-- SPDX-License-Identifier: CC-BY-4.0 -->
# Benchmarks

Generated by \`make bench\`: first \`tools/bench/icount.sh\`, the
repeatable figures (instructions per message under QEMU \`-icount\`, two
boots; the issue's targets are judged on them where they exist), then
\`tools/bench/run.sh${args[*]:+ ${args[*]}}\`, the timed table, which
builds \`tools/bench/pgbench\`, boots the test VM with \`tools/testing/vm/run.sh --smp 2
--timeout 900\` and runs \`tools/bench/guest.sh\` in it. Not part of \`make check\`.
HDR
	# the repeatable figures of this make bench (tools/bench/icount.sh)
	if [ -f "$out/icount.md" ]; then
		echo
		cat "$out/icount.md"
	fi
	# the profile, kept by hand like the notes
	if [ -f tools/bench/profile.md ]; then
		echo
		cat tools/bench/profile.md
	fi
	cat <<HDR

## Timed figures (TCG, 2 vCPUs)

- date: $when
- guest kernel: ${kernel:-unknown} (Debian), module from the tree $rtree
- host: ${cpu:-unknown}, $(nproc) cores, QEMU TCG (no KVM); guest 2 vCPUs, every benchmark process pinned to vCPU 0
- ${persec:-?} s per case; the whole VM run took ${took} s

**Read the ratios, not the absolute numbers.** The guest runs under QEMU's
TCG emulation: every figure is many times slower than on hardware, and
system-call-heavy paths are inflated more than copies. Each ratio compares
two transports measured in the same run, at the same body size, and is the
figure the targets apply to.

### What is measured

- Message bodies of 64 B, 1 KiB and 16 KiB for every transport. A
  promisegrid message is \`grid([42(pCID), h'body'])\` (49-50 bytes of envelope
  here); the others carry the body alone.
- One-way throughput: one sender process, one receiver process, messages
  received per second. AF_UNIX SOCK_SEQPACKET (the reference), SOCK_DGRAM,
  a pipe and a POSIX message queue move one message per system call on each
  side. promisegrid: one frame per write and per read; batched, 32 frames
  per write and up to 32 per read; io_uring, 32 write SQEs per
  \`io_uring_enter\` and io_uring reads of up to 32 frames.
- Round trip: ping-pong with one message in flight, median and p99.
- Paired rounds, for the targets near 1.0x: SEQPACKET and promisegrid
  alternate in 15 rounds of \`secs / 5\` each (which goes first alternates),
  each round gives one ratio, and the row is their median with the range.
  Under TCG the host's speed drifts within a run by more than the
  differences measured (one 2 s run each lands anywhere from 0.5x to
  1.8x); alternating cancels the drift. The eBPF policy's cost is paired
  the same way: batched sends with no program, against \`enforcing=1\` and
  a stamping program (cost = throughput off / on).
- Fan-out 1->N and a worker group of 4: a batched sender, deliveries read
  per second over all receivers (ratio: to SEQPACKET's one-to-one msg/s).
- Cost per frame (batched, µs = 1 / throughput) with 1, 1 000 and 100 000
  pCIDs in use (idle endpoints hold receives on the extra pCIDs); the ratio
  column compares with one SEQPACKET message.
- Capability / eBPF path: the same batched case on an open pCID, on a
  claimed pCID whose sender holds a send token, and with \`enforcing=1\` and
  a stamping \`raw_tp.w/pg_authorize\` program attached.

### Targets

$targets

### Results

HDR
	sed -n '/^| case |/,/^$/p' "$tmp/report"
	echo "Raw rows (CSV; csw_per_msg: context switches per message of each side):"
	echo
	sed -n '/^```csv/,/^```$/p' "$tmp/report"
	# the cross-host figures of this make bench (tools/bench/grid.sh)
	if [ -f "$out/grid.md" ]; then
		echo
		cat "$out/grid.md"
	fi
	if [ -f tools/bench/notes.md ]; then
		echo
		cat tools/bench/notes.md
	fi
} >docs/bench.md
echo "bench: wrote docs/bench.md (VM run ${took} s)"
echo "$targets"
