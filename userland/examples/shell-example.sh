#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The PromiseGrid kernel module authors.
#
# The grid kernel from a shell script, with pg: one endpoint shared by
# several commands, a subscription, a claimed pCID with a token, and a
# function served by a command and called by another. Needs the module
# loaded and pg on PATH. Prints what happens; exits non-zero on failure.
set -eu
dir=$(mktemp -d)
trap 'kill $worker 2>/dev/null; rm -rf "$dir"' EXIT

# A protocol is named by the CID of its spec text.
echo "example: greetings, grid([42(pCID), text, n])" >"$dir/greet.md"
greet=$(pg cid "$dir/greet.md")
echo "greetings pCID: $greet"

# One endpoint, opened by the shell, shared by the commands below.
exec 3<>/dev/promisegrid
pg sub --fd 3 --attest "$greet"
pg send "$greet" '"hello"' 1
pg recv --fd 3 --count 1 --timeout 2000

# Claim it: from now on sending needs a right, which a token carries.
pg claim --fd 3 "$greet"
if pg send "$greet" '"no right"' 2 2>"$dir/err"; then
	echo "sent without a right?"; exit 1
fi
echo "without a token: $(cat "$dir/err")"
token=$(pg grant --fd 3 --rights s "$greet")
exec 4<>/dev/promisegrid
pg redeem --fd 4 "$token" >/dev/null
pg send --fd 4 "$greet" '"with a token"' 3
pg recv --fd 3 --count 1 --timeout 2000

# A function: a command run once per call, its stdout the reply.
echo "example: the sha-256 of the body, in hex" >"$dir/sha256.md"
fn=$(pg cid "$dir/sha256.md")
pg serve "$fn" hashers -- sha256sum 2>"$dir/serve" &
worker=$!
while ! grep -q serving "$dir/serve"; do sleep 0.1; done
printf 'hash me' | pg call "$fn"
