#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the host packages the VM harness needs (Debian). Quick and
# offline when they are all installed already.
set -euo pipefail

pkgs=(qemu-system-x86 busybox-static cpio gzip zstd xz-utils kmod gcc-12
      gcc make libc6-dev libelf1 util-linux coreutils apt dpkg pahole
      binutils python3 debootstrap debian-archive-keyring e2fsprogs)

main() {
	local p missing=()
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
