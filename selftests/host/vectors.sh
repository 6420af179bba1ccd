#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Copyright (C) 2026 The PromiseGrid kernel module authors.
# TAP: the vectors of selftests/host/vectors/ (README.md there) through
# tools/cbor-check (item and frame lines: its exit status, and for a refused
# frame the errno it names) and tools/maint/pg-cid (cid and differ lines).
# usage: vectors.sh [path/to/cbor-check [path/to/pg-cid]]
here=$(cd "$(dirname "$0")" && pwd)
check=${1:-$here/../../tools/cbor-check/cbor-check}
pgcid=${2:-$here/../../tools/maint/pg-cid}
dir=$here/vectors
files=(grid-cbor-conformance.txt wire-lab-cid.txt links.txt floats.txt)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 pass=0 fail=0

result() {	# result OK NAME [DIAG]
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		pass=$((pass + 1))
		echo "ok $n - $2"
	else
		fail=$((fail + 1))
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && echo "# $3"
	fi
}

bytes() {	# bytes HEX FILE: "-" is no bytes
	if [ "$1" = - ]; then
		: >"$2"
	else
		printf '%s' "$1" | xxd -r -p >"$2"
	fi
}

cid_of() {	# cid_of HEX: the base32 CID pg-cid prints
	bytes "$1" "$tmp/in"
	"$pgcid" "$tmp/in" | sed -n 1p
}

one() {		# one FILE LINENO WANT MODE HEX REST
	local name="$1:$2 $6" want=$3 mode=$4 hex=$5 err rc got
	case $mode in
	item|frame)
		bytes "$hex" "$tmp/in"
		if [ "$mode" = item ]; then
			err=$("$check" --deterministic --links <"$tmp/in" 2>&1)
		else
			err=$("$check" --frame <"$tmp/in" 2>&1)
		fi
		rc=$?
		if [ "$want" = ok ]; then
			[ "$rc" = 0 ]
		elif [ "$mode" = frame ]; then
			[ "$rc" = 1 ] && [[ "$err" == *"($want)" ]]
		else
			[ "$rc" = 1 ]
		fi
		result $(($? == 0)) "cbor-check: $name" "exit $rc: $err"
		;;
	cid)
		got=$(cid_of "$hex")
		result "$([ "$got" = "${6%% *}" ] && echo 1)" "pg-cid: $name" \
			"got $got"
		;;
	differ)
		local a b
		a=$(cid_of "$hex")
		b=$(cid_of "${6%% *}")
		result "$([ -n "$a" ] && [ "$a" != "$b" ] && echo 1)" \
			"pg-cid: $name" "both $a"
		;;
	*)
		result 0 "malformed vector $name"
		;;
	esac
}

run() {
	local f lineno want mode hex rest count
	for f in "${files[@]}"; do
		lineno=0 count=0
		while read -r want mode hex rest; do
			lineno=$((lineno + 1))
			case $want in ''|'#'*) continue ;; esac
			count=$((count + 1))
			one "$f" "$lineno" "$want" "$mode" "$hex" "$rest"
		done <"$dir/$f"
		result "$([ "$count" -gt 0 ] && echo 1)" "vectors read from $f"
	done
}

for tool in "$check" "$pgcid"; do
	if [ ! -x "$tool" ]; then
		echo "1..0 # SKIP $tool not built"
		echo "0 passed, 0 failed"
		exit 1
	fi
done
echo "TAP version 13"
# count first so the plan comes first
plan=$( (result() { echo x; }; run 2>/dev/null) | grep -cx x)
echo "1..$plan"
run
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
