#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install what building and testing need, from Debian's packages. Quick
# when everything is there already.
set -euo pipefail
pkgs=(make gcc g++ libc6-dev python3 libcbor-dev liburing-dev libbpf-dev
      clang llvm bpftool sparse qemu-system-x86 busybox-static cpio zstd
      xz-utils kmod pahole libclang-rt-14-dev xxd
      golang golang-github-fxamacker-cbor-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
fi
