#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# module-btf.sh KO BASE_BTF
#
# Add BTF to an out-of-tree module, as Kbuild would if the build tree had
# vmlinux: pahole encodes the module's types on top of the kernel's (BASE:
# /sys/kernel/btf/vmlinux on a host, or an ELF or raw BTF extracted from
# the image). Then bpftool and BTF-based tracing (fentry on module
# functions) see the module's types in /sys/kernel/btf/promisegrid.
set -euo pipefail
ko=$1 base=$2

command -v pahole >/dev/null || { echo "module-btf: no pahole (apt: pahole)" >&2; exit 1; }
[ -r "$base" ] || { echo "module-btf: no base BTF at $base" >&2; exit 1; }
# grep -c reads all of readelf's output: grep -q would exit at the first
# match and, under pipefail, readelf's SIGPIPE would read as "no BTF".
if readelf -S "$ko" | grep -c '\.BTF' >/dev/null; then
	exit 0	# Kbuild did it already
fi
LLVM_OBJCOPY=objcopy pahole -J --btf_gen_floats -j --btf_base "$base" "$ko"
readelf -S "$ko" | grep -c '\.BTF' >/dev/null || { echo "module-btf: pahole added no .BTF to $ko" >&2; exit 1; }
