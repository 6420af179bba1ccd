#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh [options] --script GUEST_SCRIPT
#
# Boot Debian's kernel in QEMU (TCG) with the module, run GUEST_SCRIPT in
# the guest and exit with its status. See tools/testing/vm/README.md.
#   --kernel KERNEL    a name or ABI of tools/testing/vm/kernels.list: 6.1 (default,
#                      or $PG_KERNEL), 6.12, 6.12-deb13, 7.3, 7.3-rt, ...
#   --timeout SECONDS  whole VM run, default 600 (none with --interactive)
#   --smp N / --mem MB default 2 / 1024
#   --bin PATH         copy into the guest's /pg/bin (with its libraries)
#   --file SRC:DST     copy SRC to DST in the guest
#   --python SCRIPT    add /usr/bin/python3 and the stdlib SCRIPT imports
#                      (or a module name: that module too)
#   --append ARGS      extra kernel command line
#   --net              a NIC on QEMU's user-mode network: the guest is
#                      10.0.2.15 on eth0 and reaches the host's loopback
#                      (127.0.0.1) as 10.0.2.2; nothing is forwarded in
#   --config FILE      refuse a kernel whose config lacks a CONFIG_X=y|m
#                      line of FILE (selftests/config)
#   --log FILE         also write the console (without \r) to FILE
#   --no-build         use the existing .ko (must match the kernel)
#   --icount           deterministic virtual time: one guest instruction
#                      is one virtual ns (QEMU -icount shift=0,sleep=off)
#   --icount-sleep     the same while the guest runs, but idle time passes
#                      in real time (sleep=on): for guests that wait on
#                      the network, whose tasks' CPU time still counts
#                      their instructions
#   --interactive      a shell on the console instead of the script
# Exit: the guest script's status; 1 if the kernel logged problems;
# 124 on timeout; 125 if the VM ended without reporting a status.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${PG_CACHE:-/var/cache/promisegrid}

kernel=${PG_KERNEL:-6.1} timeout="" smp=2 mem=1024 append="" logfile=""
want_config=""
build=1 interactive=0 icount=0 script="" pack_args=() tmp="" qpid="" teepid=""
net=0

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
		--net) net=1; shift ;;
		--log) logfile=$2; shift 2 ;;
		--config) want_config=$2; shift 2 ;;
		--no-build) build=0; shift ;;
		--icount) icount=1; shift ;;
		--icount-sleep) icount=2; shift ;;
		--interactive) interactive=1; shift ;;
		--script) script=$2; shift 2 ;;
		-h|--help) sed -n '4,32s/^# \{0,1\}//p' "$0"; exit 0 ;;
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

# Every CONFIG_X=v line of $1 must be in the kernel's config (y: y or m).
check_config() {
	local have=$CACHE/kernels/$abi/boot/config-$abi line opt missing=""

	if [ ! -r "$have" ]; then
		echo "run.sh: no config-$abi in the cache to check $1 against" >&2
		return 0
	fi
	while read -r line; do
		case $line in CONFIG_*=*) ;; *) continue ;; esac
		opt=${line%%=*}
		grep -qx "$line" "$have" ||
			{ [ "${line#*=}" = y ] && grep -qx "$opt=m" "$have"; } ||
			missing="$missing $opt"
	done <"$1"
	if [ -n "$missing" ]; then
		echo "run.sh: $abi lacks what $1 asks for:$missing" >&2
		exit 2
	fi
}

# Prepare kernel, module and initramfs; sets abi, vmlinuz, ko.
prepare() {
	"$here/../../deps.sh" vm
	abi=$("$here/fetch-kernel.sh" "$kernel" | tail -n 1)
	abi=${abi#ABI=}
	vmlinuz=$CACHE/kernels/$abi/vmlinuz
	[ -z "$want_config" ] || check_config "$want_config"
	# One build-and-pack at a time: runs for other kernels share kmod/.
	mkdir -p "$CACHE"
	exec 8>"$CACHE/.build.lock"
	flock 8
	if [ "$build" = 1 ]; then
		ko=$("$here/build-module.sh" "$abi" | tail -n 1)
		ko=${ko#KO=}
	else
		ko=${PG_MODULE_SRC:-$here/../../..}/kmod/promisegrid.ko
		[ -f "$ko" ] || ko=${PG_MODULE_SRC:-}/promisegrid.ko
		[ -f "$ko" ] || die "--no-build: no promisegrid.ko found"
		modinfo -F vermagic "$ko" | grep -q "^$abi " ||
			echo "run.sh: warning: $ko is not built for $abi" >&2
	fi
	if [ "$net" = 1 ]; then
		# Debian builds QEMU's default NIC driver (e1000) as a module.
		netko=$("$here/fetch-netmod.sh" "$abi" | tail -n 1)
		pack_args+=(--file "${netko#NETKO=}:/pg/net/e1000.ko")
	fi
	"$here/mkinitramfs.sh" --out "$tmp/initrd.gz" --module "$ko" \
		${script:+--script "$script"} "${pack_args[@]}"
	exec 8>&-
}

# Run QEMU in the background (so INT/TERM reach our trap at once), the
# console going to stdout and $tmp/console. Sets rc to timeout's status.
boot() {
	# edd=off: no "Probing EDD" line from the boot stub on the console.
	local cmdline="console=ttyS0 panic=-1 oops=panic loglevel=4 edd=off $append"
	local nic=(-nic none)
	[ "$interactive" = 0 ] || cmdline="$cmdline pg.shell=1"
	if [ "$net" = 1 ]; then
		cmdline="$cmdline pg.net=1"
		nic=(-nic user,model=e1000)
	fi
	# Single-threaded TCG: QEMU 7.2's multi-threaded TCG crashes guests
	# when static keys are patched (tools/testing/vm/README.md, "QEMU").
	local cmd=(qemu-system-x86_64 -accel tcg,thread=single -cpu max -m "$mem"
		-smp "$smp" -nographic -no-reboot "${nic[@]}"
		-kernel "$vmlinuz" -initrd "$tmp/initrd.gz" -append "$cmdline")
	# -icount: the virtual clock advances 2^0 ns per guest instruction
	# (all vCPUs together) and jumps over idle time (sleep=off), so a
	# guest's clock_gettime() counts instructions, not the host's speed.
	# It needs single-threaded TCG, which the line above sets anyway.
	# shellcheck disable=SC2054 # one option's value, not a list
	case $icount in
	1) cmd+=(-icount shift=0,sleep=off,align=off) ;;
	2) cmd+=(-icount shift=0,sleep=on,align=off) ;;
	esac
	if [ "$interactive" = 1 ]; then
		timeout --foreground "$timeout" "${cmd[@]}"
		exit $?
	fi
	echo "run.sh: booting $abi, timeout ${timeout}s" >&2
	mkfifo "$tmp/fifo"
	# The guest's output, not the firmware's: SeaBIOS's banner and the
	# terminal resets (ESC c, ESC [ ... ) it and the boot stub send.
	sed -u -e 's/\r//g' -e '/^\(\x1bc\|\x1b\[[0-9;?]*[A-Za-z]\)\+$/d' \
		-e 's/\x1bc//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' \
		-e '/^SeaBIOS (version /d' -e '/^Booting from ROM\.\.\.$/d' \
		<"$tmp/fifo" | tee "$tmp/console" ${logfile:+"$logfile"} &
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
