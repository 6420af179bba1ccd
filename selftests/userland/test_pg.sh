#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The PromiseGrid kernel module authors.
#
# Description: the pg command in the VM (busybox sh): every verb's --help,
# exit codes, send and receive, capabilities over a shared --fd, and
# functions as a service: pg serve workers (per-call and --stdio) called
# by pg call and by the Python client, the load spread over two workers,
# error replies. Needs pg and python3 on PATH, the Python files in $PG_PY.
# TAP; ends with "N passed, N failed".

PG_PY=${PG_PY:-/pg/python}
PG_EXAMPLES=${PG_EXAMPLES:-/pg/bin}
T=$(mktemp -d)
n=0 pass=0 fail=0
WORKERS=""

cleanup() {
	for p in $WORKERS; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# t NAME FUNCTION: runs it with its output kept; prints it on failure.
t() {
	n=$((n + 1))
	if "$2" >"$T/log" 2>&1; then
		echo "ok $n - $1"
		pass=$((pass + 1))
	else
		sed 's/^/# /' "$T/log"
		echo "not ok $n - $1"
		fail=$((fail + 1))
	fi
}

die() { echo "$*"; return 1; }

# A pCID of our own for NAME: the CID of a spec text.
pcid() {
	echo "test spec: $1" >"$T/spec-$1"
	pg cid "$T/spec-$1"
}

# expect_exit CODE CMD...: runs CMD (stdin from /dev/null), checks its exit.
expect_exit() {
	want=$1
	shift
	"$@" </dev/null >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" -eq "$want" ] || die "$* exited $got, expected $want: $(cat "$T/err")"
}

# wait_for FILE TEXT: up to 5 s for TEXT to appear in FILE.
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 50 ] || die "no '$2' in $1: $(cat "$1" 2>/dev/null)" || return 1
		sleep 0.1
	done
}

# serve NAME PCID GROUP [OPTS] -- CMD...: a background worker, once it serves.
serve() {
	name=$1
	shift
	pg serve "$@" 2>"$T/serve-$name" &
	WORKERS="$WORKERS $!"
	wait_for "$T/serve-$name" serving
}

test_help() {
	for v in hello send recv sub join claim grant redeem revoke stats cid \
		call serve help; do
		pg "$v" --help >"$T/out" 2>&1 || die "pg $v --help failed"
		grep -q "pg $v\|usage: pg VERB" "$T/out" || die "pg $v --help: $(cat "$T/out")"
	done
}

test_usage_exits() {
	expect_exit 2 pg nosuchverb &&
	expect_exit 2 pg send &&
	expect_exit 2 pg send not-a-cid 1 &&
	expect_exit 2 pg recv --count 0 &&
	expect_exit 2 pg claim "$(pcid usage)" &&	# needs --fd
	grep -q "needs --fd" "$T/err"
}

test_hello() {
	pg hello >"$T/out" || die "pg hello failed"
	grep -q '^endpoint [1-9]' "$T/out" || die "$(cat "$T/out")"
	pg hello --json | python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["version"] == 4 and d["endpoint"] > 0, d'
}

test_cid() {
	echo "some protocol" >"$T/proto.md"
	want=000155122$(python3 -c 'import hashlib, sys; print("0" + hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$T/proto.md")
	got=$(pg cid --hex "$T/proto.md")
	[ "$got" = "$want" ] || die "pg cid --hex: $got, expected $want"
	pg cid "$T/proto.md" | grep -q '^bafkrei' || die "not base32: $(pg cid "$T/proto.md")"
}

test_send_recv() {
	p=$(pcid sendrecv)
	pg sub --count 2 --timeout 5000 "$p" >"$T/got" 2>"$T/sub" &
	sub=$!
	wait_for "$T/sub" receiving || return 1
	pg send "$p" '"hi"' 7 -2 "h'00ff'" true null || die "send failed"
	printf 'file bytes' >"$T/body"
	pg send "$p" @"$T/body" || die "send @FILE failed"
	wait $sub || die "pg sub exited $?: $(cat "$T/sub")"
	hex=$(pg cid --hex "$T/spec-sendrecv")
	grep -qx "1735551332(\[42(h'$hex'), \"hi\", 7, -2, h'00ff', true, null\])" "$T/got" ||
		die "got: $(cat "$T/got")"
	grep -q "h'66696c65206279746573'" "$T/got" || die "got: $(cat "$T/got")"
}

test_json_and_raw() {
	p=$(pcid json)
	pg sub --count 1 --timeout 5000 --json "$p" >"$T/got" 2>"$T/sub-json" &
	sub=$!
	wait_for "$T/sub-json" receiving || return 1
	pg send "$p" '"x"' 1 || die "send failed"
	wait $sub || die "pg sub exited $?"
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["tag"] == 1735551332 and d["value"][1:] == ["x", 1], d' "$T/got" ||
		die "not the JSON expected: $(cat "$T/got")"
	# --raw out, --raw in: the exact bytes go round. (Each pg sub has its
	# own stderr file: waiting on a reused one could see the previous
	# sub's "receiving" before the redirection truncated it.)
	pg sub --count 1 --timeout 5000 --raw "$p" >"$T/raw" 2>"$T/sub-raw" &
	sub=$!
	wait_for "$T/sub-raw" receiving || return 1
	pg send "$p" '"x"' 1 || die "send failed"
	wait $sub || die "pg sub --raw exited $?"
	pg sub --count 1 --timeout 5000 --raw "$p" >"$T/raw2" 2>"$T/sub-raw2" &
	sub=$!
	wait_for "$T/sub-raw2" receiving || return 1
	pg send --raw <"$T/raw" || die "send --raw failed"
	wait $sub || die "pg sub exited $?"
	cmp "$T/raw" "$T/raw2" || die "raw bytes differ"
}

test_send_errors() {
	expect_exit 1 pg send "$(pcid nobody)" 1 &&
	grep -q EHOSTUNREACH "$T/err" || die "no EHOSTUNREACH: $(cat "$T/err")"
	printf '\001' >"$T/bad"
	pg send --raw <"$T/bad" 2>"$T/err"
	[ $? -eq 1 ] || die "a bad frame did not exit 1"
	grep -q "not a grid frame" "$T/err" || die "no reason: $(cat "$T/err")"
}

test_recv_timeout() {
	expect_exit 3 pg recv --timeout 200
}

test_capabilities() {
	p=$(pcid caps)
	exec 3<>/dev/promisegrid 4<>/dev/promisegrid
	pg claim --fd 3 "$p" >"$T/out" || die "claim: $(cat "$T/out")"
	grep -qx "rights srg" "$T/out" || die "claim said $(cat "$T/out")"
	pg sub --fd 3 "$p" || die "the claimer cannot receive"
	expect_exit 1 pg send --fd 4 "$p" 1 || return 1
	grep -q EACCES "$T/err" || die "no EACCES: $(cat "$T/err")"
	tok=$(pg grant --fd 3 --rights s "$p") || die "grant failed"
	[ ${#tok} -eq 64 ] || die "token $tok"
	pg redeem --fd 4 "$tok" >"$T/out" || die "redeem failed"
	grep -qx "rights s" "$T/out" || die "redeem said $(cat "$T/out")"
	pg send --fd 4 "$p" 1 || die "send with the token failed"
	pg recv --fd 3 --count 1 --timeout 2000 >/dev/null || die "nothing came"
	pg revoke --fd 3 "$tok" >"$T/out" || die "revoke failed"
	grep -qx "tokens 1" "$T/out" || die "revoke said $(cat "$T/out")"
	expect_exit 1 pg send --fd 4 "$p" 1 || return 1
	expect_exit 1 pg redeem --fd 4 "$tok"
	exec 3>&- 4>&-
}

test_stats() {
	pg stats >"$T/out" || die "stats failed"
	grep -q '^module.frames_sent [0-9]' "$T/out" || die "$(cat "$T/out")"
	grep -q '^endpoint.inflight [0-9]' "$T/out" || die "$(cat "$T/out")"
	pg stats --json | python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["module"]["endpoints"] >= 1, d'
}

test_serve_call() {
	f=$(pcid wc)
	serve w1 "$f" wc -- sh -c 'wc -w' || return 1
	got=$(echo "one two three" | pg call "$f") || die "pg call failed"
	[ "$(echo $got)" = 3 ] || die "pg call said '$got'"
	# The Python client calls the same worker.
	hex=$(pg cid --hex "$T/spec-wc")
	got=$(echo "a b c d" | python3 "$PG_PY/example.py" call "$hex") ||
		die "python call failed"
	[ "$(echo $got)" = 4 ] || die "python call said '$got'"
}

test_spread() {
	f=$(pcid spread)
	serve s1 "$f" pool -- sh -c 'cat >/dev/null; echo one' || return 1
	serve s2 "$f" pool -- sh -c 'cat >/dev/null; echo two' || return 1
	i=0
	: >"$T/who"
	while [ $i -lt 10 ]; do
		echo x | pg call "$f" >>"$T/who" || die "call $i failed"
		i=$((i + 1))
	done
	a=$(grep -c one "$T/who")
	b=$(grep -c two "$T/who")
	echo "# worker one served $a calls, worker two $b"
	[ "$a" -ge 3 ] && [ "$b" -ge 3 ] && [ $((a + b)) -eq 10 ] ||
		die "not spread: $a and $b"
}

test_call_errors() {
	f=$(pcid fails)
	serve e1 "$f" g -- sh -c 'echo "it broke" >&2; exit 5' || return 1
	echo x | pg call "$f" >"$T/out" 2>"$T/err"
	[ $? -eq 4 ] || die "a failed function did not exit 4"
	grep -q "EREMOTEIO" "$T/err" && grep -q "exit status 5" "$T/err" &&
		grep -q "it broke" "$T/err" || die "stderr: $(cat "$T/err")"
	echo x | pg call --timeout 500 "$(pcid unserved)" 2>"$T/err"
	[ $? -eq 1 ] && grep -q "no worker serves" "$T/err" ||
		die "unserved: $(cat "$T/err")"
}

test_serve_stdio() {
	f=$(pcid stdio)
	serve st1 "$f" g --stdio -- python3 "$PG_PY/stdio_worker.py" || return 1
	for i in 1 2 3; do
		got=$(echo "w$i x y" | pg call "$f") || die "call $i failed"
		[ "$(echo $got)" = 3 ] || die "call $i said '$got'"
	done
	printf '' | pg call "$f" 2>"$T/err"
	[ $? -eq 4 ] && grep -q "EINVAL" "$T/err" && grep -q "empty body" "$T/err" ||
		die "empty body: $(cat "$T/err")"
}

# A worker (Python) joins and never reads; killed once a call is queued
# for it (poll says so, nothing read), pg call fails at once (exit 1,
# EPIPE), long before its timeout.
test_call_worker_died() {
	f=$(pcid dies)
	PYTHONPATH="$PG_PY" python3 -c '
import select, sys, time, promisegrid as pg
e = pg.Endpoint()
e.receive(bytes.fromhex(sys.argv[1])[1:], group="g", attest=True)
open(sys.argv[2], "w").write("joined")
p = select.poll()
p.register(e.fd, select.POLLIN)
p.poll(30000)
open(sys.argv[2], "w").write("queued")
time.sleep(60)' "$(pg cid --hex "$T/spec-dies")" "$T/worker" &
	w=$!
	WORKERS="$WORKERS $w"
	wait_for "$T/worker" joined || return 1
	start=$(date +%s)
	echo x | pg call --timeout 30000 "$f" >"$T/out" 2>"$T/err" &
	c=$!
	wait_for "$T/worker" queued || return 1
	kill -9 $w
	wait $c
	st=$?
	took=$(($(date +%s) - start))
	[ $st -eq 1 ] && grep -q "EPIPE" "$T/err" && grep -q "unread" "$T/err" ||
		die "exit $st after ${took}s: $(cat "$T/err")"
	[ $took -lt 10 ] || die "took ${took}s"
}

test_shell_example() {
	sh "$PG_EXAMPLES/shell-example.sh" >"$T/out" 2>&1 || die "exit $?: $(cat "$T/out")"
	grep -q '"hello", 1\])\])$' "$T/out" && grep -q "without a token: .*EACCES" "$T/out" &&
		grep -q '"with a token", 3\])\])$' "$T/out" &&
		grep -q "^$(printf 'hash me' | sha256sum | cut -c1-64)" "$T/out" ||
		die "unexpected output: $(cat "$T/out")"
}

test_python_example() {
	python3 "$PG_PY/example.py" exchange >"$T/out" 2>&1 || die "exit $?: $(cat "$T/out")"
	[ "$(grep -c "written by the kernel" "$T/out")" -eq 3 ] ||
		die "unexpected output: $(cat "$T/out")"
}

echo "TAP version 13"
echo "1..17"
t "every verb has --help" test_help
t "usage errors exit 2 with words" test_usage_exits
t "pg hello, also as JSON" test_hello
t "pg cid: CIDv1 raw sha2-256 of the file" test_cid
t "pg sub and pg send: slots from arguments and files" test_send_recv
t "--json and --raw output; pg send --raw sends exact bytes" test_json_and_raw
t "send errors exit 1 with the errno and the reason" test_send_errors
t "pg recv --timeout exits 3" test_recv_timeout
t "capabilities over a shared --fd: claim, grant, redeem, revoke" test_capabilities
t "pg stats, also as JSON" test_stats
t "pg serve answers pg call and the Python client" test_serve_call
t "calls spread over two pg serve workers" test_spread
t "a failing function: exit 4, errno, status, stderr; no worker: exit 1" test_call_errors
t "pg serve --stdio with a long-lived Python worker" test_serve_stdio
t "a worker killed with the call unread: pg call fails at once (EPIPE)" test_call_worker_died
t "the shell example (userland/examples/shell-example.sh) runs" test_shell_example
t "the Python example's attested exchange runs" test_python_example
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
