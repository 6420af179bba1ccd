#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# install-image.sh [ABI]
# install-image.sh download ABI DEBDIR REPODIR
#
# The Debian 13 system make check-install boots: a debootstrap of trixie
# (minbase, plus systemd, udev, apt, adduser and Debian's own kernel
# linux-image-ABI with its initramfs), in
# ${PG_CACHE:-/var/cache/promisegrid}/install/ABI/:
#   rootfs/      the tree (also the chroot the host downloads the guest's
#                packages in: it has exactly the guest's dpkg state)
#   root.img     rootfs as an ext4 image (mkfs.ext4 -d: no loop mount);
#                the VM opens it with snapshot=on, so it never changes
#   .complete    written last, with the image's format (below); delete
#                the directory to rebuild
# ABI defaults to the 6.12-deb13 line of tools/testing/vm/kernels.list. Created
# once (1.5 to 2 minutes here), then reused. It has no compiler,
# no headers and no DKMS: the guest installs those with apt, offline,
# from the repository check-install.sh gives it.
#
# download: puts in REPODIR, with a Packages index, the archive packages
# (.debs) that installing linux-headers-ABI and DEBDIR/*.deb without
# recommends needs on the image, as apt in the image resolves them: the
# guest's offline repository. apt downloads them in the rootfs chroot,
# after apt-get update, with a copy of DEBDIR bind-mounted; cached
# .debs are reused (the host needs the mirror, the guest no network).
#
# At boot, pg-install.service mounts the disk labelled PGRUN and runs its
# run.sh, its output on the serial console, then powers off.
# Last stdout line: IMAGE=<directory>.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
CACHE=${PG_CACHE:-/var/cache/promisegrid}
LIST=${PG_KERNELS_LIST:-$top/tools/testing/vm/kernels.list}

die() { echo "install-image: $*" >&2; exit 1; }

abi=${1:-$(awk '$1 == "6.12-deb13" { print $2 }' "$LIST")}
[ -n "$abi" ] || die "no 6.12-deb13 line in $LIST"
dir=$CACHE/install/$abi
root=$dir/rootfs

# Run a command in the tree, /proc and /dev mounted in a private mount
# namespace (nothing stays mounted), as tools/testing/vm/chroot.sh does; with
# PG_BIND=DIR, DIR also at /pgbind.
in_root() {
	# shellcheck disable=SC2016  # expanded by the inner sh
	unshare -m --propagation private -- sh -c '
		root=$1 bind=$2; shift 2
		mount -t proc proc "$root/proc"
		mount --bind /dev "$root/dev"
		if [ -n "$bind" ]; then
			mkdir -p "$root/pgbind"
			mount --bind "$bind" "$root/pgbind"
		fi
		exec chroot "$root" "$@"' sh "$root" "${PG_BIND:-}" "$@"
}

download() {
	local debdir=$1 repo=$2 d f debs=()
	[ -f "$dir/.complete" ] || die "no image for $abi (run install-image.sh $abi)"
	# One apt at a time in the tree.
	exec 6>"$dir/.lock"
	flock 6
	d=$(mktemp -d)
	trap 'rm -rf "$d"' RETURN
	mkdir -p "$d/debs" "$d/repo/partial" "$repo"
	for f in "$debdir"/*.deb; do
		cp "$f" "$d/debs/"
		debs+=("/pgbind/debs/${f##*/}")
	done
	# Keep the cached downloads in the rootfs's own archive directory.
	export PG_BIND=$d
	in_root apt-get update -q=2 >&2
	in_root env DEBIAN_FRONTEND=noninteractive apt-get install -d -y -q=2 \
		--no-install-recommends "linux-headers-$abi" "${debs[@]}" >&2 ||
		die "apt cannot resolve linux-headers-$abi and the packages in the image"
	# What apt would install, by name: the downloaded archive .debs
	# (cached ones included) are /var/cache/apt/archives/NAME_*.deb.
	in_root env DEBIAN_FRONTEND=noninteractive apt-get install -s \
		--no-install-recommends "linux-headers-$abi" "${debs[@]}" |
		awk '$1 == "Inst" { print $2 }' >"$d/names"
	while read -r f; do
		case " ${debs[*]##*/} " in *" ${f}_"*) continue ;; esac
		cp "$root"/var/cache/apt/archives/"${f%%:*}"_*.deb "$repo/" ||
			die "no downloaded .deb for $f"
	done <"$d/names"
	(cd "$repo" && dpkg-scanpackages -m . /dev/null >Packages 2>/dev/null) ||
		die "dpkg-scanpackages failed"
	# A flat repository's Release (trusted=yes: unsigned).
	{
		echo "Origin: promisegrid check-install"
		echo "Date: $(date -u -R)"
		echo "SHA256:"
		echo " $(sha256sum <"$repo/Packages" | cut -d' ' -f1) $(stat -c %s "$repo/Packages") Packages"
	} >"$repo/Release"
	unset PG_BIND
}

if [ "${1:-}" = download ]; then
	[ $# -eq 4 ] || die "usage: install-image.sh download ABI DEBDIR REPODIR"
	abi=$2
	dir=$CACHE/install/$abi
	root=$dir/rootfs
	download "$3" "$4"
	exit 0
fi

mkdir -p "$dir"
exec 6>"$dir/.lock"
flock 6
# Bumped when what this script puts in the image changes: an image
# made by another version is rebuilt.
format=2
if [ "$(cat "$dir/.complete" 2>/dev/null)" = "$format" ]; then
	echo "IMAGE=$dir"
	exit 0
fi
command -v debootstrap >/dev/null || die "no debootstrap (tools/deps.sh vm installs it)"
command -v mkfs.ext4 >/dev/null || die "no mkfs.ext4 (apt-get install e2fsprogs)"
uri=$("$top/tools/testing/vm/apt.sh" mirror)
rm -rf "$root" "$dir/root.img"
echo "install-image: debootstrap trixie into $root" >&2
debootstrap --variant=minbase \
	--include=systemd-sysv,udev,kmod,apt,adduser,passwd,initramfs-tools,zstd \
	trixie "$root" "$uri" >&2 || die "debootstrap trixie failed"
cat >"$root/etc/apt/sources.list" <<EOF
deb $uri trixie main
deb $uri trixie-updates main
deb $uri-security trixie-security main
EOF
echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/50promisegrid"
in_root apt-get update -q=2 >&2
echo "install-image: installing linux-image-$abi" >&2
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q=2 \
	--no-install-recommends "linux-image-$abi" >&2 ||
	die "cannot install linux-image-$abi: is $abi still in the archive? (tools/testing/vm/kernels.list)"
for f in vmlinuz initrd.img; do
	[ -f "$root/boot/$f-$abi" ] || die "no /boot/$f-$abi in the image"
done
in_root apt-get clean

echo promisegrid-install >"$root/etc/hostname"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$root/etc/fstab"
in_root passwd -d root >/dev/null
# The test's runner: the disk labelled PGRUN carries run.sh and gets its
# results; the console is the serial line the host reads.
cat >"$root/etc/systemd/system/pg-install.service" <<'EOF'
[Unit]
Description=PromiseGrid install test (tools/testing/deb/check-install.sh)
After=systemd-udev-settle.service systemd-modules-load.service
Wants=systemd-udev-settle.service

# systemd itself powers off: systemctl poweroff wants D-Bus, which a
# minbase system lacks.
SuccessAction=poweroff
FailureAction=poweroff

[Service]
Type=oneshot
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
ExecStart=/bin/sh -c 'mkdir -p /run/pg && mount /dev/disk/by-label/PGRUN /run/pg && cd /run/pg && sh ./run.sh; echo "PG-INSTALL-EXIT=$?"; cd / && umount /run/pg'

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/pg-install.service \
	"$root/etc/systemd/system/multi-user.target.wants/pg-install.service"
# No login prompt competing for the serial console.
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"

echo "install-image: writing $dir/root.img" >&2
size=$(du -sm "$root" | cut -f1)
# Room for what the guest installs: the headers, gcc-14, DKMS's build.
truncate -s "$((size + 1536))M" "$dir/root.img"
mkfs.ext4 -q -L pgroot -d "$root" "$dir/root.img" >&2 ||
	die "mkfs.ext4 -d failed"
echo "$format" >"$dir/.complete"
echo "IMAGE=$dir"
