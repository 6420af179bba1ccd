#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check-install: the Debian packages installed on a real Debian 13
# system, in QEMU. TAP.
#
#  1. tools/testing/deb/install-image.sh: the cached trixie image with Debian's
#     own kernel (the 6.12-deb13 line of tools/testing/vm/kernels.list).
#  2. PG_DEB_RELEASE=trixie tools/deb/build.sh: the project's packages,
#     built for Debian 13.
#  3. install-image.sh download: the archive packages the guest's apt
#     will want (linux-headers-ABI, dkms, gcc-14, libcbor0.10, ...),
#     resolved against the image, into a local repository.
#  4. A run disk (ext4, label PGRUN) with the packages, that repository
#     and tools/testing/deb/install-guest.sh; QEMU boots the image (snapshot=on:
#     the cached image never changes) with no network, single-threaded
#     TCG (tools/testing/vm/README.md, "QEMU"). systemd runs the guest script,
#     which installs with apt, lets DKMS build the module, and checks
#     it (install-guest.sh says what); its TAP is read back from the
#     run disk with debugfs.
# PG_INSTALL_TIMEOUT (default 2400 s) bounds the VM; PG_INSTALL_LOG
# keeps the console log.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
LIST=${PG_KERNELS_LIST:-$top/tools/testing/vm/kernels.list}
timeout=${PG_INSTALL_TIMEOUT:-2400}
tmp=$(mktemp -d)
qpid=""
# shellcheck disable=SC2317  # the EXIT trap
cleanup() {
	[ -z "$qpid" ] || kill "$qpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start=$(date +%s)
n=0 pass=0 fail=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
not_ok() {	# not_ok NAME [LOG]: a failure, the log's tail as comments
	n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"
	[ -z "${2:-}" ] || tail -n 40 "$2" | sed 's/^/# /'
}
finish() {
	echo "1..$n"
	echo "# check-install took $(($(date +%s) - start)) s"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ] && exit 0
	exit 1
}

echo "TAP version 13"
# QEMU, debootstrap, mkfs.ext4 and debugfs (build.sh installs dpkg-dev).
"$top/tools/deps.sh" vm || exit 1
abi=$(awk '$1 == "6.12-deb13" { print $2 }' "$LIST")
if [ -z "$abi" ]; then
	echo "no 6.12-deb13 line in $LIST" >"$tmp/err"
	not_ok "the Debian 13 kernel is in $LIST" "$tmp/err"
	finish
fi
# 1. the image
if "$here/install-image.sh" "$abi" >"$tmp/image.log" 2>&1; then
	img=$(sed -n 's/^IMAGE=//p' "$tmp/image.log" | tail -n 1)
	ok "a Debian 13 image with linux-image-$abi (cached in $img)"
else
	not_ok "a Debian 13 image with linux-image-$abi" "$tmp/image.log"
	finish
fi
root=$img/rootfs
# 2. the packages, for trixie
mkdir -p "$tmp/run/debs" "$tmp/run/repo"
if PG_DEB_RELEASE=trixie "$top/tools/deb/build.sh" "$tmp/debs" >"$tmp/deb.log" 2>&1; then
	ok "make deb for Debian 13 (PG_DEB_RELEASE=trixie)"
else
	not_ok "make deb for Debian 13 (PG_DEB_RELEASE=trixie)" "$tmp/deb.log"
	finish
fi
# The version the packages were built with (the tree may move on while
# this runs): from the dkms package's file name.
ver=$(cd "$tmp/debs" && ls promisegrid-dkms_*_all.deb 2>/dev/null | head -n 1 |
	sed 's/^promisegrid-dkms_\(.*\)_all\.deb$/\1/')
for p in promisegrid-dkms_"${ver}"_all libpromisegrid1_"${ver}"_amd64 \
	promisegrid-tools_"${ver}"_amd64; do
	cp "$tmp/debs/$p.deb" "$tmp/run/debs/" || { not_ok "$p.deb was built"; finish; }
done
# 3. the guest's offline repository
if "$here/install-image.sh" download "$abi" "$tmp/run/debs" "$tmp/run/repo" \
	>"$tmp/download.log" 2>&1; then
	ok "the guest's local repository: $(find "$tmp/run/repo" -name '*.deb' | wc -l) archive packages for linux-headers-$abi and the .debs"
else
	not_ok "the guest's local repository" "$tmp/download.log"
	finish
fi
# 4. the run disk and the VM
cp "$here/install-guest.sh" "$tmp/run/run.sh"
printf 'VER=%s\nABI=%s\n' "$ver" "$abi" >"$tmp/run/env"
size=$(du -sm "$tmp/run" | cut -f1)
truncate -s "$((size + 64))M" "$tmp/run.img"
if ! mkfs.ext4 -q -L PGRUN -d "$tmp/run" "$tmp/run.img" >"$tmp/mkfs.log" 2>&1; then
	not_ok "the run disk (mkfs.ext4 -d)" "$tmp/mkfs.log"
	finish
fi
log=${PG_INSTALL_LOG:-$tmp/console}
echo "# booting $abi on the Debian 13 image, timeout ${timeout}s" >&2
vm_start=$(date +%s)
timeout --kill-after=10 "$timeout" qemu-system-x86_64 \
	-accel tcg,thread=single -cpu max -m 2048 -smp 2 \
	-nographic -no-reboot -nic none \
	-kernel "$root/boot/vmlinuz-$abi" -initrd "$root/boot/initrd.img-$abi" \
	-append "root=/dev/vda rw console=ttyS0 panic=-1 quiet systemd.show_status=0" \
	-drive "file=$img/root.img,format=raw,if=virtio,snapshot=on" \
	-drive "file=$tmp/run.img,format=raw,if=virtio" \
	</dev/null >"$log" 2>&1 &
qpid=$!
rc=0
wait "$qpid" || rc=$?
qpid=""
vm=$(($(date +%s) - vm_start))
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	not_ok "the VM finished within ${timeout}s (PG_INSTALL_TIMEOUT)" "$log"
elif ! grep -q '^PG-INSTALL-EXIT=' "$log"; then
	not_ok "the guest ran the test (QEMU exit $rc)" "$log"
else
	ok "the guest booted $abi, ran the test and powered off"
fi
# The guest's TAP, renumbered into ours.
debugfs -R 'cat /tap' "$tmp/run.img" 2>/dev/null | sed 's/\r$//' >"$tmp/tap"
if ! grep -q '^1\.\.' "$tmp/tap"; then
	echo "the guest's TAP is missing or incomplete:" >"$tmp/err"
	cat "$tmp/tap" >>"$tmp/err"
	not_ok "the guest's TAP is complete" "$tmp/err"
fi
while IFS= read -r line; do
	case $line in
	"ok "*) ok "${line#ok * - }" ;;
	"not ok "*) not_ok "${line#not ok * - }" ;;
	"#"*) echo "$line" ;;
	esac
done <"$tmp/tap"
if [ "$fail" -gt 0 ]; then
	debugfs -R 'cat /apt-install.log' "$tmp/run.img" 2>/dev/null >"$tmp/apt.log"
	[ ! -s "$tmp/apt.log" ] || { echo "# apt-get install's log:"; tail -n 30 "$tmp/apt.log" | sed 's/^/# /'; }
fi
echo "# the VM ran $vm s"
finish
