#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the test VM (busybox sh). Mounts the usual file systems, runs
# /pg/guest.sh (or a shell with pg.shell=1 on the kernel command line),
# prints PG-VM-EXIT=<status>, reports kernel log problems and powers off.

export PATH=/pg/bin:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root

mnt() {	# type target [options]
	mkdir -p "$2"
	mount -t "$1" ${3:+-o "$3"} "$1" "$2" 2>/dev/null ||
		echo "PG-VM: warning: cannot mount $1 on $2"
}

mnt proc /proc
mnt sysfs /sys
mnt devtmpfs /dev
mnt tmpfs /tmp
mnt debugfs /sys/kernel/debug
mnt tracefs /sys/kernel/tracing
mnt bpf /sys/fs/bpf
mnt cgroup2 /sys/fs/cgroup
mkdir -p /dev/pts /dev/shm /root /run /var/tmp
mount -t devpts devpts /dev/pts 2>/dev/null
ip link set lo up 2>/dev/null
# run.sh --net: QEMU's user-mode network, the host's loopback as 10.0.2.2.
if grep -qw pg.net=1 /proc/cmdline; then
	insmod /pg/net/e1000.ko &&
	ip addr add 10.0.2.15/24 dev eth0 &&
	ip link set eth0 up &&
	ip route add default via 10.0.2.2 ||
		echo "PG-VM: warning: network setup failed"
fi
exec </dev/console >/dev/console 2>&1

echo
echo "PG-VM: booted $(uname -r)"
# Reports from before /init cannot involve the module, which is not loaded
# yet (a KASAN kernel under TCG sometimes reports one in early IRQ setup):
# show them as a warning and judge only what comes after.
boot_problems=$(dmesg -c | grep -E 'BUG:|WARNING:|Oops|KASAN|UBSAN|general protection')
if [ -n "$boot_problems" ]; then
	echo "PG-VM: warning: kernel reports during boot, before the module:"
	echo "$boot_problems"
fi
if grep -qw pg.shell=1 /proc/cmdline; then
	echo "PG-VM: interactive shell; 'exit' or Ctrl-D powers off"
	setsid cttyhack sh -l
	status=$?
else
	sh /pg/guest.sh </dev/null
	status=$?
fi
echo
echo "PG-VM-EXIT=$status"

pattern='BUG:|WARNING:|Oops|KASAN|UBSAN|kmemleak|lockdep|circular locking'
pattern="$pattern|general protection|Call Trace"
# Boot banners of a debug kernel mention the checkers without a finding.
benign='RCU lockdep checking is enabled|kmemleak: Kernel memory leak detector initialized|kmemleak: Automatic memory scanning thread started'
problems=$(dmesg | grep -E "$pattern" | grep -Ev "$benign")
if [ -z "$problems" ]; then
	echo "PG-VM: kernel log clean"
else
	echo "PG-VM: kernel log problems:"
	echo "$problems"
	echo "PG-VM: kernel log tail:"
	dmesg | tail -n 80
	echo "PG-VM-KERNEL-PROBLEMS=$(echo "$problems" | wc -l)"
fi

if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 2
	echo scan >/sys/kernel/debug/kmemleak
	leaks=$(cat /sys/kernel/debug/kmemleak)
	if [ -n "$leaks" ]; then
		echo "PG-VM: kmemleak:"
		echo "$leaks"
		echo "PG-VM-KERNEL-PROBLEMS=kmemleak"
	fi
fi

sync
poweroff -f
