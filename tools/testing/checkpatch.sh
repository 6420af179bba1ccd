#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# checkpatch.pl --strict over kmod/. checkpatch ships in Debian's
# linux-source-6.1 package; its three files are unpacked once into
# ${PG_CACHE:-/var/cache/promisegrid}/checkpatch.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${PG_CACHE:-/var/cache/promisegrid}/checkpatch
cp_dir=$cache/linux-source-6.1/scripts

if [ ! -x "$cp_dir/checkpatch.pl" ]; then
	if [ ! -f /usr/src/linux-source-6.1.tar.xz ]; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends linux-source-6.1 >/dev/null
	fi
	mkdir -p "$cache"
	tar -C "$cache" -xaf /usr/src/linux-source-6.1.tar.xz \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
fi

cd "$top"
# common/ (pg_cbor.[ch], pg_envelope.[ch]) also builds in userland: it uses the
# C99 fixed-width types on purpose (PREFER_KERNEL_TYPES is ignored there).
# params.c and pcid.h paste macro arguments into several names: tokens,
# never expressions, so MACRO_ARG_REUSE cannot bite there. trace.h keeps the
# TRACE_EVENT() layout of include/trace/events/, which checkpatch's
# parenthesis rules do not know.
status=0
for f in $(git ls-files 'kmod/*.[ch]' 'common/*.[ch]'); do
	ignore=FILE_PATH_CHANGES
	case $f in
	common/*) ignore=$ignore,PREFER_KERNEL_TYPES ;;
	kmod/params.c | kmod/pcid.h) ignore=$ignore,MACRO_ARG_REUSE ;;
	kmod/trace.h) ignore=$ignore,OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT ;;
	esac
	"$cp_dir/checkpatch.pl" --strict --no-tree --terse --show-types \
		--ignore "$ignore" -f "$f" || status=1
done
[ "$status" -eq 0 ] && echo "checkpatch: kmod/ and common/ clean"
exit "$status"
