#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# extract-btf.sh VMLINUZ OUT
#
# The kernel's BTF, taken from its compressed image (Debian 12's headers
# ship no vmlinux): find the xz, zstd or gzip payload in the bzImage
# (Debian's 6.1 uses xz, 6.12 and later zstd), unpack the ELF and keep
# its .BTF section. OUT is a small ELF usable as pahole's
# --btf_base for module BTF.
set -euo pipefail
vmlinuz=$1 out=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The first payload that unpacks to an ELF file.
python3 - "$vmlinuz" "$tmp/vmlinux" <<'PY'
import lzma, subprocess, sys, zlib
data = open(sys.argv[1], "rb").read()
def xz(b): return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(b)
def gz(b): return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(b)
def zst(b):  # trailing bytes after the frame make zstd fail: keep its output
    return subprocess.run(["zstd", "-dcq"], input=b, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL).stdout
for magic, unpack in ((b"\xfd7zXZ\x00", xz), (b"\x28\xb5\x2f\xfd", zst),
                      (b"\x1f\x8b\x08", gz)):
    at = data.find(magic)
    while at >= 0:
        try:
            out = unpack(data[at:])
        except Exception:
            out = b""
        if out[:4] == b"\x7fELF":
            open(sys.argv[2], "wb").write(out)
            sys.exit(0)
        at = data.find(magic, at + 1)
sys.exit(1)
PY
if [ ! -s "$tmp/vmlinux" ]; then
	echo "extract-btf: no ELF kernel found in $vmlinuz" >&2
	exit 1
fi
objcopy --only-section=.BTF "$tmp/vmlinux" "$tmp/btf" 2>/dev/null
# grep reads all of readelf's output: no SIGPIPE under pipefail
readelf -S "$tmp/btf" | grep -c '\.BTF' >/dev/null || {
	echo "extract-btf: $vmlinuz has no BTF" >&2
	exit 1
}
mv "$tmp/btf" "$out"
