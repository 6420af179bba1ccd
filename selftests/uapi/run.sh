#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host tests of the uapi header: it builds as C99 and C++ with -Werror, and
# the kernel pCIDs in it are the CIDs of the spec texts in docs/protocols/.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pass=0 fail=0 n=0

t() {	# t NAME CMD...: one TAP test
	n=$((n + 1))
	local name=$1
	shift
	if "$@" >"$out/log" 2>&1; then
		echo "ok $n - $name"; pass=$((pass + 1))
	else
		echo "not ok $n - $name"; sed 's/^/# /' "$out/log"; fail=$((fail + 1))
	fi
}

header_pcid() {	# the hex bytes of a PG_PCID_* initializer
	sed -n "/#define $1 {/,/}/p" "$top/uapi/linux/promisegrid.h" |
		grep -o '0x[0-9a-f][0-9a-f]' | sed 's/0x//' | tr -d '\n'
}

spec_pcid() {	# the CID of a spec text, as tools/maint/pg-cid prints it (minus 00)
	"$top/tools/maint/pg-cid" "$1" | sed -n 2p | cut -c3-
}

same_pcid() {
	local h s
	h=$(header_pcid "$1")
	s=$(spec_pcid "$top/docs/protocols/$2")
	echo "header $h"; echo "spec   $s"
	[ -n "$h" ] && [ "$h" = "$s" ]
}

# The shared codec (common/) takes its limits from the uapi header and
# needs nothing of the kernel's: it builds with the two alone.
codec_builds_alone() {
	cc -std=c11 -Wall -Wextra -Werror -I"$top/uapi" -I"$top/common" -c \
		"$top/common/pg_cbor.c" -o "$out/pg_cbor.o" &&
	cc -std=c11 -Wall -Wextra -Werror -I"$top/uapi" -I"$top/common" -c \
		"$top/common/pg_envelope.c" -o "$out/pg_envelope.o"
}

echo "TAP version 13"
echo "1..8"
t "uapi header builds as C99 -Wall -Werror and runs" \
	sh -c "cc -std=c99 -Wall -Wextra -Werror -pedantic -I'$top/uapi' \
		'$top/selftests/uapi/test_uapi.c' -o '$out/c99' && '$out/c99'"
t "uapi header builds as C++ (g++ -Wall -Werror)" \
	sh -c "g++ -x c++ -Wall -Wextra -Werror -I'$top/uapi' \
		'$top/selftests/uapi/test_uapi.c' -o '$out/cxx' && '$out/cxx'"
t "PG_PCID_CONTROL is the CID of pg-kernel-control-v4.md" \
	same_pcid PG_PCID_CONTROL pg-kernel-control-v4.md
t "PG_PCID_DELIVERY is the CID of pg-kernel-delivery-v3.md" \
	same_pcid PG_PCID_DELIVERY pg-kernel-delivery-v3.md
for v in CONTROL_V1:control-v1 CONTROL_V2:control-v2 CONTROL_V3:control-v3 \
	DELIVERY_V1:delivery-v1 DELIVERY_V2:delivery-v2; do
	t "PG_PCID_${v%%:*} (retired) is the CID of pg-kernel-${v#*:}.md" \
		same_pcid "PG_PCID_${v%%:*}" "pg-kernel-${v#*:}.md"
done
t "the shared codec builds from common/ and the uapi header alone" codec_builds_alone
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
