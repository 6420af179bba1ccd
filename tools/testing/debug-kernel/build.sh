#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build.sh
#
# Build a debug kernel (KASAN, lockdep, kmemleak, UBSAN, DEBUG_LIST, ...)
# from Debian's linux-source-6.1 for the promisegrid VM tests, once, into
# ${PG_CACHE:-/var/cache/promisegrid}/debug-kernel/:
#   linux-source-6.1/      the unpacked source, also the build tree
#                          (bzImage, vmlinux, Module.symvers, modules_prepare)
#   cache/kernels/$REL/    vmlinuz, kdir, config, .complete: the layout of
#                          tools/testing/vm/fetch-kernel.sh, so that
#                          PG_CACHE=.../cache tools/testing/vm/run.sh --kernel $REL
#                          boots it and builds the module against it
#   build.log, build-seconds, .complete (its stamp)
# Idempotent: with a complete build for the same source version and
# config fragment it does nothing. The config is x86_64_defconfig +
# kernel/configs/kvm_guest.config + tools/testing/debug-kernel/debug.config.
# The last line on stdout is "KERNEL=<release>".
#   -j N     parallel jobs (default: nproc)
#   --force  rebuild even if complete
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${PG_CACHE:-/var/cache/promisegrid}
DIR=$CACHE/debug-kernel
FRAGMENT=$here/debug.config
jobs=$(nproc) force=0

die() { echo "debug-kernel: $*" >&2; exit 1; }
log() { echo "debug-kernel: $(date +%T) $*" >&2; }

deps() {
	local p missing=()
	for p in linux-source-6.1 flex bison bc libelf-dev libssl-dev pahole \
		 gcc make xz-utils python3 cpio kmod; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "ok installed" || missing+=("$p")
	done
	[ "${#missing[@]}" -gt 0 ] || return 0
	log "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >&2
}

# Identifies what a complete build was made from.
stamp() {
	{
		dpkg-query -W -f='${Version}\n' linux-source-6.1
		sha256sum <"$FRAGMENT"
	} | sha256sum | cut -d' ' -f1
}

unpack() {
	local tarball=/usr/src/linux-source-6.1.tar.xz ver
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
	[ -f "$tarball" ] || die "no $tarball (apt: linux-source-6.1)"
	if [ "$(cat "$DIR/source-version" 2>/dev/null)" = "$ver" ] &&
	   [ -f "$DIR/linux-source-6.1/Makefile" ]; then
		return 0
	fi
	log "unpacking linux-source-6.1 $ver"
	rm -rf "$DIR/linux-source-6.1"
	tar -xf "$tarball" -C "$DIR"
	echo "$ver" >"$DIR/source-version"
}

configure() {
	local tree=$1 line opt
	log "configuring (defconfig + kvm_guest.config + debug.config)"
	make -s -C "$tree" x86_64_defconfig
	(cd "$tree" && scripts/kconfig/merge_config.sh -m .config \
		kernel/configs/kvm_guest.config "$FRAGMENT") >&2
	make -s -C "$tree" olddefconfig
	# Kconfig drops what it cannot satisfy: insist on every "=y".
	while IFS= read -r line; do
		opt=${line%%=*}
		grep -qx "$line" "$tree/.config" ||
			die "$opt: wanted '$line', got '$(grep "^$opt=" \
				"$tree/.config" || echo unset)'"
	done < <(grep -E '^CONFIG_[A-Z0-9_]+=y$' "$FRAGMENT")
}

build() {
	local tree=$DIR/linux-source-6.1 start end rel k
	configure "$tree"
	log "building bzImage and modules with -j$jobs (log: $DIR/build.log)"
	start=$(date +%s)
	if ! make -C "$tree" -j"$jobs" bzImage modules >"$DIR/build.log" 2>&1
	then
		tail -n 40 "$DIR/build.log" >&2
		die "kernel build failed (see $DIR/build.log)"
	fi
	make -s -C "$tree" modules_prepare >>"$DIR/build.log" 2>&1
	end=$(date +%s)
	echo $((end - start)) >"$DIR/build-seconds"
	rel=$(make -s -C "$tree" kernelrelease)
	log "built $rel in $((end - start)) s"

	# The layout of tools/testing/vm/fetch-kernel.sh, for tools/testing/vm/run.sh.
	rm -rf "$DIR/cache/kernels"
	k=$DIR/cache/kernels/$rel
	mkdir -p "$k"
	ln -sfn "$tree/arch/x86/boot/bzImage" "$k/vmlinuz"
	ln -sfn "$tree/.config" "$k/config"
	ln -sfn "$tree/System.map" "$k/System.map"
	ln -sfn "$tree" "$k/kdir"
	# run.sh extracts the base BTF from vmlinuz; vmlinux is right here.
	ln -sfn "$tree/vmlinux" "$k/vmlinux.btf"
	echo "debug $(cat "$DIR/source-version")" >"$k/.complete"
	echo "$rel" >"$DIR/release"
	stamp >"$DIR/.complete"
}

main() {
	while [ $# -gt 0 ]; do
		case $1 in
		-j) jobs=$2; shift 2 ;;
		--force) force=1; shift ;;
		-h|--help) sed -n '4,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
		*) die "unknown argument $1 (see --help)" ;;
		esac
	done
	mkdir -p "$DIR"
	exec 9>"$DIR/.lock"
	flock 9
	deps
	if [ "$force" = 0 ] && [ -f "$DIR/.complete" ] &&
	   [ "$(cat "$DIR/.complete")" = "$(stamp)" ]; then
		log "up to date: $(cat "$DIR/release")," \
		    "built in $(cat "$DIR/build-seconds") s"
	else
		rm -f "$DIR/.complete"
		unpack
		build
	fi
	echo "KERNEL=$(cat "$DIR/release")"
}

main "$@"
