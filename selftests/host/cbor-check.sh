#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Copyright (C) 2026 The PromiseGrid kernel module authors.
# TAP tests for tools/cbor-check: feeds it hex inputs, checks the exit code.
# usage: cbor-check.sh [path/to/cbor-check]

tool=${1:-../../tools/cbor-check/cbor-check}
n=0
pass=0
fail=0

# t NAME WANT_EXIT HEX [ARGS...]
t() {
	local name=$1 want=$2 hex=$3 got err
	shift 3
	n=$((n + 1))
	err=$(printf '%b' "$(printf '%s' "$hex" | sed 's/../\\x&/g')" |
		"$tool" "$@" 2>&1 >/dev/null)
	got=$?
	if [ "$got" = "$want" ] &&
	   { [ "$want" != 1 ] || [[ "$err" == "cbor-check: "* ]]; }; then
		pass=$((pass + 1))
		echo "ok $n - $name"
	else
		fail=$((fail + 1))
		echo "not ok $n - $name"
		echo "# exit $got, want $want; stderr: $err"
	fi
}

digest=$(printf 'a%.0s' $(seq 64))	# 32 bytes of 0xaa
cid="01551220$digest"
frame="da6772696482d82a582500${cid}63616263"
frame1="da6772696481d82a582500${cid}"
v0="1220$digest"
badlink="da6772696482d82a582500${cid}d82a40"

run() {
	t "integer" 0 00
	t "array" 0 83010203
	t "indefinite array" 0 9fff
	t "float16 NaN deterministic" 0 f97e00 --deterministic
	t "unsorted map well-formed" 0 a2616201616102
	t "unsorted map not deterministic" 1 a2616201616102 --deterministic
	t "non-shortest int not deterministic" 1 1817 --deterministic
	t "empty input" 1 ""
	t "lone break" 1 ff
	t "truncated head" 1 18
	t "reserved ai" 1 1c
	t "trailing byte" 1 0000
	t "huge string length" 1 5bffffffffffffffff00
	t "16 nested arrays by default" 0 "$(printf '81%.0s' $(seq 16))00"
	t "17 nested arrays by default" 1 "$(printf '81%.0s' $(seq 17))00"
	t "17 nested arrays with --max-depth 17" 0 \
		"$(printf '81%.0s' $(seq 17))00" --max-depth 17
	t "--max-size 3 accepts 3 bytes" 0 1903e8 --max-size 3
	t "--max-size 2 rejects 3 bytes" 1 1903e8 --max-size 2
	t "valid frame" 0 "$frame" --frame
	t "frame with slot 0 only" 0 "$frame1" --frame
	t "two frames" 1 "$frame$frame" --frame
	t "not a frame" 1 83010203 --frame
	t "frame with bad CID version" 1 \
		"da6772696481d82a582500${cid/#01/02}" --frame
	t "42(h'') well-formed" 0 d82a40
	t "42(h'') not a link with --links" 1 d82a40 --links
	t "CIDv0 link with --links" 0 "d82a582300${v0}" --links
	t "frame with a bad link in slot 1" 1 "$badlink" --frame
	t "--help" 0 "" --help
	t "bad option" 2 00 --bogus
	t "--max-depth 0" 2 00 --max-depth 0
	t "--max-depth missing" 2 00 --max-depth
	t "--max-size not a number" 2 00 --max-size x
}

if [ ! -x "$tool" ]; then
	echo "1..0 # SKIP $tool not built"
	echo "0 passed, 0 failed"
	exit 1
fi
echo "TAP version 13"
# count first so the plan comes first
plan=$( (t() { echo x; }; run) | wc -l)
echo "1..$plan"
run
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
