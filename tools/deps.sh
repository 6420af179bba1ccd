#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# deps.sh [host|vm|all]: install, from Debian's packages, what building
# and testing need. Quick and offline when everything is there already.
#   host  (the default) building the module, library, tools and policy,
#         and the host tests (make, make check-host, make fuzz, the demo)
#   vm    the QEMU harness (tools/testing/vm/run.sh runs this on every
#         boot): qemu, the initramfs, the module build against a Debian
#         kernel, debootstrap for install images
#   all   both
set -euo pipefail

host=(make gcc g++ libc6-dev python3 libcbor-dev liburing-dev libbpf-dev
      clang llvm bpftool sparse qemu-system-x86 busybox-static cpio zstd
      xz-utils kmod pahole libclang-rt-14-dev xxd
      golang golang-github-fxamacker-cbor-dev)
vm=(qemu-system-x86 busybox-static cpio gzip zstd xz-utils kmod gcc-12
    gcc make libc6-dev libelf1 util-linux coreutils apt dpkg pahole
    binutils python3 debootstrap debian-archive-keyring e2fsprogs)

main() {
	local p pkgs missing=()

	case ${1:-host} in
	host) pkgs=("${host[@]}") ;;
	vm) pkgs=("${vm[@]}") ;;
	all) pkgs=("${host[@]}" "${vm[@]}") ;;
	*) echo "usage: deps.sh [host|vm|all]" >&2; return 2 ;;
	esac
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "ok installed" || missing+=("$p")
	done
	[ "${#missing[@]}" -gt 0 ] || return 0
	echo "deps: installing ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >&2
}

main "$@"
