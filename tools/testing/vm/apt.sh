#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# apt.sh update | apt.sh apt-get|apt-cache ARGS... | apt.sh mirror
#
# apt with a private configuration in ${PG_CACHE:-/var/cache/promisegrid}/apt:
# its sources are the suites of tools/testing/vm/kernels.list (and the release
# each belongs to), on the Debian mirror the host's apt already uses. The
# host's own sources and lists are left alone.
#   update     write the sources and run apt-get update (also done by the
#              other commands when the lists are missing or the matrix
#              names a suite they lack)
#   mirror     print the host's Debian mirror URI (for debootstrap)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${PG_CACHE:-/var/cache/promisegrid}
DIR=$CACHE/apt
LIST=${PG_KERNELS_LIST:-$here/kernels.list}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

die() { echo "apt.sh: $*" >&2; exit 1; }

# The first .../debian URI in the host's apt sources (one-line or deb822).
mirror() {
	local uri
	uri=$({ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null || true; } |
		sed -n -e 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/\{0,1\}$/\1/p' \
		-e 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\/debian\)\/\{0,1\}[[:space:]].*/\2/p' |
		head -n 1)
	[ -n "$uri" ] || die "no Debian mirror (a URI ending in /debian) in /etc/apt's sources"
	echo "$uri"
}

# Suites of the matrix plus their releases, and each release's security
# suite (a kernel may move there).
suites() {
	local s
	awk '!/^#/ && NF >= 3 { print $3 }' "$LIST" | while read -r s; do
		echo "$s"
		echo "${s%%-*}"
		case ${s%%-*} in sid|experimental) ;; *) echo "${s%%-*}-security" ;; esac
	done | sort -u
}

sources() {
	local uri s
	uri=$(mirror)
	for s in $(suites); do
		case $s in
		*-security) echo "deb [signed-by=$KEYRING] $uri-security $s main" ;;
		*) echo "deb [signed-by=$KEYRING] $uri $s main" ;;
		esac
	done
}

setup() {
	mkdir -p "$DIR/etc/parts" "$DIR/lists/partial" "$DIR/cache"
	cat >"$DIR/etc/apt.conf" <<CONF
Dir::Etc::SourceList "$DIR/etc/sources.list";
Dir::Etc::SourceParts "$DIR/etc/parts";
Dir::State::Lists "$DIR/lists";
Dir::Cache "$DIR/cache";
Acquire::Languages "none";
Acquire::Check-Valid-Until "false";
CONF
	export APT_CONFIG=$DIR/etc/apt.conf
}

update() {
	[ -r "$KEYRING" ] || die "no $KEYRING (apt-get install debian-archive-keyring)"
	sources >"$DIR/etc/sources.list.new"
	mv "$DIR/etc/sources.list.new" "$DIR/etc/sources.list"
	echo "apt.sh: updating the lists of $(suites | tr '\n' ' ')" >&2
	apt-get update -q=2 >&2
	sources >"$DIR/etc/sources.list.done"
}

main() {
	[ $# -gt 0 ] || die "usage: apt.sh update | apt-get|apt-cache ARGS... | mirror"
	[ "$1" != mirror ] || { mirror; return; }
	setup
	exec 7>"$DIR/.lock"
	flock 7
	if [ "$1" = update ]; then
		update
		return
	fi
	if ! cmp -s <(sources) "$DIR/etc/sources.list.done" 2>/dev/null; then
		update
	fi
	flock -u 7
	case $1 in
	apt-get|apt-cache) "$@" ;;
	*) die "unknown command $1" ;;
	esac
}

main "$@"
