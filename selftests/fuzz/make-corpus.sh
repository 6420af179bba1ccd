#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make-corpus.sh DIR: write the seed corpus (one file per item) into DIR.
# RFC 8949 Appendix A examples, some not-well-formed items (Appendix F),
# and grid frames.
set -euo pipefail
dir=$1
mkdir -p "$dir"
cid=0155122000112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
seeds=(
	00 17 1818 1903e8 1a000f4240 1b000000e8d4a51000 20 3903e7
	c249010000000000000000 f90000 f93c00 f97bff fa47c35000
	fb3ff199999999999a f97c00 f97e00 f4 f5 f6 f7 f0 f8ff
	c074323031332d30332d32315432303a30343a30305a d82076687474703a2f2f7777772e6578616d706c652e636f6d
	40 4401020304 60 6449455446 80 83010203 8301820203820405
	a0 a201020304 a26161016162820203 5f42010243030405ff
	7f657374726561646d696e67ff 9fff 9f018202039f0405ffff bf6346756ef563416d7421ff
	1c ff 5f00ff 7f4100ff a1ff 9f01 f818 1a0102 5affffffff00
	da6772696481d82a5825"00$cid" da6772696483d82a5825"00$cid"0163616263
	da6772696482d82a5825"00$cid"a26161016162820203
)
i=0
for hex in "${seeds[@]}"; do
	hex=${hex//\"/}
	printf '%s' "$hex" | xxd -r -p >"$dir/seed-$(printf %03d $i)"
	i=$((i + 1))
done
