#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The Debian 13 guest's half of make check-install (tools/deb/
# check-install.sh): run as root by pg-install.service from the run disk
# (mounted at /run/pg, the current directory), which has
#   env     VER=<package version> ABI=<kernel ABI>
#   debs/   the project's packages (promisegrid-dkms, libpromisegrid1,
#           promisegrid-tools), built for trixie
#   repo/   the archive packages they and linux-headers-ABI need that the
#           image lacks (dkms, gcc-14, ...), with a Packages index
# The guest has no network: apt's only source is repo/. Installs the
# packages as an admin would (apt-get install ./FILE.deb), then checks
# DKMS, modprobe, the udev rule, who may open the device, a frame
# exchange, pg-policy, modules-load.d and apt purge. TAP on stdout.
set -u
# shellcheck disable=SC1091  # written by check-install.sh
. ./env
n=0 pass=0 fail=0
member=pgmember other=pgother

t() {	# t NAME CMD...: one test, its output shown if it fails
	name=$1
	shift
	n=$((n + 1))
	if "$@" >/tmp/t.log 2>&1; then
		echo "ok $n - $name"
		pass=$((pass + 1))
	else
		echo "not ok $n - $name"
		sed 's/^/# /' /tmp/t.log
		fail=$((fail + 1))
	fi
}

offline_sources() {
	: >/etc/apt/sources.list
	rm -f /etc/apt/sources.list.d/*
	echo "deb [trusted=yes] file:$PWD/repo ./" \
		>/etc/apt/sources.list.d/promisegrid-local.list
	apt-get update
}

install_packages() {
	start=$(date +%s)
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"linux-headers-$ABI" ./debs/promisegrid-dkms_*.deb \
		./debs/libpromisegrid1_*.deb ./debs/promisegrid-tools_*.deb \
		>/run/pg/apt-install.log 2>&1
	rc=$?
	echo "# apt-get install took $(($(date +%s) - start)) s (DKMS's build included)" >&3
	[ "$rc" = 0 ] || tail -n 40 /run/pg/apt-install.log
	return "$rc"
}

dkms_installed() {
	dkms status -m promisegrid
	dkms status -m promisegrid | grep -F "promisegrid/$VER, $ABI, x86_64: installed"
}

modinfo_version() {
	modinfo -F version promisegrid
	[ "$(modinfo -F version promisegrid)" = "$VER" ] || return 1
	modinfo -n promisegrid
	modinfo -n promisegrid | grep -q "^/lib/modules/$ABI/updates/dkms/promisegrid\.ko"
}

loads() {
	modprobe promisegrid && test -d /sys/module/promisegrid
}

node_mode() {
	udevadm settle
	ls -l /dev/promisegrid
	[ "$(stat -c '%a %U %G' /dev/promisegrid)" = "660 root promisegrid" ]
}

# as USER CMD: CMD in sh as USER, with the user's groups (initgroups).
as() {
	u=$1
	shift
	runuser -u "$u" -- sh -c "$*"
}

refused() {
	as "$other" 'pg hello' >/tmp/refused 2>&1
	rc=$?
	cat /tmp/refused
	[ "$rc" != 0 ] && grep -q 'open /dev/promisegrid: EACCES' /tmp/refused &&
		! as "$other" 'exec 3<>/dev/promisegrid'
}

hello() {
	as "$member" 'pg hello'
}

exchange() {
	# shellcheck disable=SC2016  # expanded by the user's sh
	as "$member" '
		cd "$(mktemp -d)" || exit 1
		echo "check-install spec" >spec
		p=$(pg cid spec)
		pg sub --count 1 --timeout 30000 "$p" >got 2>sub &
		sub=$!
		i=0
		until grep -q receiving sub; do
			i=$((i + 1))
			[ "$i" -lt 300 ] || { echo "pg sub never started"; exit 1; }
			sleep 0.1
		done
		pg send "$p" "\"hello from $(id -un)\"" 7 || exit 1
		wait "$sub" || { echo "pg sub exited $?"; cat sub; exit 1; }
		cat got
		grep -q "\"hello from pgmember\", 7\]" got'
}

policy_default() {
	pg-policy load default || return 1
	pg-policy status
	pg-policy status | grep -q '^default *attached$' && exchange
}

policy_unload() {
	pg-policy unload default && pg-policy status | grep -q '^default *detached$'
}

# At boot systemd-modules-load loads what modules-load.d names: the
# package's entry, run again after rmmod.
modules_load() {
	cat /usr/lib/modules-load.d/promisegrid.conf
	rmmod promisegrid && ! test -d /sys/module/promisegrid &&
		systemctl restart systemd-modules-load.service &&
		test -d /sys/module/promisegrid
}

purge() {
	rmmod promisegrid || return 1
	DEBIAN_FRONTEND=noninteractive apt-get purge -y promisegrid-dkms \
		promisegrid-tools libpromisegrid1 >/run/pg/apt-purge.log 2>&1
	rc=$?
	[ "$rc" = 0 ] || tail -n 40 /run/pg/apt-purge.log
	for p in promisegrid-dkms promisegrid-tools libpromisegrid1; do
		if dpkg-query -W -f='${db:Status-Abbrev}\n' "$p" 2>/dev/null |
			grep -v '^un'; then
			echo "$p is still known to dpkg"
			rc=1
		fi
	done
	return "$rc"
}

no_module() {
	! ls -d /lib/modules/*/updates/dkms/promisegrid* 2>/dev/null &&
		! modinfo promisegrid
}

no_dkms() {
	out=$(dkms status -m promisegrid 2>&1)
	echo "$out"
	[ -z "$out" ] && ! ls -d /var/lib/dkms/promisegrid /usr/src/promisegrid-* 2>/dev/null
}

no_files() {
	! ls /etc/udev/rules.d/*promisegrid* /usr/lib/udev/rules.d/*promisegrid* \
		/usr/lib/modules-load.d/promisegrid.conf 2>/dev/null
}

no_group() {
	! getent group promisegrid
}

kernel_clean() {
	! dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|UBSAN:|KASAN:'
}

main() {
	echo "TAP version 13"
	# shellcheck disable=SC1091
	echo "# $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME"), promisegrid $VER"
	t "apt reads the local repository (the guest has no network)" offline_sources
	t "apt-get install linux-headers-$ABI and the project's .debs" install_packages
	t "dkms status: promisegrid/$VER installed for $ABI" dkms_installed
	t "modinfo: version $VER, in /lib/modules/$ABI/updates/dkms" modinfo_version
	echo "# module signer: $(modinfo -F signer promisegrid 2>/dev/null || true)" |
		sed 's/: $/: none (DKMS signs only with a MOK key and openssl)/'
	t "modprobe promisegrid loads it" loads
	t "udev: /dev/promisegrid is root:promisegrid 0660" node_mode
	useradd -m -G promisegrid "$member" && useradd -m "$other"
	t "a user outside group promisegrid gets EACCES at open" refused
	t "a user in group promisegrid: pg hello" hello
	t "a user in group promisegrid sends and receives a frame" exchange
	t "pg-policy load default attaches; the exchange still works" policy_default
	t "pg-policy unload default" policy_unload
	t "modules-load.d: systemd-modules-load loads the module" modules_load
	t "apt purge removes the packages (dpkg keeps no trace)" purge
	t "purged: no module under /lib/modules/*/updates/dkms, modinfo fails" no_module
	t "purged: no DKMS entry, no /var/lib/dkms/promisegrid, no /usr/src/promisegrid-*" no_dkms
	t "purged: no udev rule, no modules-load.d entry" no_files
	t "purged: no group promisegrid" no_group
	t "the kernel log has no warning, bug or oops" kernel_clean
	echo "1..$n"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

main 3>&1 | tee /run/pg/tap
grep -q ', 0 failed$' /run/pg/tap
