#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Description: loading and unloading the module (docs/abi.md "Device and
# endpoints", "Module parameters"). rmmod fails while a file is
# open and the module stays; after the last close rmmod works and the
# device goes away; insmod works again. Parameters out of range are
# refused at insmod and at run time. Runs on busybox sh; prints TAP.
# PG_KO: the module file (default /pg/promisegrid.ko).

KO=${PG_KO:-/pg/promisegrid.ko}
DEV=/dev/promisegrid
P=/sys/module/promisegrid/parameters
n=0
failed=0
out=$(mktemp)

ok() {	# ok STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		sed 's/^/# /' "$out"
		failed=$((failed + 1))
	fi
	: >"$out"
}

loaded() {
	grep -q '^promisegrid ' /proc/modules
}

# wait_for COND: up to 5 s for a shell condition
wait_for() {
	i=0
	while [ $i -lt 50 ]; do
		eval "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	eval "$1"
}

load() {	# load [PARAM=VALUE]...
	loaded || insmod "$KO" "$@" >>"$out" 2>&1 || return 1
	wait_for "[ -c $DEV ]"
}

echo "TAP version 13"
echo "1..9"

load
ok $? "the module is loaded and $DEV exists"

# An open file keeps the module: rmmod fails with EBUSY.
exec 3<>"$DEV"
# (delete_module gives EWOULDBLOCK for a module in use; rmmod tools word
# it differently, so only the failure is checked.)
if rmmod promisegrid >>"$out" 2>&1; then r=1; else r=0; fi
loaded && [ -c $DEV ] && [ $r -eq 0 ]
ok $? "rmmod while $DEV is open fails, the module stays"
exec 3<&-

rmmod promisegrid >>"$out" 2>&1 && ! loaded && wait_for "[ ! -e $DEV ]"
ok $? "after the last close rmmod works and $DEV goes away"

load
ok $? "insmod works again"

# insmod with a parameter out of range is refused.
bad_insmod() {
	rmmod promisegrid >>"$out" 2>&1
	r=0
	for p in max_depth=0 max_depth=2 max_depth=33 max_frame=1 \
		max_frame=63 max_frame=1048577 queue_frames=0 \
		queue_frames=16777217 queue_bytes=4095 queue_bytes=1073741825 \
		inflight_bytes=4096 inflight_bytes=1073741825 \
		max_receives=0 max_receives=1048577; do
		if insmod "$KO" "$p" >>"$out" 2>&1; then
			echo "insmod $p was accepted" >>"$out"
			rmmod promisegrid >>"$out" 2>&1
			r=1
		fi
		if loaded; then
			echo "module loaded after insmod $p" >>"$out"
			r=1
		fi
	done
	return $r
}
bad_insmod
ok $? "insmod refuses parameters out of range"

load max_depth=3 max_frame=64 && [ "$(cat $P/max_depth)" = 3 ] &&
	[ "$(cat $P/max_frame)" = 64 ] && rmmod promisegrid &&
	load max_depth=32 max_frame=1048576 &&
	[ "$(cat $P/max_depth)" = 32 ] && [ "$(cat $P/max_frame)" = 1048576 ] &&
	rmmod promisegrid && load
ok $? "insmod accepts the limits of the ranges"

# A run-time write out of range fails and leaves the value.
bad_write() {	# bad_write NAME VALUE
	old=$(cat "$P/$1")
	if echo "$2" >"$P/$1" 2>>"$out"; then
		echo "$1=$2 was accepted" >>"$out"
		echo "$old" >"$P/$1"
		return 1
	fi
	[ "$(cat "$P/$1")" = "$old" ] || {
		echo "$1 changed to $(cat "$P/$1")" >>"$out"
		echo "$old" >"$P/$1"
		return 1
	}
}
r=0
for nv in max_depth:0 max_depth:2 max_depth:33 max_frame:1 max_frame:63 \
	max_frame:1048577 queue_frames:0 queue_bytes:4095 \
	inflight_bytes:4096 max_receives:0; do
	bad_write "${nv%%:*}" "${nv#*:}" || r=1
done
ok $r "run-time writes out of range are refused, the value stays"

r=0
for nv in max_depth:3 max_depth:32 max_frame:64 max_frame:1048576 \
	queue_frames:1 queue_bytes:4096 max_receives:1; do
	name=${nv%%:*}
	old=$(cat "$P/$name")
	if echo "${nv#*:}" >"$P/$name" 2>>"$out" &&
		[ "$(cat "$P/$name")" = "${nv#*:}" ]; then :; else
		echo "$name=${nv#*:} was refused" >>"$out"
		r=1
	fi
	echo "$old" >"$P/$name"
done
ok $r "run-time writes at the limits of the ranges work"

rmmod promisegrid >>"$out" 2>&1 && load
ok $? "the module is loaded again with default parameters"

rm -f "$out"
[ $failed -eq 0 ]
