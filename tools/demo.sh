#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the module and the demo programs, boot Debian's kernel in QEMU,
# load the module and run one exchange (tools/demo-guest.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

tools/deps.sh
make -s -C userland/examples
pcid=$(tools/pg-cid docs/protocols/example-hello-v1.md | sed -n 2p | cut -c3-)
echo "demo pCID (example-hello-v1): $(tools/pg-cid docs/protocols/example-hello-v1.md | head -1)"

guest=$(mktemp)
trap 'rm -f "$guest"' EXIT
{ echo "PCID=$pcid"; cat tools/demo-guest.sh; } >"$guest"
exec tools/vm/run.sh --timeout 300 --bin userland/examples/pg-demo \
	--script "$guest"
