#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# chroot.sh ensure RELEASE [PACKAGE...]
# chroot.sh run RELEASE BIND_DIR... -- COMMAND...
#
# A minimal Debian chroot of RELEASE (trixie, sid, ...) for building the
# module with the toolchain of a kernel newer than the host's: created
# once with debootstrap --variant=minbase (about 30 s for trixie) in
# ${PG_CACHE:-/var/cache/promisegrid}/chroots/RELEASE, with the release's
# -updates, -security and -backports suites in its apt sources.
#   ensure  create it if needed and install the PACKAGEs it lacks
#   run     run COMMAND in it, each BIND_DIR bind-mounted at its own path,
#           in a private mount namespace (unshare -m): nothing stays
#           mounted and the host's mounts never see them
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${PG_CACHE:-/var/cache/promisegrid}

die() { echo "chroot.sh: $*" >&2; exit 1; }

sources() {
	local rel=$1 uri=$2 s
	echo "deb $uri $rel main"
	case $rel in
	sid|unstable|experimental) return ;;
	esac
	for s in updates backports; do echo "deb $uri $rel-$s main"; done
	echo "deb $uri-security $rel-security main"
}

in_root() {
	local root=$1
	shift
	# shellcheck disable=SC2016  # expanded by the inner sh
	unshare -m --propagation private -- sh -c '
		root=$1; shift
		mount -t proc proc "$root/proc"
		mount --bind /dev "$root/dev"
		exec chroot "$root" "$@"' sh "$root" "$@"
}

ensure() {
	local rel=$1 root=$CACHE/chroots/$1 uri missing=() p
	shift
	mkdir -p "$CACHE/chroots"
	exec 6>"$CACHE/chroots/.$rel.lock"
	flock 6
	if [ ! -f "$root/.complete" ]; then
		command -v debootstrap >/dev/null ||
			die "no debootstrap (tools/deps.sh vm installs it)"
		uri=$("$here/apt.sh" mirror)
		rm -rf "$root"
		echo "chroot.sh: creating a $rel minbase chroot in $root" >&2
		debootstrap --variant=minbase "$rel" "$root" "$uri" >&2 ||
			die "debootstrap $rel failed"
		sources "$rel" "$uri" >"$root/etc/apt/sources.list"
		# A mirror snapshot may be older than sid's 7-day Valid-Until.
		echo 'Acquire::Check-Valid-Until "false";' \
			>"$root/etc/apt/apt.conf.d/50promisegrid"
		in_root "$root" apt-get update -q=2 >&2
		touch "$root/.complete"
	fi
	for p in "$@"; do
		# shellcheck disable=SC2016  # dpkg-query's format
		[ "$(in_root "$root" dpkg-query -W -f='${Status}' "$p" \
			2>/dev/null)" = "install ok installed" ] || missing+=("$p")
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		echo "chroot.sh: installing ${missing[*]} in the $rel chroot" >&2
		in_root "$root" apt-get update -q=2 >&2
		in_root "$root" env DEBIAN_FRONTEND=noninteractive apt-get \
			install -y -q=2 --no-install-recommends "${missing[@]}" >&2 ||
			die "cannot install ${missing[*]} in the $rel chroot"
	fi
}

run() {
	local rel=$1 root=$CACHE/chroots/$1 binds=() d
	shift
	[ -f "$root/.complete" ] || die "no $rel chroot (chroot.sh ensure $rel)"
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		binds+=("$(cd "$1" && pwd -P)")
		shift
	done
	[ $# -gt 1 ] || die "run: no command after --"
	shift
	for d in "${binds[@]}"; do mkdir -p "$root$d"; done
	# shellcheck disable=SC2016  # expanded by the inner sh
	unshare -m --propagation private -- sh -c '
		root=$1 n=$2; shift 2
		mount -t proc proc "$root/proc"
		mount --bind /dev "$root/dev"
		while [ "$n" -gt 0 ]; do
			mount --bind "$1" "$root$1"; shift; n=$((n - 1))
		done
		exec chroot "$root" "$@"' sh "$root" "${#binds[@]}" \
		"${binds[@]}" "$@"
}

case ${1:-} in
ensure) shift; [ $# -ge 1 ] || die "usage: chroot.sh ensure RELEASE [PACKAGE...]"; ensure "$@" ;;
run) shift; [ $# -ge 1 ] || die "usage: chroot.sh run RELEASE DIR... -- COMMAND..."; run "$@" ;;
*) die "usage: chroot.sh ensure RELEASE [PACKAGE...] | run RELEASE DIR... -- COMMAND..." ;;
esac
