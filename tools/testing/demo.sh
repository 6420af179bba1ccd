#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the module and the demo programs, boot Debian's kernel in QEMU,
# load the module and run the demo (tools/testing/demo-guest.sh): one exchange
# with fan-out and a worker group, then a function served by two pg
# serve workers and called from C, Python and the shell.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

tools/deps.sh
make -s -C userland/examples
make -s -C userland/pg
pcid=$(tools/maint/pg-cid docs/protocols/example-hello-v1.md | sed -n 2p | cut -c3-)
echo "demo pCID (example-hello-v1): $(tools/maint/pg-cid docs/protocols/example-hello-v1.md | head -1)"

guest=$(mktemp)
trap 'rm -f "$guest"' EXIT
{ echo "PCID=$pcid"; cat tools/testing/demo-guest.sh; } >"$guest"
exec tools/testing/vm/run.sh --timeout 300 --script "$guest" \
	--bin userland/examples/pg-demo --bin userland/examples/wc-call \
	--bin userland/pg/build/pg \
	--python userland/python/example.py --python shutil --python locale \
	--file userland/python/promisegrid.py:/pg/python/promisegrid.py \
	--file userland/python/example.py:/pg/python/example.py \
	--file docs/protocols/example-wordcount-v1.md:/pg/docs/example-wordcount-v1.md
