#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh [options] --script GUEST_SCRIPT
#
# Boot Debian's kernel in QEMU (TCG) with the module, run GUEST_SCRIPT in
# the guest and exit with its status. See tools/vm/README.md.
#   --kernel KERNEL    a name or ABI of tools/vm/kernels.list: 6.1 (default,
#                      or $PG_KERNEL), 6.12, 6.12-deb13, 7.3, 7.3-rt, ...
#   --timeout SECONDS  whole VM run, default 600 (none with --interactive)
#   --smp N / --mem MB default 2 / 1024
#   --bin PATH         copy into the guest's /pg/bin (with its libraries)
#   --file SRC:DST     copy SRC to DST in the guest
#   --python SCRIPT    add /usr/bin/python3 and the stdlib SCRIPT imports
#                      (or a module name: that module too)
#   --append ARGS      extra kernel command line
#   --log FILE         also write the console (without \r) to FILE
#   --no-build         use the existing .ko (must match the kernel)
#   --icount           deterministic virtual time: one guest instruction
#                      is one virtual ns (QEMU -icount shift=0,sleep=off)
#   --interactive      a shell on the console instead of the script
# Exit: the guest script's status; 1 if the kernel logged problems;
# 124 on timeout; 125 if the VM ended without reporting a status.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${PG_CACHE:-/var/cache/promisegrid}

kernel=${PG_KERNEL:-6.1} timeout="" smp=2 mem=1024 append="" logfile=""
build=1 interactive=0 icount=0 script="" pack_args=() tmp="" qpid="" teepid=""

die() { echo "run.sh: $*" >&2; exit 2; }

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel) kernel=$2; shift 2 ;;
		--timeout) timeout=$2; shift 2 ;;
		--smp) smp=$2; shift 2 ;;
		--mem) mem=$2; shift 2 ;;
		--bin|--file|--python) pack_args+=("$1" "$2"); shift 2 ;;
		--append) append=$2; shift 2 ;;
		--log) logfile=$2; shift 2 ;;
		--no-build) build=0; shift ;;
		--icount) icount=1; shift ;;
		--interactive) interactive=1; shift ;;
		--script) script=$2; shift 2 ;;
		-h|--help) sed -n '4,23s/^# \{0,1\}//p' "$0"; exit 0 ;;
		*) die "unknown argument $1 (see --help)" ;;
		esac
	done
	if [ -z "$script" ] && [ "$interactive" = 0 ]; then
		die "--script GUEST_SCRIPT is required (or --interactive)"
	fi
	[ -z "$script" ] || [ -f "$script" ] || die "no such script $script"
	if [ -z "$timeout" ]; then
		if [ "$interactive" = 1 ]; then timeout=0; else timeout=600; fi
	fi
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
	if [ -n "$qpid" ]; then
		kill -TERM "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	[ -z "$tmp" ] || rm -rf "$tmp"
}

# Prepare kernel, module and initramfs; sets abi, vmlinuz, ko.
prepare() {
	"$here/deps.sh"
	abi=$("$here/fetch-kernel.sh" "$kernel" | tail -n 1)
	abi=${abi#ABI=}
	vmlinuz=$CACHE/kernels/$abi/vmlinuz
	# One build-and-pack at a time: runs for other kernels share kmod/.
	mkdir -p "$CACHE"
	exec 8>"$CACHE/.build.lock"
	flock 8
	if [ "$build" = 1 ]; then
		ko=$("$here/build-module.sh" "$abi" | tail -n 1)
		ko=${ko#KO=}
	else
		ko=${PG_MODULE_SRC:-$here/../..}/kmod/promisegrid.ko
		[ -f "$ko" ] || ko=${PG_MODULE_SRC:-}/promisegrid.ko
		[ -f "$ko" ] || die "--no-build: no promisegrid.ko found"
		modinfo -F vermagic "$ko" | grep -q "^$abi " ||
			echo "run.sh: warning: $ko is not built for $abi" >&2
	fi
	"$here/mkinitramfs.sh" --out "$tmp/initrd.gz" --module "$ko" \
		${script:+--script "$script"} "${pack_args[@]}"
	exec 8>&-
}

# Run QEMU in the background (so INT/TERM reach our trap at once), the
# console going to stdout and $tmp/console. Sets rc to timeout's status.
boot() {
	local cmdline="console=ttyS0 panic=-1 oops=panic loglevel=4 $append"
	[ "$interactive" = 0 ] || cmdline="$cmdline pg.shell=1"
	# Single-threaded TCG: QEMU 7.2's multi-threaded TCG crashes guests
	# when static keys are patched (tools/vm/README.md, "QEMU").
	local cmd=(qemu-system-x86_64 -accel tcg,thread=single -cpu max -m "$mem"
		-smp "$smp" -nographic -no-reboot -nic none
		-kernel "$vmlinuz" -initrd "$tmp/initrd.gz" -append "$cmdline")
	# -icount: the virtual clock advances 2^0 ns per guest instruction
	# (all vCPUs together) and jumps over idle time (sleep=off), so a
	# guest's clock_gettime() counts instructions, not the host's speed.
	# It needs single-threaded TCG, which the line above sets anyway.
	# shellcheck disable=SC2054 # one option's value, not a list
	[ "$icount" = 0 ] || cmd+=(-icount shift=0,sleep=off,align=off)
	if [ "$interactive" = 1 ]; then
		timeout --foreground "$timeout" "${cmd[@]}"
		exit $?
	fi
	echo "run.sh: booting $abi, timeout ${timeout}s" >&2
	mkfifo "$tmp/fifo"
	sed -u 's/\r//g' <"$tmp/fifo" | tee "$tmp/console" ${logfile:+"$logfile"} &
	teepid=$!
	timeout --kill-after=10 "$timeout" "${cmd[@]}" </dev/null \
		>"$tmp/fifo" 2>&1 &
	qpid=$!
	rc=0
	wait "$qpid" || rc=$?
	qpid=""
	wait "$teepid" || true
}

verdict() {
	local status problems
	status=$(sed -n 's/^PG-VM-EXIT=\([0-9]\{1,\}\)$/\1/p' "$tmp/console" |
		tail -n 1)
	problems=$(grep -c '^PG-VM-KERNEL-PROBLEMS=' "$tmp/console" || true)
	if [ -z "$status" ]; then
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			echo "run.sh: VM timed out after $timeout s" >&2
			exit 124
		fi
		echo "run.sh: VM did not report an exit status" \
		     "(boot failure or kernel panic)" >&2
		exit 125
	fi
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "run.sh: warning: guest finished but did not power off" >&2
	fi
	if [ "$problems" -gt 0 ]; then
		echo "run.sh: kernel log problems reported (guest status" \
		     "$status): failing" >&2
		exit 1
	fi
	echo "run.sh: guest exit status $status" >&2
	exit "$status"
}

main() {
	parse_args "$@"
	tmp=$(mktemp -d)
	trap cleanup EXIT
	trap 'echo "run.sh: interrupted" >&2; exit 130' INT
	trap 'echo "run.sh: terminated" >&2; exit 143' TERM
	prepare
	boot
	verdict
}

main "$@"
