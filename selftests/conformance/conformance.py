#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""An independent conformance client for /dev/promisegrid.

Written from the contract alone: docs/abi.md, uapi/linux/promisegrid.h and
docs/protocols/pg-kernel-control-v4.md, pg-kernel-delivery-v3.md. It uses
no code of the project (its own CBOR encoder and strict grid-cbor decoder
are below, and Python's own SHA-256 for the CIDs replies name) and checks, one test per promise, what those texts say the
module does. Run as root in a VM with the module loaded; prints TAP and
ends with "N passed, N failed[, N skipped]". Module parameters it changes
are restored after each test.
"""

import ctypes
import errno as E
import hashlib
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

DEV = "/dev/promisegrid"
PROTOCOLS = os.environ.get("PG_PROTOCOLS", "/pg/conformance/protocols")
PARAMS = "/sys/module/promisegrid/parameters/"
GRID = 1735551332
# uapi/linux/promisegrid.h: PG_PCID_CONTROL, PG_PCID_DELIVERY
CONTROL = bytes.fromhex(
    "01551220772d8891a24d4b978c890aa2a3afd81a146265a965881b411727a749c1154047")
DELIVERY = bytes.fromhex(
    "0155122072222f3e05a2537a4d544642b03ade8feae4ea39ead3e1b93657d046b35d1720")
ATTEST_HDR_MAX = 160
WRITE_CHUNK = 256 << 10
TOKEN_LEN = 32

# docs/abi.md "Module parameters": name, default, low, high
PARAM_TABLE = [
    ("max_frame", 65536, 64, 1 << 20),
    ("max_depth", 16, 3, 32),
    ("queue_frames", 65536, 1, 1 << 24),
    ("queue_bytes", 8 << 20, 4096, 1 << 30),
    ("inflight_bytes", 4 << 20, 1 << 20, 1 << 30),
    ("max_receives", 65536, 1, 1 << 20),
    ("max_endpoints_per_user", 4096, 1, 1 << 20),
    ("enforcing", 0, 0, 1),
    ("max_claims", 1024, 1, 1 << 20),
    ("max_tokens", 65536, 1, 1 << 20),
    ("max_holdings", 4096, 1, 1 << 20),
    ("max_token_depth", 8, 1, 64),
    ("max_groups", 256, 1, 65536),
]


# ---------------------------------------------------------------- CBOR

class Tag:
    __slots__ = ("tag", "value")

    def __init__(self, tag, value):
        self.tag, self.value = tag, value

    def __eq__(self, other):
        return (isinstance(other, Tag) and self.tag == other.tag
                and self.value == other.value)

    def __repr__(self):
        return "Tag(%d, %r)" % (self.tag, self.value)


class Raw:
    """Bytes put into an encoding as they are (a pre-encoded item)."""
    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data


def head(major, n, width=None):
    """A CBOR head; width forces 0, 1, 2, 4 or 8 argument bytes."""
    if width is None:
        width = (0 if n < 24 else 1 if n < 0x100 else 2 if n < 0x10000
                 else 4 if n < 1 << 32 else 8)
    if width == 0:
        return bytes([major << 5 | n])
    ai = {1: 24, 2: 25, 4: 26, 8: 27}[width]
    return bytes([major << 5 | ai]) + n.to_bytes(width, "big")


def enc(v):
    """grid-cbor (RFC 8949 4.2.1) encoding of a Python value."""
    if isinstance(v, Raw):
        return v.data
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, float):
        if v != v:
            return b"\xf9\x7e\x00"
        for ai, fmt in ((25, ">e"), (26, ">f"), (27, ">d")):
            try:
                b = struct.pack(fmt, v)
            except OverflowError:
                continue
            if struct.unpack(fmt, b)[0] == v:
                return bytes([0xe0 | ai]) + b
    if isinstance(v, (bytes, bytearray)):
        return head(2, len(v)) + bytes(v)
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, (list, tuple)):
        return head(4, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, dict):
        items = sorted((enc(k), enc(x)) for k, x in v.items())
        return head(5, len(items)) + b"".join(k + x for k, x in items)
    if isinstance(v, Tag):
        return head(6, v.tag) + enc(v.value)
    raise TypeError(type(v))


class CBORError(Exception):
    pass


def dec(buf, off=0, depth=0):
    """Decode one item strictly (grid-cbor); returns (value, end)."""
    if depth > 64:
        raise CBORError("too deep")
    if off >= len(buf):
        raise CBORError("truncated")
    ib = buf[off]
    major, ai = ib >> 5, ib & 31
    off += 1
    if major == 7:
        if ai == 20:
            return False, off
        if ai == 21:
            return True, off
        if ai == 22:
            return None, off
        if ai in (25, 26, 27):
            w = {25: 2, 26: 4, 27: 8}[ai]
            if off + w > len(buf):
                raise CBORError("truncated")
            f = struct.unpack({2: ">e", 4: ">f", 8: ">d"}[w], buf[off:off + w])[0]
            if enc(f) != bytes(buf[off - 1:off + w]):
                raise CBORError("float not in its shortest form")
            return f, off + w
        raise CBORError("simple %d" % ai)
    if ai < 24:
        n = ai
    elif ai <= 27:
        w = 1 << (ai - 24)
        if off + w > len(buf):
            raise CBORError("truncated")
        n = int.from_bytes(buf[off:off + w], "big")
        off += w
        if head(major, n) != head(major, n, w):
            raise CBORError("not shortest head")
    else:
        raise CBORError("indefinite or reserved")
    if major == 0:
        return n, off
    if major == 1:
        return -1 - n, off
    if major in (2, 3):
        if off + n > len(buf):
            raise CBORError("truncated")
        b = bytes(buf[off:off + n])
        return (b if major == 2 else b.decode()), off + n
    if major == 4:
        out = []
        for _ in range(n):
            x, off = dec(buf, off, depth + 1)
            out.append(x)
        return out, off
    if major == 5:
        out, last = {}, None
        for _ in range(n):
            k0 = off
            k, off = dec(buf, off, depth + 1)
            kb = bytes(buf[k0:off])
            if last is not None and kb <= last:
                raise CBORError("map keys not in order")
            last = kb
            x, off = dec(buf, off, depth + 1)
            out[k] = x
        return out, off
    x, off = dec(buf, off, depth + 1)
    return Tag(n, x), off


def split(buf):
    """A CBOR sequence into its items' bytes."""
    out, off = [], 0
    while off < len(buf):
        _, end = dec(buf, off)
        out.append(bytes(buf[off:end]))
        off = end
    return out


# ---------------------------------------------------------------- frames

def new_pcid(tag=b""):
    """A fresh pCID: CIDv1, raw, sha2-256 over random bytes."""
    return b"\x01\x55\x12\x20" + os.urandom(32)


def pcid_item(pcid):
    return Tag(42, b"\x00" + pcid)


def frame(pcid, *slots):
    return enc(Tag(GRID, [pcid_item(pcid)] + list(slots)))


def envelope(raw):
    """(pcid, slots) of a frame, checking the grid envelope."""
    v, end = dec(raw)
    assert end == len(raw), "trailing bytes"
    assert isinstance(v, Tag) and v.tag == GRID, "not a grid tag: %r" % v
    assert raw[:5] == b"\xda\x67\x72\x69\x64", "grid tag not in 4-byte form"
    assert isinstance(v.value, list) and v.value, "not an array"
    p = v.value[0]
    assert isinstance(p, Tag) and p.tag == 42 and p.value[:1] == b"\x00"
    return p.value[1:], v.value[1:]


def request(rid, verb, args=None):
    return frame(CONTROL, rid, verb, {} if args is None else args)


ANY_ID = object()    # a raw request: its id is what the test wrote


def cid_of(data):
    """The CIDv1 (raw, sha2-256) of bytes: how specs and frames are named."""
    return b"\x01\x55\x12\x20" + hashlib.sha256(data).digest()


def link_to(raw):
    """42(h'00' + the CID of a frame's exact bytes): a parent link."""
    return Tag(42, b"\x00" + cid_of(raw))


# ---------------------------------------------------------------- harness

class Fail(Exception):
    pass


class Skip(Exception):
    pass


def note(msg):
    print("#   note: %s" % msg)


def check(cond, msg):
    if not cond:
        raise Fail(msg)


OPEN = []
OPENS = [0]


class EP:
    """One endpoint: an open of the device (non-blocking by default)."""

    def __init__(self, nonblock=True, fd=None):
        flags = os.O_RDWR | (os.O_NONBLOCK if nonblock else 0)
        self.fd = os.open(DEV, flags) if fd is None else fd
        OPENS[0] += 1
        self.backlog = []
        self.rid = 100
        self._id = None
        OPEN.append(self)

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def write(self, data):
        """Bytes written, or -errno."""
        try:
            return os.write(self.fd, data)
        except OSError as e:
            return -e.errno

    def send(self, data):
        n = self.write(data)
        check(n == len(data), "write of %d bytes returned %s" %
              (len(data), errname(n)))

    def read(self, size=(1 << 20) + ATTEST_HDR_MAX, wait=0.5):
        """One read's bytes, or -errno (EAGAIN if poll saw nothing in `wait`)."""
        p = select.poll()
        p.register(self.fd, select.POLLIN)
        if not p.poll(int(wait * 1000)):
            return -E.EAGAIN
        try:
            return os.read(self.fd, size)
        except OSError as e:
            return -e.errno

    def pull(self, wait=0.3):
        """Read whatever is queued into the backlog."""
        while True:
            b = self.read(wait=wait)
            if isinstance(b, int):
                check(b == -E.EAGAIN, "read failed: %s" % errname(b))
                return
            self.backlog.extend(split(b))
            wait = 0

    def deliveries(self, wait=0.3):
        """Every queued delivery (replies and notices included)."""
        self.pull(wait)
        out, self.backlog = self.backlog, []
        return out

    def req(self, verb, args=None, rid=None, raw=None):
        """Send a request; returns (write errno or 0, id, outcome, details)."""
        if rid is None:
            self.rid += 1
            rid = self.rid
        data = raw if raw is not None else request(rid, verb, args)
        n = self.write(data)
        err = 0 if n == len(data) else (-n if n < 0 else -1)
        reply = self.reply(rid if raw is None else ANY_ID, data)
        if reply is None:
            return err, None, None, None
        return (err,) + tuple(reply[:3])

    def reply(self, rid, data, wait=0.3):
        """The reply to request bytes data (id rid) from the queue, or None.

        A reply names its request by a last slot 42(CID of its bytes).
        """
        self.pull(wait)
        for i, raw in enumerate(self.backlog):
            pc, slots = envelope(raw)
            if pc == CONTROL and slots[-1:] == [link_to(data)]:
                del self.backlog[i]
                check(len(slots) == 4, "reply of %d slots" % len(slots))
                check(rid is ANY_ID or slots[0] == rid,
                      "reply id %r, request %r" % (slots[0], rid))
                return slots
        return None

    def kept(self, verb, args=None):
        err, _, outcome, det = self.req(verb, args)
        check(err == 0 and outcome == "kept",
              "%s %r: write %s, reply %s %r" %
              (verb, args, errname(-err), outcome, det))
        return det

    def fails(self, verb, args, errno, outcome="not_promised"):
        err, _, out, det = self.req(verb, args)
        check(err == errno, "%s %r: write gave %s, wanted %s" %
              (verb, args, errname(-err), errname(-errno)))
        check(out == outcome and isinstance(det, dict)
              and det.get("errno") == errno
              and isinstance(det.get("reason"), str),
              "%s %r: reply %s %r, wanted %s errno %d" %
              (verb, args, out, det, outcome, errno))
        return det

    @property
    def id(self):
        if self._id is None:
            self._id = self.kept("hello")["endpoint"]
        return self._id

    def receive(self, pcid, **kw):
        args = {"pcid": pcid_item(pcid)}
        args.update(kw)
        self.kept("receive", args)

    def stats(self):
        return self.kept("stats")


def errname(n):
    if isinstance(n, int) and n < 0:
        return E.errorcode.get(-n, str(-n))
    return str(n)


def param(name):
    with open(PARAMS + name) as f:
        text = f.read().strip()
    # a bool parameter reads Y or N
    return {"Y": 1, "N": 0}.get(text) if text in ("Y", "N") else int(text)


SAVED = {}


def set_param(name, value):
    """Write a parameter; 0 or the errno. Saved for restoring."""
    SAVED.setdefault(name, param(name))
    fd = os.open(PARAMS + name, os.O_WRONLY)
    try:
        os.write(fd, str(value).encode())
        return 0
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


def restore_params():
    for name, value in SAVED.items():
        fd = os.open(PARAMS + name, os.O_WRONLY)
        os.write(fd, str(value).encode())
        os.close(fd)
    SAVED.clear()


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def frames_of(ep, pcid=None, wait=0.3):
    """The non-control deliveries (optionally on pcid) queued for ep."""
    out = []
    for raw in ep.deliveries(wait):
        pc, _ = envelope(raw)
        if pc == CONTROL:
            continue
        if pcid is None or pc == pcid:
            out.append(raw)
    return out


def tok(t):
    return {"token": t}


# ================================================================ device

@test
def first_endpoint_id_is_1():
    """endpoint ids count up from 1 (a freshly loaded module)"""
    if os.environ.get("PG_FRESH_MODULE") != "1" or OPENS[0]:
        raise Skip("not the first open since the module was loaded")
    a = EP()
    check(a.id == 1, "the first endpoint is %d" % a.id)


@test
def device_is_0666_char_device():
    """/dev/promisegrid is a misc device, mode 0666"""
    st = os.stat(DEV)
    check((st.st_mode & 0o170000) == 0o020000, "not a character device")
    check((st.st_mode & 0o777) == 0o666, "mode %o" % (st.st_mode & 0o777))


@test
def endpoint_ids_count_up_never_reused():
    """every open creates an endpoint with a new id, counting up"""
    a = EP()
    ia = a.id
    a.close()
    b, c = EP(), EP()
    check(b.id > ia and c.id > b.id, "ids %d, %d, %d" % (ia, b.id, c.id))


@test
def dup_shares_the_endpoint():
    """dup() shares the endpoint (same id in hello)"""
    a = EP()
    b = EP(fd=os.dup(a.fd))
    check(a.id == b.id, "dup gave endpoint %d, not %d" % (b.id, a.id))


@test
def espipe():
    """pread, pwrite and lseek fail with ESPIPE"""
    a = EP()
    for what, fn in (("lseek", lambda: os.lseek(a.fd, 0, os.SEEK_SET)),
                     ("pread", lambda: os.pread(a.fd, 100, 0)),
                     ("pwrite", lambda: os.pwrite(a.fd, request(1, "hello"), 0))):
        try:
            fn()
            raise Fail("%s succeeded" % what)
        except OSError as e:
            check(e.errno == E.ESPIPE, "%s: %s" % (what, errname(-e.errno)))


@test
def nonblocking_read_empty_eagain():
    """with O_NONBLOCK a read on an empty queue fails with EAGAIN"""
    a = EP()
    try:
        os.read(a.fd, 4096)
        raise Fail("read returned")
    except OSError as e:
        check(e.errno == E.EAGAIN, "read gave %s" % errname(-e.errno))


@test
def blocking_read_sleeps_until_delivery():
    """a blocking read sleeps and returns when a delivery is queued"""
    r, s = EP(nonblock=False), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    got = []
    t = threading.Thread(target=lambda: got.append(os.read(r.fd, 1 << 17)),
                         daemon=True)
    t.start()
    time.sleep(0.3)
    check(not got, "read returned before any delivery")
    f = frame(p, 1)
    s.send(f)
    t.join(5)
    check(got == [f], "blocked read got %r" % got)


class Interrupted(Exception):
    pass


@test
def blocking_read_interrupted_by_signal():
    """a read on an empty queue is interruptible (EINTR)"""
    a = EP(nonblock=False)

    def handler(sig, frm):
        raise Interrupted()
    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        try:
            os.read(a.fd, 4096)
            raise Fail("read returned")
        except Interrupted:
            pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@test
def poll_in_and_out():
    """EPOLLIN only when a read would return data; EPOLLOUT when idle"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    pl = select.poll()
    pl.register(r.fd, select.POLLIN | select.POLLOUT)
    ev = dict(pl.poll(0)).get(r.fd, 0)
    check(ev & select.POLLOUT, "no POLLOUT on an idle endpoint")
    check(not ev & select.POLLIN, "POLLIN on an empty queue")
    s.send(frame(p, 1))
    ev = dict(pl.poll(1000)).get(r.fd, 0)
    check(ev & select.POLLIN, "no POLLIN with a delivery queued")


@test
def poll_woken_by_delivery():
    """a reader sleeping in poll is woken when its delivery is queued"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    pl = select.poll()
    pl.register(r.fd, select.POLLIN)
    res = []

    def waiter():
        t0 = time.monotonic()
        ev = pl.poll(10000)
        res.append((ev, time.monotonic() - t0))
    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    time.sleep(0.3)
    check(not res, "poll returned before any delivery")
    s.send(frame(p, 1))
    t.join(10)
    check(res and res[0][0] and res[0][1] < 5, "poll result %r" % res)


@test
def close_ends_receives_keeps_sent_frames():
    """last close ends receives; frames it sent stay deliverable"""
    r, s = EP(), EP()
    p, q = new_pcid(), new_pcid()
    r.receive(p)
    s.receive(q)
    f = frame(p, "from s")
    s.send(f)
    s.close()
    check(r.write(frame(q, 1)) == -E.EHOSTUNREACH,
          "closed endpoint's receive still routes")
    check(frames_of(r, p) == [f], "frame of a closed sender lost")


@test
def writev_and_readv():
    """writev of one frame in pieces is one frame; readv receives"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    f = frame(p, "abcdef" * 10)
    n = os.writev(s.fd, [f[:7], f[7:20], f[20:]])
    check(n == len(f), "writev returned %d" % n)
    b1, b2 = bytearray(10), bytearray(1000)
    n = os.readv(r.fd, [b1, b2])
    check(n == len(f) and bytes(b1 + b2)[:n] == f, "readv got %d bytes" % n)


@test
def efault_bad_buffer():
    """a write from a bad buffer fails with EFAULT"""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        raise Skip("no libc through ctypes")
    a = EP()
    libc.write.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
    n = libc.write(a.fd, ctypes.c_void_p(16), 64)
    check(n == -1 and ctypes.get_errno() == E.EFAULT,
          "write returned %d errno %d" % (n, ctypes.get_errno()))


@test
def rwf_nowait():
    """RWF_NOWAIT on a blocking file: EAGAIN instead of sleeping"""
    if not hasattr(os, "RWF_NOWAIT"):
        raise Skip("no os.RWF_NOWAIT")
    r, s = EP(nonblock=False), EP(nonblock=False)
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    res = []

    def rd():
        try:
            res.append(os.preadv(r.fd, [bytearray(4096)], -1, os.RWF_NOWAIT))
        except OSError as e:
            res.append(-e.errno)
    t = threading.Thread(target=rd, daemon=True)
    t.start()
    t.join(3)
    check(res == [-E.EAGAIN], "preadv2(RWF_NOWAIT) on an empty queue: %r"
          % (res or "still sleeping"))
    f = frame(p, 1)
    n = os.pwritev(s.fd, [f], -1, os.RWF_NOWAIT)
    check(n == len(f), "pwritev2(RWF_NOWAIT) returned %d" % n)
    buf = bytearray(4096)
    n = os.preadv(r.fd, [buf], -1, os.RWF_NOWAIT)
    check(bytes(buf[:n]) == f, "preadv2(RWF_NOWAIT) got %d bytes" % n)


class Stalled:
    """A buffer whose pages fault into userfaultfd until release()."""

    def __init__(self, data):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                              ctypes.c_int, ctypes.c_int, ctypes.c_long]
        libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
        self.libc = libc
        self.size = (len(data) + 4095) // 4096 * 4096
        self.data = data
        self.uffd = libc.syscall(323, 0o2000000 | 0o4000)  # userfaultfd
        if self.uffd < 0:
            raise Skip("userfaultfd: errno %d" % ctypes.get_errno())
        api = (ctypes.c_uint64 * 3)(0xAA, 0, 0)
        if libc.ioctl(self.uffd, 0xC018AA3F, api) != 0:
            raise Skip("UFFDIO_API: errno %d" % ctypes.get_errno())
        self.addr = libc.mmap(None, self.size, 3, 0x22, -1, 0)
        reg = (ctypes.c_uint64 * 4)(self.addr, self.size, 1, 0)
        if libc.ioctl(self.uffd, 0xC020AA00, reg) != 0:
            raise Skip("UFFDIO_REGISTER: errno %d" % ctypes.get_errno())

    def release(self):
        src = ctypes.create_string_buffer(self.data, self.size)
        cp = (ctypes.c_uint64 * 5)(self.addr, ctypes.addressof(src),
                                   self.size, 0, 0)
        if self.libc.ioctl(self.uffd, 0xC028AA03, cp) != 0:
            raise Fail("UFFDIO_COPY: errno %d" % ctypes.get_errno())
        os.close(self.uffd)

    def write_from(self, fd, out):
        """Start a thread writing the buffer to fd; its result into out."""
        self.libc.write.argtypes = [ctypes.c_int, ctypes.c_void_p,
                                    ctypes.c_size_t]
        self.libc.write.restype = ctypes.c_ssize_t

        def run():
            n = self.libc.write(fd, self.addr, len(self.data))
            out.append(n if n >= 0 else -ctypes.get_errno())
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t


@test
def inflight_bytes_budget():
    """a write in progress holds inflight; a non-blocking one past it: EAGAIN"""
    check(set_param("max_frame", 1 << 20) == 0, "cannot set max_frame")
    check(set_param("inflight_bytes", 1 << 20) == 0, "cannot set inflight")
    r, s = EP(), EP(nonblock=False)
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    sid = s.id
    big = frame(p, bytes(600 << 10))
    st = Stalled(big)
    out = []
    t = st.write_from(s.fd, out)
    released = False
    try:
        time.sleep(0.5)
        check(not out, "the stalled write returned %r" % out)
        pl = select.poll()
        pl.register(s.fd, select.POLLOUT)
        ev = dict(pl.poll(0)).get(s.fd, 0)
        check(not ev & select.POLLOUT,
              "POLLOUT with 600 KiB of a 1 MiB budget in flight")
        try:
            n = os.pwritev(s.fd, [big], -1, os.RWF_NOWAIT)
        except OSError as e:
            n = -e.errno
        check(n == -E.EAGAIN, "a second 600 KiB RWF_NOWAIT write: %s"
              % errname(n))
        small = frame(p, "small")
        n = os.pwritev(s.fd, [small], -1, os.RWF_NOWAIT)
        check(n == len(small), "a small write within the budget: %s"
              % errname(n))
        infl = s.kept("stats")["endpoint"]["inflight"]
        check(infl >= len(big), "inflight %d with %d in progress"
              % (infl, len(big)))
        big2 = frame(p, bytes(500 << 10))
        out2 = []
        t2 = threading.Thread(target=lambda: out2.append(os.write(s.fd, big2)),
                              daemon=True)
        t2.start()
        time.sleep(0.5)
        check(not out2, "a blocking write past the budget did not sleep")
        st.release()
        released = True
        t.join(5)
        t2.join(5)
        check(out == [len(big)], "the stalled write returned %r" % out)
        check(out2 == [len(big2)], "the sleeping write returned %r" % out2)
        ev = dict(pl.poll(0)).get(s.fd, 0)
        check(ev & select.POLLOUT, "no POLLOUT once the write returned")
        got = frames_of(r, p)
        check(got == [small, big, big2], "deliveries %r" % [len(x) for x in got])
    finally:
        if not released:
            st.release()
            t.join(5)
    check(sid == s.id, "endpoint changed")


@test
def close_during_write_keeps_endpoint():
    """a close() from another thread does not end the endpoint under a write"""
    r, s = EP(), EP(nonblock=False)
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    f = frame(p, bytes(10000))
    st = Stalled(f)
    out = []
    t = st.write_from(s.fd, out)
    time.sleep(0.3)
    os.close(s.fd)
    s.fd = -1
    time.sleep(0.2)
    st.release()
    t.join(5)
    check(out == [len(f)], "the write under close() returned %r" % out)
    check(frames_of(r, p) == [f], "its frame was not delivered")


# ================================================================ frames

def expect_write(ep, data, errno, what):
    n = ep.write(data)
    check(n == -errno, "%s: write gave %s, wanted %s" %
          (what, errname(n), errname(-errno)))


def grid_raw(*parts):
    """grid([...parts]) with pre-encoded parts."""
    return head(6, GRID) + head(4, len(parts)) + b"".join(parts)


@test
def ebadmsg_truncated_and_ill_formed():
    """EBADMSG: not well-formed or truncated (da 00 too)"""
    a = EP()
    p = new_pcid()
    f = frame(p, "hello")
    expect_write(a, f[:-1], E.EBADMSG, "frame cut by one byte")
    expect_write(a, b"\xda\x00", E.EBADMSG, "da 00")
    expect_write(a, b"\xda\x67\x72\x69\x64\x82", E.EBADMSG, "grid tag, array head")
    expect_write(a, grid_raw(enc(pcid_item(p)), b"\x1c"), E.EBADMSG,
                 "reserved additional info 28")
    expect_write(a, grid_raw(enc(pcid_item(p)), b"\xff"), E.EBADMSG,
                 "a lone break byte")


@test
def eilseq_not_deterministic():
    """EILSEQ: not grid-cbor (long heads, indefinite, map order, floats)"""
    a = EP()
    p = new_pcid()
    pc = enc(pcid_item(p))
    cases = [
        ("int 5 in two bytes", grid_raw(pc, b"\x18\x05")),
        ("length in a long head", grid_raw(pc, b"\x59\x00\x01x")),
        ("indefinite array", grid_raw(pc, b"\x9f\x01\xff")),
        ("indefinite bytes", grid_raw(pc, b"\x5f\x41a\xff")),
        ("map keys out of order", grid_raw(pc, b"\xa2\x61b\x01\x61a\x02")),
        ("map keys longer first", grid_raw(pc, b"\xa2\x62aa\x01\x61b\x02")),
        ("duplicate map keys", grid_raw(pc, b"\xa2\x61a\x01\x61a\x02")),
        ("1.0 as a double", grid_raw(pc, b"\xfb\x3f\xf0" + bytes(6))),
        ("1.5 as a single", grid_raw(pc, b"\xfa\x3f\xc0\x00\x00")),
        ("array head in 1 byte", head(6, GRID) + b"\x98\x02" + pc + b"\x01"),
    ]
    for what, data in cases:
        expect_write(a, data, E.EILSEQ, what)


@test
def eproto_not_an_envelope():
    """EPROTO: not a grid envelope with a tag-42 pCID in slot 0"""
    a = EP()
    p = new_pcid()
    cases = [
        ("plain array", enc([1, 2])),
        ("grid tag in 8-byte form", head(6, GRID, 8) + enc([pcid_item(p)])),
        ("other tag", enc(Tag(GRID + 1, [pcid_item(p)]))),
        ("grid over a map", enc(Tag(GRID, {}))),
        ("grid over an empty array", enc(Tag(GRID, []))),
        ("slot 0 an integer", enc(Tag(GRID, [1, 2]))),
        ("slot 0 untagged bytes", enc(Tag(GRID, [b"\x00" + p]))),
        ("tag 42 over text", enc(Tag(GRID, [Tag(42, "x" * 36)]))),
        ("tag 43 over the CID", enc(Tag(GRID, [Tag(43, b"\x00" + p)]))),
        ("no 0x00 prefix", enc(Tag(GRID, [Tag(42, p)]))),
        ("CID of 3 bytes", enc(Tag(GRID, [Tag(42, b"\x00\x01\x55\x00")]))),
        ("CID of 97 bytes",
         enc(Tag(GRID, [Tag(42, b"\x00\x01\x55\x12\x5d" + bytes(93))]))),
        ("CID version 0",
         enc(Tag(GRID, [Tag(42, b"\x00\x00\x55\x12\x20" + bytes(32))]))),
        ("digest length too long",
         enc(Tag(GRID, [Tag(42, b"\x00\x01\x55\x12\x21" + bytes(32))]))),
        ("digest length too short",
         enc(Tag(GRID, [Tag(42, b"\x00\x01\x55\x12\x1f" + bytes(32))]))),
        ("non-minimal varint",
         enc(Tag(GRID, [Tag(42, b"\x00\x81\x00\x55\x12\x20" + bytes(32))]))),
    ]
    for what, data in cases:
        expect_write(a, data, E.EPROTO, what)
    # Bytes that do not begin with the grid tag are EPROTO at once,
    # even if truncated.
    expect_write(a, b"\x82\x01", E.EPROTO, "truncated plain array")


@test
def cid_length_bounds_4_and_96():
    """CIDs of 4 and 96 bytes are valid envelopes (then EHOSTUNREACH)"""
    a = EP()
    c4 = b"\x01\x55\x00\x00"
    c96 = b"\x01\x55\x12\x5c" + os.urandom(92)
    for c in (c4, c96):
        expect_write(a, frame(c, 1), E.EHOSTUNREACH, "CID of %d bytes" % len(c))
    r = EP()
    r.receive(c96)
    a.send(frame(c96, 2))


@test
def emsgsize_frame_too_large():
    """EMSGSIZE above max_frame; a frame of exactly max_frame passes"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    mf = s.kept("hello")["max_frame"]
    base = len(frame(p, b""))
    # bytes head grows by 2 past 255 and by 2 more past 65535
    n = mf - base - 4
    f = frame(p, bytes(n))
    while len(f) < mf:
        n += 1
        f = frame(p, bytes(n))
    check(len(f) == mf, "could not build a frame of %d bytes" % mf)
    s.send(f)
    expect_write(s, frame(p, bytes(n + 1)), E.EMSGSIZE, "max_frame + 1")
    check(frames_of(r, p) == [f], "the max_frame frame was not delivered")


def nested(k):
    v = 0
    for _ in range(k):
        v = [v]
    return v


@test
def e2big_too_deep():
    """E2BIG past max_depth (grid tag, array, tag 42 take three levels)"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    md = s.kept("hello")["max_depth"]
    # k arrays in slot 1 reach level 2 + k
    s.send(frame(p, nested(md - 2)))
    expect_write(s, frame(p, nested(md - 1)), E.E2BIG, "depth max_depth + 1")
    # a depth-4 tag 42 is three levels deep already: tag at 3, bytes inside
    s.send(frame(p, Tag(1, Tag(2, nested(md - 4)))))
    expect_write(s, frame(p, Tag(1, Tag(2, nested(md - 3)))), E.E2BIG,
                 "tags count as levels")
    s.send(frame(p, {"a": nested(md - 3)}))
    expect_write(s, frame(p, {"a": nested(md - 2)}), E.E2BIG,
                 "maps count as levels")


@test
def error_precedence():
    """EPROTO first for non-grid bytes, then first scan problem, then envelope"""
    a = EP()
    p = new_pcid()
    pc = enc(pcid_item(p))
    expect_write(a, b"\x82\x18\x05\x01", E.EPROTO, "non-grid, non-deterministic")
    expect_write(a, grid_raw(b"\x01", b"\x18\x05"), E.EILSEQ,
                 "bad slot 0 before a long head")
    expect_write(a, grid_raw(pc, b"\x18\x05", b"\x82"), E.EILSEQ,
                 "long head before truncation")
    expect_write(a, grid_raw(pc, b"\x82"), E.EBADMSG, "truncated")
    expect_write(a, grid_raw(b"\x01", b"\x82"), E.EBADMSG,
                 "bad slot 0 and truncated")
    mf = a.kept("hello")["max_frame"]
    expect_write(a, frame(new_pcid(), bytes(mf)), E.EMSGSIZE,
                 "too large, nobody receives")
    expect_write(a, enc(Tag(GRID, [1, nested(40)])), E.E2BIG,
                 "too deep and bad slot 0")


@test
def ehostunreach_no_receiver():
    """a frame with no receiver fails EHOSTUNREACH, never silent success"""
    a = EP()
    expect_write(a, frame(new_pcid(), 1), E.EHOSTUNREACH, "nobody receives")


@test
def eperm_delivery_protocol_frame():
    """nobody can send a frame of the delivery protocol (EPERM)"""
    a = EP()
    expect_write(a, frame(DELIVERY, [1, 1, 0, 0], frame(new_pcid(), 1)),
                 E.EPERM, "delivery frame")


@test
def eacces_send_on_claimed_pcid():
    """EACCES: no right to send on a claimed pCID; nothing delivered"""
    c, x = EP(), EP()
    p = new_pcid()
    c.kept("claim", {"pcid": pcid_item(p)})
    c.receive(p)
    c.deliveries()
    expect_write(x, frame(p, 1), E.EACCES, "stranger sends")
    check(frames_of(c, p) == [], "a denied frame was delivered")


@test
def delivery_is_exact_bytes():
    """the module delivers the exact bytes it was given"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    f = frame(p, {"a": [1, -2, b"x", "y", None, True, 1.5]}, Tag(7, 300))
    s.send(f)
    check(frames_of(r, p) == [f], "delivery differs")


@test
def more_encodings():
    """non-shortest negative ints and tags, bad simple values, long lengths"""
    a = EP()
    p = new_pcid()
    pc = enc(pcid_item(p))
    for what, tail, errno in (
            ("-6 in two bytes", b"\x38\x05", E.EILSEQ),
            ("tag 1 in two bytes", b"\xd8\x01\x00", E.EILSEQ),
            ("5 in 8 bytes", b"\x1b" + bytes(7) + b"\x05", E.EILSEQ),
            ("text length in 4 bytes", b"\x7a\x00\x00\x00\x01a", E.EILSEQ),
            ("false as simple(20) in two bytes", b"\xf8\x14", E.EBADMSG),
            ("bytes longer than the frame", b"\x59\x03\xe8" + bytes(10),
             E.EBADMSG),
            ("array of 2^64-1 items", b"\x9b" + b"\xff" * 8, E.EBADMSG),
            ("map of 2^32 pairs", b"\xbb\x00\x00\x00\x01" + bytes(4),
             E.EBADMSG)):
        expect_write(a, grid_raw(pc, tail), errno, what)
    r = EP()
    r.receive(p)
    for v in (-(1 << 64), (1 << 64) - 1, -0.0, float("inf"), 65504.0,
              Tag(1 << 63, 1), "\u00e9", b"", [], {}):
        a.send(frame(p, v))
    a.send(enc(Tag(GRID, [pcid_item(p)])))
    a.send(grid_raw(pc, b"\xf7", b"\xf8\x20"))  # undefined, simple(32)


@test
def size_and_depth_precedence():
    """the first problem met scanning decides among EILSEQ, EMSGSIZE, E2BIG"""
    a = EP()
    p = new_pcid()
    pc = enc(pcid_item(p))
    mf = a.kept("hello")["max_frame"]
    md = a.kept("hello")["max_depth"]
    big = enc(bytes(mf))
    deep = enc(nested(md))
    expect_write(a, grid_raw(pc, b"\x18\x05", big), E.EILSEQ,
                 "long head, then too large")
    expect_write(a, grid_raw(pc, big, b"\x18\x05"), E.EMSGSIZE,
                 "too large, then a long head")
    expect_write(a, grid_raw(pc, deep, big), E.E2BIG, "too deep, then too large")
    expect_write(a, grid_raw(pc, big, deep), E.EMSGSIZE,
                 "too large, then too deep")


# ================================================================ writes

@test
def multi_frame_write():
    """one write may carry several frames; returns all their bytes"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    fs = [frame(p, i) for i in range(5)]
    s.send(b"".join(fs))
    check(frames_of(r, p) == fs, "frames of a sequence lost or reordered")


@test
def first_frame_error_consumes_nothing():
    """an error on the first frame is the call's error; nothing consumed"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    expect_write(s, grid_raw(enc(pcid_item(p)), b"\x18\x01") + frame(p, 2),
                 E.EILSEQ, "bad first frame")
    check(frames_of(r, p) == [], "a frame after a failed first one was taken")
    s.send(frame(p, 3))  # no error kept


@test
def later_frame_error_short_then_kept():
    """later frame error: short write, error kept for the next write"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    f1, f3, f4 = frame(p, 1), frame(p, 3), frame(p, 4)
    bad = grid_raw(enc(pcid_item(p)), b"\x18\x02")
    n = s.write(f1 + bad + f3)
    check(n == len(f1), "write returned %s, wanted %d" % (errname(n), len(f1)))
    expect_write(s, f4, E.EILSEQ, "next write after a short one")
    s.send(f4)
    check(frames_of(r, p) == [f1, f4], "deliveries after a short write wrong")


@test
def later_frame_ehostunreach_short():
    """routing errors on a later frame end the write short too"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    f1, f2 = frame(p, 1), frame(new_pcid(), 2)
    n = s.write(f1 + f2 + frame(p, 3))
    check(n == len(f1), "write returned %s" % errname(n))
    expect_write(s, frame(p, 4), E.EHOSTUNREACH, "the kept error")
    check(frames_of(r, p) == [f1], "wrong deliveries")


@test
def truncated_last_frame_short():
    """a truncated frame after a whole one: short write, EBADMSG kept"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    f1 = frame(p, 1)
    n = s.write(f1 + frame(p, 2)[:-1])
    check(n == len(f1), "write returned %s" % errname(n))
    expect_write(s, frame(p, 3), E.EBADMSG, "the kept error")


@test
def write_looks_at_256k_at_most():
    """one write looks at max(max_frame, 256 KiB) bytes: a short write"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    f = frame(p, bytes(60000))
    n = s.write(f * 5)
    check(n == 4 * len(f), "write of 5 x %d returned %s" % (len(f), errname(n)))
    s.send(f)  # no error kept
    check(len(frames_of(r, p)) == 5, "wrong number of deliveries")


@test
def write_chunk_follows_large_max_frame():
    """with max_frame 1 MiB a 600 KiB frame goes in one write"""
    check(set_param("max_frame", 1 << 20) == 0, "cannot set max_frame")
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    f = frame(p, bytes(600 << 10))
    s.send(f)
    check(frames_of(r, p) == [f], "large frame not delivered whole")


@test
def failed_request_ends_write_short():
    """a failed request in a sequence ends the write short; reply queued"""
    a = EP()
    ok1 = request(7, "hello")
    bad = request(8, "no-such-verb")
    ok2 = request(9, "hello")
    n = a.write(ok1 + bad + ok2)
    check(n == len(ok1), "write returned %s" % errname(n))
    r7, r8 = a.reply(7, ok1), a.reply(8, bad)
    r9 = a.reply(9, ok2, wait=0.1)
    check(r7 is not None and r7[1] == "kept", "first request not answered")
    check(r8 is not None and r8[1] == "malformed"
          and r8[2].get("errno") == E.EBADRQC, "no EBADRQC reply: %r" % r8)
    check(r9 is None, "the request after the failed one was handled")
    expect_write(a, request(10, "hello"), E.EBADRQC, "the kept error")


# ================================================================ routing

@test
def fan_out():
    """every fan-out receiver of the pCID gets the frame"""
    rs = [EP() for _ in range(3)]
    s = EP()
    p = new_pcid()
    for r in rs:
        r.receive(p)
    f = frame(p, "all")
    s.send(f)
    for i, r in enumerate(rs):
        check(frames_of(r, p) == [f], "receiver %d missed it" % i)


@test
def order_per_sender():
    """per sender and pCID, frames arrive in the order they were sent"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    fs = [frame(p, i) for i in range(200)]
    for f in fs:
        s.send(f)
    check(frames_of(r, p) == fs, "out of order")


@test
def group_exactly_one_least_loaded():
    """a worker group gives each frame to one member, the least loaded"""
    ms = [EP() for _ in range(3)]
    s = EP()
    p = new_pcid()
    for m in ms:
        m.receive(p, group="workers")
        m.deliveries()
    for i in range(6):
        s.send(frame(p, i))
    got = frames_of(ms[0], p)
    check(len(got) == 2, "member 0 had %d of 6 frames" % len(got))
    s.send(frame(p, 6))
    s.send(frame(p, 7))
    got = frames_of(ms[0], p)
    check(len(got) == 2, "the emptied member got %d of the next 2" % len(got))
    for i in (1, 2):
        n = len(frames_of(ms[i], p))
        check(n == 2, "member %d holds %d frames, not 2" % (i, n))


@test
def group_ties_round_robin():
    """ties between group members are taken in turn"""
    ms = [EP(), EP()]
    s = EP()
    p = new_pcid()
    for m in ms:
        m.receive(p, group="g")
        m.deliveries()
    who = []
    for i in range(6):
        s.send(frame(p, i))
        got = [len(frames_of(m, p, wait=0.05)) for m in ms]
        check(sorted(got) == [0, 1], "frame %d went to %r" % (i, got))
        who.append(got.index(1))
    check(all(who[i] != who[i + 1] for i in range(5)),
          "ties not taken in turn: %r" % who)


@test
def group_load_counts_replies():
    """least loaded counts every queued delivery, replies included"""
    a, b, s = EP(), EP(), EP()
    p = new_pcid()
    a.receive(p, group="g")
    b.receive(p, group="g")
    a.deliveries()
    b.deliveries()
    for i in range(3):
        a.write(request(i + 1, "hello"))  # three replies queued on a
    for i in range(3):
        s.send(frame(p, i))
    check(len(frames_of(b, p)) == 3, "b (empty) did not get all three")


@test
def group_and_fanout_both():
    """a group receive and a plain one on one endpoint: two copies"""
    a, s = EP(), EP()
    p = new_pcid()
    a.receive(p)
    a.receive(p, group="g")
    f = frame(p, 1)
    s.send(f)
    check(frames_of(a, p) == [f, f], "not two copies")


@test
def every_group_and_fanout_served():
    """every worker group gives the frame to one member, plus fan-out"""
    g1 = [EP(), EP()]
    g2 = [EP()]
    fo = EP()
    s = EP()
    p = new_pcid()
    for m in g1:
        m.receive(p, group="one")
    g2[0].receive(p, group="two")
    fo.receive(p)
    f = frame(p, 1)
    s.send(f)
    check(sum(len(frames_of(m, p)) for m in g1) == 1, "group one")
    check(frames_of(g2[0], p) == [f], "group two")
    check(frames_of(fo, p) == [f], "fan-out")


@test
def unreceive_then_ehostunreach():
    """after unreceive nobody receives: EHOSTUNREACH"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.kept("unreceive", {"pcid": pcid_item(p)})
    expect_write(s, frame(p, 1), E.EHOSTUNREACH, "after unreceive")


# ================================================================ reads

@test
def read_returns_whole_deliveries():
    """a read returns as many whole deliveries as fit, in order"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    fs = [frame(p, i, "x" * 10) for i in range(3)]
    for f in fs:
        s.send(f)
    b = r.read(size=len(fs[0]) + len(fs[1]) + len(fs[2]) // 2)
    check(b == fs[0] + fs[1], "read gave %r" % (b,))
    b = r.read()
    check(b == fs[2], "second read gave %r" % (b,))


@test
def read_emsgsize_keeps_delivery():
    """a buffer too small fails EMSGSIZE and the delivery stays queued"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    f = frame(p, "x" * 100)
    s.send(f)
    check(r.read(size=len(f) - 1) == -E.EMSGSIZE, "no EMSGSIZE")
    check(r.read(size=len(f)) == f, "delivery not kept")


@test
def attested_delivery_envelope():
    """attest: grid([42(DELIVERY), [endpoint, pid, uid, gid, null], frame])"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p, attest=True)
    r.deliveries()
    f = frame(p, "attest me")
    s.send(f)
    ds = r.deliveries()
    check(len(ds) == 1, "%d deliveries" % len(ds))
    pc, slots = envelope(ds[0])
    check(pc == DELIVERY, "not the delivery pCID")
    check(len(slots) == 2 and ds[0].endswith(f), "frame not embedded exactly")
    want = [s.id, os.getpid(), os.geteuid(), os.getegid(), None]
    check(slots[0] == want, "header %r, wanted %r" % (slots[0], want))
    check(len(ds[0]) - len(f) <= 85, "header %d bytes" % (len(ds[0]) - len(f)))


@test
def attested_max_frame_fits_read_buffer():
    """an attested max_frame delivery fits max_frame + 160"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p, attest=True)
    r.deliveries()
    mf = s.kept("hello")["max_frame"]
    n = mf - 50
    f = frame(p, bytes(n))
    while len(f) < mf:
        n += 1
        f = frame(p, bytes(n))
    s.send(f)
    b = r.read(size=mf + ATTEST_HDR_MAX)
    check(isinstance(b, bytes) and b.endswith(f) and len(b) <= mf + 84,
          "read gave %s" % (errname(b) if isinstance(b, int) else len(b)))


def in_child(fn):
    """Run fn() in a forked child; True if it exited 0."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if fn() is not False else 1
        except BaseException:
            pass
        os._exit(code)
    _, st = os.waitpid(pid, 0)
    return os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, pid


def drop_to_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


@test
def attest_names_opener_not_writer():
    """attestation names the opener even when another uid writes the fd"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p, attest=True)
    r.deliveries()
    sid = s.id
    f = frame(p, "child wrote")

    def child():
        drop_to_nobody()
        return os.write(s.fd, f) == len(f)
    ok, _ = in_child(child)
    check(ok, "the child's write failed")
    ds = r.deliveries()
    check(len(ds) == 1, "%d deliveries" % len(ds))
    _, slots = envelope(ds[0])
    want = [sid, os.getpid(), os.geteuid(), os.getegid(), None]
    check(slots[0] == want, "header %r, wanted the opener's %r" %
          (slots[0], want))


@test
def attest_own_open_after_setuid():
    """an endpoint opened by uid 65534 is attested as 65534 and its pid"""
    r = EP()
    p = new_pcid()
    r.receive(p, attest=True)
    r.deliveries()
    f = frame(p, "nobody")

    def child():
        drop_to_nobody()
        fd = os.open(DEV, os.O_RDWR)
        return os.write(fd, f) == len(f)
    ok, cpid = in_child(child)
    check(ok, "the child's open or write failed")
    ds = r.deliveries()
    check(len(ds) == 1, "%d deliveries" % len(ds))
    _, slots = envelope(ds[0])
    hdr = slots[0]
    check(hdr[1:] == [cpid, 65534, 65534, None], "header %r, wanted [_, %d, "
          "65534, 65534, null]" % (hdr, cpid))


@test
def attest_pid_zero_after_opener_exits():
    """the pid is 0 once the opener has exited (fd passed to us)"""
    r = EP()
    p = new_pcid()
    r.receive(p, attest=True)
    r.deliveries()
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

    def child():
        drop_to_nobody()
        fd = os.open(DEV, os.O_RDWR)
        socket.send_fds(a, [b"x"], [fd])
        return True
    ok, _ = in_child(child)
    check(ok, "child failed")
    _, fds, _, _ = socket.recv_fds(b, 1, 1)
    a.close()
    b.close()
    check(len(fds) == 1, "no fd passed")
    s = EP(fd=fds[0])
    f = frame(p, "orphan")
    s.send(f)
    ds = r.deliveries()
    check(len(ds) == 1, "%d deliveries" % len(ds))
    _, slots = envelope(ds[0])
    check(slots[0][1:] == [0, 65534, 65534, None],
          "header %r, wanted [_, 0, 65534, 65534, null]" % slots[0])


# ================================================================ control

HELLO_KEYS = {"version", "endpoint", "max_depth", "max_frame", "max_groups",
              "queue_bytes", "queue_frames", "inflight_bytes"}


@test
def hello_v2_keys_and_limits():
    """hello: version 3, endpoint and the limits in force"""
    a = EP()
    d = a.kept("hello")
    check(set(d) == HELLO_KEYS, "keys %r" % sorted(d))
    check(d["version"] == 4, "version %r" % d["version"])
    for k in HELLO_KEYS - {"version", "endpoint"}:
        check(d[k] == param(k), "%s %r, parameter %d" % (k, d[k], param(k)))


@test
def hello_reflects_parameter_change():
    """hello reports the limits in force after a parameter change"""
    check(set_param("max_groups", 7) == 0, "cannot set max_groups")
    check(set_param("max_frame", 4096) == 0, "cannot set max_frame")
    d = EP().kept("hello")
    check(d["max_groups"] == 7 and d["max_frame"] == 4096, "hello %r" % d)


@test
def reply_envelope_and_id():
    """replies: grid([42(CONTROL), id, outcome, details, 42(parent)]), own queue"""
    a, b = EP(), EP()
    req = request(4242, "hello")
    a.write(req)
    raw = a.deliveries()
    check(len(raw) == 1, "%d deliveries" % len(raw))
    pc, slots = envelope(raw[0])
    check(pc == CONTROL and len(slots) == 4 and slots[0] == 4242
          and slots[1] == "kept" and isinstance(slots[2], dict),
          "reply %r" % slots)
    check(slots[3] == link_to(req), "parent %r, not the request's CID"
          % (slots[3],))
    check(b.deliveries() == [], "another endpoint got the reply")


@test
def id_zero_reply_only_on_failure():
    """id 0: no reply when kept, a reply when it fails"""
    a = EP()
    check(a.write(request(0, "hello")) > 0, "hello id 0 failed")
    check(a.deliveries() == [], "reply to a kept id-0 request")
    expect_write(a, request(0, "receive", {"pcid": pcid_item(CONTROL)}),
                 E.EPERM, "receive on the control pCID, id 0")
    ds = a.deliveries()
    check(len(ds) == 1, "%d replies to a failed id-0 request" % len(ds))
    _, slots = envelope(ds[0])
    check(slots[0] == 0 and slots[1] == "not_promised"
          and slots[2]["errno"] == E.EPERM, "reply %r" % slots)


@test
def request_without_uint_id_reply_id_null():
    """a request without an unsigned id: malformed EINVAL, id null"""
    for bad in ("x", -1, None, b"1"):
        a = EP()
        err, rid, out, det = a.req(None, rid=None,
                                   raw=frame(CONTROL, bad, "hello", {}))
        if out is None:
            a.pull()
            ds = a.backlog
            a.backlog = []
            check(len(ds) == 1, "id %r: %d replies" % (bad, len(ds)))
            _, slots = envelope(ds[0])
            check(len(slots) == 4 and slots[3] == link_to(
                frame(CONTROL, bad, "hello", {})), "id %r: no parent" % bad)
            rid, out, det, _ = slots
        check(err == E.EINVAL, "id %r: write gave %s" % (bad, errname(-err)))
        check(rid is None and out == "malformed" and det["errno"] == E.EINVAL,
              "id %r: reply %r %r %r" % (bad, rid, out, det))


@test
def unknown_verb_ebadrqc():
    """an unknown verb is malformed EBADRQC"""
    EP().fails("frobnicate", {}, E.EBADRQC, "malformed")


@test
def malformed_einval_shapes():
    """wrong shape, unknown, missing or mistyped arguments: malformed EINVAL"""
    a = EP()
    p = pcid_item(new_pcid())
    a.fails("hello", {"extra": 1}, E.EINVAL, "malformed")
    a.fails("receive", {}, E.EINVAL, "malformed")
    a.fails("receive", {"pcid": "text"}, E.EINVAL, "malformed")
    a.fails("receive", {"pcid": p, "group": 5}, E.EINVAL, "malformed")
    a.fails("receive", {"pcid": p, "attest": 1}, E.EINVAL, "malformed")
    a.fails("receive", {"pcid": p, "group": "g" * 65}, E.EINVAL, "malformed")
    a.fails("receive", {"pcid": p, "group": ""}, E.EINVAL, "malformed")
    a.fails("carry", {"to": "x", "frame": b""}, E.EINVAL, "malformed")
    a.fails("accept", {"carry": 1}, E.EINVAL, "malformed")
    a.fails("grant", {"pcid": p, "rights": "all"}, E.EINVAL, "malformed")
    shapes = [("3 slots", frame(CONTROL, 50, "hello")),
              ("details an array", frame(CONTROL, 51, "hello", [])),
              ("verb bytes", frame(CONTROL, 52, b"hello", {})),
              ("5 slots", frame(CONTROL, 53, "hello", {}, 1))]
    for i, (what, raw) in enumerate(shapes):
        err, _, out, det = a.req(None, rid=50 + i, raw=raw)
        check(err == E.EINVAL and out == "malformed"
              and det.get("errno") == E.EINVAL,
              "%s: write %s reply %s %r" % (what, errname(-err), out, det))


@test
def receive_errors():
    """receive: EEXIST twice, EPERM on kernel pCIDs, 64-byte group ok"""
    a = EP()
    p = new_pcid()
    a.receive(p)
    a.fails("receive", {"pcid": pcid_item(p)}, E.EEXIST)
    a.receive(p, group="g" * 64)
    a.fails("receive", {"pcid": pcid_item(p), "group": "g" * 64}, E.EEXIST)
    a.fails("receive", {"pcid": pcid_item(CONTROL)}, E.EPERM)
    a.fails("receive", {"pcid": pcid_item(DELIVERY)}, E.EPERM)


@test
def receive_enospc_max_receives():
    """receive: ENOSPC past max_receives"""
    check(set_param("max_receives", 2) == 0, "cannot set max_receives")
    a = EP()
    a.receive(new_pcid())
    a.receive(new_pcid())
    a.fails("receive", {"pcid": pcid_item(new_pcid())}, E.ENOSPC)


@test
def receive_enospc_max_groups():
    """receive: ENOSPC for too many groups on the pCID"""
    check(set_param("max_groups", 2) == 0, "cannot set max_groups")
    p = new_pcid()
    a, b, c = EP(), EP(), EP()
    a.receive(p, group="one")
    b.receive(p, group="two")
    c.fails("receive", {"pcid": pcid_item(p), "group": "three"}, E.ENOSPC)
    c.receive(p, group="one")
    c.receive(p)


@test
def unreceive_enoent_and_group_separate():
    """unreceive: undoes one receive; ENOENT when not receiving so"""
    a, s = EP(), EP()
    p = new_pcid()
    a.fails("unreceive", {"pcid": pcid_item(p)}, E.ENOENT)
    a.receive(p, group="g")
    a.fails("unreceive", {"pcid": pcid_item(p)}, E.ENOENT)
    a.receive(p)
    a.kept("unreceive", {"pcid": pcid_item(p)})
    f = frame(p, 1)
    s.send(f)
    check(frames_of(a, p) == [f], "the group receive went with the plain one")
    a.kept("unreceive", {"pcid": pcid_item(p), "group": "g"})
    a.fails("unreceive", {"pcid": pcid_item(p), "group": "g"}, E.ENOENT)


@test
def unreceive_keeps_queued():
    """frames already queued stay queued after unreceive"""
    a, s = EP(), EP()
    p = new_pcid()
    a.receive(p)
    f = frame(p, 1)
    s.send(f)
    a.kept("unreceive", {"pcid": pcid_item(p)})
    check(frames_of(a, p) == [f], "queued frame went away")


def carry_args(to, f):
    return {"to": to, "frame": f}


@test
def carry_needs_consent():
    """carry without consent: EACCES not_promised, counted in denied"""
    t, c = EP(), EP()
    before = c.stats()["module"]["denied"]
    c.fails("carry", carry_args(t.id, frame(new_pcid(), 1)), E.EACCES)
    after = c.stats()["module"]["denied"]
    check(after == before + 1, "denied %d -> %d" % (before, after))
    check(frames_of(t) == [], "carried anyway")


@test
def carry_with_accept():
    """accept carry: any endpoint may carry; exact bytes, never wrapped"""
    t, c = EP(), EP()
    p = new_pcid()
    t.receive(p, attest=True)
    d = t.kept("accept", {"carry": True})
    off = {"carry": True, "attest": False, "unread": False}
    check(d == off, "accept replied %r" % d)
    check(t.kept("accept", {}) == off, "accept {} changed it")
    f = frame(p, "carried")
    c.kept("carry", carry_args(t.id, f))
    check(t.deliveries() == [f], "carried frame not exact")
    check(t.kept("accept", {"carry": False}) == {"carry": False,
                                                 "attest": False,
                                                 "unread": False}, "reset")
    c.fails("carry", carry_args(t.id, f), E.EACCES)


@test
def carry_as_answer():
    """carry to an endpoint whose frame the carrier read"""
    w, caller = EP(), EP()
    p = new_pcid()
    w.receive(p)
    caller.send(frame(p, "call"))
    check(len(frames_of(w, p)) == 1, "call not received")
    f = frame(new_pcid(), "answer")
    w.kept("carry", carry_args(caller.id, f))
    check(caller.deliveries() == [f], "answer not delivered exactly")
    # a third endpoint has not read anything from the caller
    EP().fails("carry", carry_args(caller.id, f), E.EACCES)


@test
def carry_answer_to_attested_call():
    """a worker that received an attested call may answer it"""
    w, caller = EP(), EP()
    p = new_pcid()
    w.receive(p, group="workers", attest=True)
    caller.send(frame(p, 1, b"body"))
    ds = w.deliveries()
    check(len(ds) == 1, "call not received")
    _, slots = envelope(ds[0])
    f = frame(new_pcid(), "reply")
    w.kept("carry", carry_args(slots[0][0], f))
    check(caller.deliveries() == [f], "reply not delivered")


@test
def carry_remembers_senders_by_id_mod_128():
    """the carrier remembers senders in 128 entries by id modulo 128"""
    w = EP()
    p = new_pcid()
    w.receive(p)
    ss = [EP() for _ in range(130)]
    for s in ss:
        s.send(frame(p, 1))
        w.deliveries(wait=0)
    f = frame(new_pcid(), "late")
    last = {}
    for s in ss:
        last[s.id % 128] = s.id
    for s in ss:
        if last[s.id % 128] == s.id:
            w.kept("carry", carry_args(s.id, f))
        else:       # a later sender took its entry
            w.fails("carry", carry_args(s.id, f), E.EACCES)
    check(any(last[s.id % 128] != s.id for s in ss), "no entry was shared")


@test
def carry_errors():
    """carry: ESRCH, EPERM (kernel pCID), EBADMSG trailing, frame errors"""
    t, c = EP(), EP()
    t.kept("accept", {"carry": True})
    c.fails("carry", carry_args(1 << 62, frame(new_pcid(), 1)), E.ESRCH)
    c.fails("carry", carry_args(t.id, frame(CONTROL, None, "kept", {})), E.EPERM)
    c.fails("carry", carry_args(t.id, frame(DELIVERY, [1, 1, 1, 1],
                                            frame(new_pcid(), 1))), E.EPERM)
    f = frame(new_pcid(), 1)
    c.fails("carry", carry_args(t.id, f + f), E.EBADMSG, "malformed")
    c.fails("carry", carry_args(t.id, f + b"\x00"), E.EBADMSG, "malformed")
    c.fails("carry", carry_args(t.id, grid_raw(enc(pcid_item(new_pcid())),
                                               b"\x18\x01")),
            E.EILSEQ, "malformed")
    c.fails("carry", carry_args(t.id, enc([1])), E.EPROTO, "malformed")
    check(t.deliveries() == [], "a failed carry delivered something")


@test
def carry_claimed_needs_send():
    """a carried frame on a claimed pCID needs send: EACCES"""
    own, t, c = EP(), EP(), EP()
    p = new_pcid()
    own.kept("claim", {"pcid": pcid_item(p)})
    t.kept("accept", {"carry": True})
    c.fails("carry", carry_args(t.id, frame(p, 1)), E.EACCES)
    own.kept("carry", carry_args(t.id, frame(p, 2)))


@test
def carry_enobufs_target_full():
    """carry: ENOBUFS (unavailable) when the target's queue is full"""
    check(set_param("queue_frames", 1) == 0, "cannot set queue_frames")
    t, c = EP(), EP()
    t.kept("accept", {"carry": True})
    t.deliveries()
    c.kept("carry", carry_args(t.id, frame(new_pcid(), 1)))
    c.fails("carry", carry_args(t.id, frame(new_pcid(), 2)), E.ENOBUFS,
            "unavailable")


STATS_MODULE = {"frames_sent", "deliveries", "drops", "rejected",
                "no_receiver", "control", "endpoints", "routes", "denied",
                "claims", "tokens", "lent"}
STATS_ENDPOINT = {"sent", "received", "dropped", "queued_frames",
                  "queued_bytes", "inflight", "receives", "kept_bytes"}


@test
def stats_keys():
    """stats: module and endpoint maps with the documented keys, all uint"""
    st = EP().stats()
    check(set(st) == {"module", "endpoint"}, "keys %r" % sorted(st))
    check(set(st["module"]) == STATS_MODULE, "module keys %r" %
          sorted(st["module"]))
    check(set(st["endpoint"]) == STATS_ENDPOINT, "endpoint keys %r" %
          sorted(st["endpoint"]))
    for m in st.values():
        for k, v in m.items():
            check(isinstance(v, int) and v >= 0 and v < 1 << 64,
                  "%s = %r" % (k, v))


@test
def stats_module_counters():
    """stats module counters move as documented"""
    a, r = EP(), EP()
    p = new_pcid()
    s0 = a.stats()["module"]
    n = EP()
    r.receive(p)
    a.send(frame(p, 1))
    expect_write(a, frame(new_pcid(), 1), E.EHOSTUNREACH, "nobody")
    a.kept("claim", {"pcid": pcid_item(new_pcid())})
    s1 = a.stats()["module"]
    d = {k: s1[k] - s0[k] for k in s0}
    want = {"endpoints": 1, "routes": 1, "no_receiver": 1, "claims": 1}
    for k, v in want.items():
        check(d[k] == v, "%s moved by %d, wanted %d" % (k, d[k], v))
    # frames_sent: the frame, receive, claim, one stats request (4)
    check(d["frames_sent"] == 4, "frames_sent moved by %d" % d["frames_sent"])
    check(d["rejected"] == 1, "rejected moved by %d" % d["rejected"])
    check(d["control"] == 3, "control moved by %d" % d["control"])
    n.close()
    s2 = a.stats()["module"]
    check(s2["endpoints"] == s1["endpoints"] - 1, "endpoints after close")


@test
def stats_endpoint_counters():
    """stats endpoint counters: sent, received, queued, receives, inflight"""
    r, s = EP(), EP()
    p, q = new_pcid(), new_pcid()
    r.receive(p)
    r.receive(q, group="g")
    r.deliveries()
    f = frame(p, "x" * 100)
    s0 = s.stats()["endpoint"]
    s.send(f)
    s.send(f)
    s1 = s.stats()["endpoint"]
    check(s1["sent"] - s0["sent"] == 3, "sent moved by %d (2 frames + stats)"
          % (s1["sent"] - s0["sent"]))
    req = request(s.rid, "stats")
    check(s1["inflight"] == len(req), "inflight %d, the request is %d bytes"
          % (s1["inflight"], len(req)))
    e = r.stats()["endpoint"]
    check(e["receives"] == 2, "receives %d" % e["receives"])
    check(e["queued_frames"] == 2, "queued_frames %d" % e["queued_frames"])
    qb = e["queued_bytes"]
    check(2 * len(f) <= qb <= 2 * 256 and qb % 128 == 0,
          "queued_bytes %d for two %d-byte frames" % (qb, len(f)))
    rec0 = e["received"]
    check(len(frames_of(r, p)) == 2, "frames lost")
    e = r.stats()["endpoint"]
    # the two frames and the previous stats reply were read
    check(e["received"] - rec0 == 3, "received moved by %d" %
          (e["received"] - rec0))


def claim(ep, p):
    return ep.kept("claim", {"pcid": pcid_item(p)})


@test
def claim_rights_and_errors():
    """claim: rights 7; EEXIST; EPERM on kernel pCIDs; strangers EACCES"""
    a, b = EP(), EP()
    p = new_pcid()
    check(claim(a, p) == {"rights": 7}, "claim reply")
    b.fails("claim", {"pcid": pcid_item(p)}, E.EEXIST)
    a.fails("claim", {"pcid": pcid_item(p)}, E.EEXIST)
    b.fails("claim", {"pcid": pcid_item(CONTROL)}, E.EPERM)
    b.fails("claim", {"pcid": pcid_item(DELIVERY)}, E.EPERM)
    b.fails("receive", {"pcid": pcid_item(p)}, E.EACCES)
    a.receive(p)
    expect_write(b, frame(p, 1), E.EACCES, "stranger sends")


@test
def claim_enospc_max_claims():
    """claim: ENOSPC past max_claims"""
    check(set_param("max_claims", 2) == 0, "cannot set max_claims")
    a = EP()
    claim(a, new_pcid())
    claim(a, new_pcid())
    a.fails("claim", {"pcid": pcid_item(new_pcid())}, E.ENOSPC)


@test
def claim_ends_on_close():
    """the claim ends when the claimer closes: tokens revoked, pCID open"""
    a, b, r = EP(), EP(), EP()
    p = new_pcid()
    claim(a, p)
    t = a.kept("grant", {"pcid": pcid_item(p)})["token"]
    a.close()
    r.receive(p)
    b.send(frame(p, 1))
    r.fails("redeem", tok(t), E.EACCES)
    claim(b, p)


@test
def grant_redeem_basics():
    """grant: 32-byte token, rights; redeem: pcid, rights; then send works"""
    a, b = EP(), EP()
    p = new_pcid()
    claim(a, p)
    a.receive(p)
    d = a.kept("grant", {"pcid": pcid_item(p), "rights": 1})
    check(isinstance(d["token"], bytes) and len(d["token"]) == 32
          and d["rights"] == 1 and set(d) == {"token", "rights"}, "grant %r" % d)
    r = b.kept("redeem", tok(d["token"]))
    check(r == {"pcid": pcid_item(p), "rights": 1}, "redeem %r" % r)
    b.send(frame(p, 1))
    b.fails("receive", {"pcid": pcid_item(p)}, E.EACCES)
    d0 = a.kept("grant", {"pcid": pcid_item(p), "rights": 0})
    check(d0["rights"] == 7, "rights 0 gave %r" % d0["rights"])
    d0 = a.kept("grant", {"pcid": pcid_item(p)})
    check(d0["rights"] == 7, "rights absent gave %r" % d0["rights"])


@test
def grant_errors():
    """grant: ENOENT unclaimed, EACCES no grant right or more rights, EINVAL ttl"""
    a, b = EP(), EP()
    p = new_pcid()
    a.fails("grant", {"pcid": pcid_item(new_pcid())}, E.ENOENT)
    claim(a, p)
    b.fails("grant", {"pcid": pcid_item(p)}, E.EACCES)
    t = a.kept("grant", {"pcid": pcid_item(p), "rights": 1 | 4})["token"]
    b.kept("redeem", tok(t))
    b.fails("grant", {"pcid": pcid_item(p), "rights": 2}, E.EACCES)
    d = b.kept("grant", {"pcid": pcid_item(p), "rights": 1})
    check(d["rights"] == 1, "derived grant %r" % d)
    d = b.kept("grant", {"pcid": pcid_item(p)})
    check(d["rights"] == 5, "derived all-rights grant gave %r" % d["rights"])
    a.fails("grant", {"pcid": pcid_item(p), "ttl_ms": 1 << 32}, E.EINVAL,
            "malformed")
    a.kept("grant", {"pcid": pcid_item(p), "ttl_ms": (1 << 32) - 1})
    t = a.kept("grant", {"pcid": pcid_item(p), "rights": 1})["token"]
    c = EP()
    c.kept("redeem", tok(t))
    c.fails("grant", {"pcid": pcid_item(p)}, E.EACCES)


@test
def grant_emlink_token_depth():
    """grant: EMLINK past max_token_depth"""
    check(set_param("max_token_depth", 1) == 0, "cannot set max_token_depth")
    a, b, c = EP(), EP(), EP()
    p = new_pcid()
    claim(a, p)
    t = a.kept("grant", {"pcid": pcid_item(p)})["token"]
    b.kept("redeem", tok(t))
    # a token from the claim is depth 1; one granted from it would be 2
    b.fails("grant", {"pcid": pcid_item(p)}, E.EMLINK)
    c.fails("redeem", tok(os.urandom(32)), E.EACCES)
    check(set_param("max_token_depth", 2) == 0, "cannot set it to 2")
    c.kept("redeem", tok(b.kept("grant", {"pcid": pcid_item(p)})["token"]))
    c.fails("grant", {"pcid": pcid_item(p)}, E.EMLINK)


@test
def grant_enospc_max_tokens():
    """grant: ENOSPC past max_tokens live tokens"""
    check(set_param("max_tokens", 2) == 0, "cannot set max_tokens")
    a = EP()
    p = new_pcid()
    claim(a, p)
    a.kept("grant", {"pcid": pcid_item(p)})
    a.kept("grant", {"pcid": pcid_item(p)})
    a.fails("grant", {"pcid": pcid_item(p)}, E.ENOSPC)


@test
def redeem_errors():
    """redeem: forged EACCES (counted in denied), 31 bytes EINVAL malformed"""
    a, b = EP(), EP()
    p = new_pcid()
    claim(a, p)
    t = a.kept("grant", {"pcid": pcid_item(p)})["token"]
    d0 = b.stats()["module"]["denied"]
    b.fails("redeem", tok(os.urandom(32)), E.EACCES)
    b.fails("redeem", tok(t[:8] + bytes(24)), E.EACCES)
    d1 = b.stats()["module"]["denied"]
    check(d1 - d0 == 2, "denied moved by %d" % (d1 - d0))
    b.fails("redeem", tok(t[:31]), E.EINVAL, "malformed")
    b.fails("redeem", tok(t + b"\x00"), E.EINVAL, "malformed")


@test
def redeem_enospc_max_holdings():
    """redeem: ENOSPC past max_holdings"""
    check(set_param("max_holdings", 2) == 0, "cannot set max_holdings")
    b = EP()
    ts = []
    for _ in range(3):
        a, p = EP(), new_pcid()
        claim(a, p)
        ts.append(a.kept("grant", {"pcid": pcid_item(p)})["token"])
    b.kept("redeem", tok(ts[0]))
    b.kept("redeem", tok(ts[1]))
    b.fails("redeem", tok(ts[2]), E.ENOSPC)


@test
def revoke_counts_and_errors():
    """revoke: tokens and holders that ended; EACCES others; EINVAL size"""
    a, b, c, x = EP(), EP(), EP(), EP()
    p = new_pcid()
    claim(a, p)
    t = a.kept("grant", {"pcid": pcid_item(p)})["token"]
    b.kept("redeem", tok(t))
    c.kept("redeem", tok(t))
    t2 = b.kept("grant", {"pcid": pcid_item(p), "rights": 1})["token"]
    x.kept("redeem", tok(t2))
    x.fails("revoke", tok(t), E.EACCES)
    x.fails("revoke", tok(t[:31]), E.EINVAL, "malformed")
    d = a.kept("revoke", tok(t))
    check(d == {"tokens": 2, "holders": 3}, "revoke %r" % d)
    for e in (b, c, x):
        expect_write(e, frame(p, 1), E.EACCES, "send after revoke")
    x.fails("redeem", tok(t2), E.EACCES)
    a.fails("revoke", tok(t), E.EACCES)


@test
def revoke_by_minter_not_claimer():
    """the endpoint that minted a token may revoke it"""
    a, b, c = EP(), EP(), EP()
    p = new_pcid()
    claim(a, p)
    b.kept("redeem", tok(a.kept("grant", {"pcid": pcid_item(p)})["token"]))
    t2 = b.kept("grant", {"pcid": pcid_item(p)})["token"]
    c.kept("redeem", tok(t2))
    d = b.kept("revoke", tok(t2))
    check(d == {"tokens": 1, "holders": 1}, "revoke %r" % d)
    t3 = b.kept("grant", {"pcid": pcid_item(p)})["token"]
    a.kept("revoke", tok(t3))  # the claimer may too


@test
def rights_checked_at_delivery_after_revoke():
    """a receive made with a revoked token stays but gets nothing"""
    a, b = EP(), EP()
    p = new_pcid()
    claim(a, p)
    t = a.kept("grant", {"pcid": pcid_item(p), "rights": 2})["token"]
    b.kept("redeem", tok(t))
    b.receive(p)
    a.send(frame(p, 1))
    check(len(frames_of(b, p)) == 1, "redeemed receive got nothing")
    a.kept("revoke", tok(t))
    expect_write(a, frame(p, 2), E.EHOSTUNREACH, "only receiver lost the right")
    a.receive(p)
    a.send(frame(p, 3))
    check(frames_of(b, p) == [], "revoked receiver still gets frames")
    b.kept("unreceive", {"pcid": pcid_item(p)})


@test
def receive_while_open_then_claimed():
    """a receive registered while the pCID was open gets nothing once claimed"""
    a, b = EP(), EP()
    p = new_pcid()
    b.receive(p)
    claim(a, p)
    expect_write(a, frame(p, 1), E.EHOSTUNREACH, "open-era receive only")
    b.kept("unreceive", {"pcid": pcid_item(p)})


@test
def group_skips_member_without_right():
    """a worker group gives each frame to a member that may receive it"""
    a, m1, m2 = EP(), EP(), EP()
    p = new_pcid()
    m1.receive(p, group="g")
    claim(a, p)
    t = a.kept("grant", {"pcid": pcid_item(p), "rights": 2})["token"]
    m2.kept("redeem", tok(t))
    m2.receive(p, group="g")
    for i in range(4):
        a.send(frame(p, i))
    check(frames_of(m1, p) == [], "member without the right got frames")
    check(len(frames_of(m2, p)) == 4, "member with the right missed frames")


@test
def ttl_expiry():
    """ttl_ms: the token and its redemptions end when it expires"""
    a, b = EP(), EP()
    p = new_pcid()
    claim(a, p)
    base = a.stats()["module"]["tokens"]
    t = a.kept("grant", {"pcid": pcid_item(p), "ttl_ms": 1000})["token"]
    b.kept("redeem", tok(t))
    b.receive(p)
    a.send(frame(p, 1))
    b.send(frame(p, 2))
    check(a.stats()["module"]["tokens"] == base + 1, "live token not counted")
    time.sleep(1.5)
    expect_write(b, frame(p, 3), E.EACCES, "send after expiry")
    expect_write(a, frame(p, 4), E.EHOSTUNREACH, "delivery after expiry")
    EP().fails("redeem", tok(t), E.EACCES)
    check(a.stats()["module"]["tokens"] == base, "expired token counted")


@test
def derived_token_expires_with_parent():
    """a token derived from an expiring one ends no later than it"""
    a, b, c = EP(), EP(), EP()
    p = new_pcid()
    claim(a, p)
    t = a.kept("grant", {"pcid": pcid_item(p), "ttl_ms": 1000})["token"]
    b.kept("redeem", tok(t))
    # never later than the granter's own: kept, and ends with it
    t2 = b.kept("grant", {"pcid": pcid_item(p), "ttl_ms": 60000})["token"]
    c.kept("redeem", tok(t2))
    time.sleep(1.5)
    expect_write(c, frame(p, 1), E.EACCES, "derived holder after expiry")


@test
def max_endpoints_per_user_emfile():
    """open fails EMFILE past max_endpoints_per_user (per uid)"""
    check(set_param("max_endpoints_per_user", 3) == 0, "cannot set it")
    EP()  # root's endpoints do not count against uid 65534

    def child():
        drop_to_nobody()
        fds = [os.open(DEV, os.O_RDWR) for _ in range(3)]
        try:
            os.open(DEV, os.O_RDWR)
            return False
        except OSError as e:
            return e.errno == E.EMFILE
    ok, _ = in_child(child)
    check(ok, "the fourth open of uid 65534 did not fail EMFILE")


# ================================================================ queues

def notice_of(raw):
    pc, slots = envelope(raw)
    if pc != CONTROL or slots[0] is not None:
        return None
    return slots


@test
def queue_frames_drop_and_notice():
    """queue_frames: drop, ENOBUFS when nobody took it, notice first"""
    check(set_param("queue_frames", 4) == 0, "cannot set queue_frames")
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    fs = [frame(p, i) for i in range(4)]
    for f in fs:
        s.send(f)
    expect_write(s, frame(p, 4), E.ENOBUFS, "fifth frame")
    expect_write(s, frame(p, 5), E.ENOBUFS, "sixth frame")
    st = r.stats()
    check(st["endpoint"]["dropped"] == 2, "dropped %r" % st["endpoint"])
    ds = r.deliveries()
    check(len(ds) >= 5, "%d deliveries" % len(ds))
    n = notice_of(ds[0])
    check(n is not None and n[1] == "broken"
          and n[2] == {"errno": 105, "reason": "receive queue full",
                       "dropped": 2},
          "first delivery %r is not the drop notice" % (n,))
    check(ds[1:5] == fs, "queued frames after the notice")
    check(all(notice_of(d) is None for d in ds[5:]), "second notice")


@test
def drop_one_receiver_write_succeeds():
    """the write succeeds if any receiver took the frame"""
    check(set_param("queue_frames", 1) == 0, "cannot set queue_frames")
    full, ok, s = EP(), EP(), EP()
    p = new_pcid()
    full.receive(p)
    full.deliveries()
    ok.receive(p)
    s.send(frame(p, 1))
    ok.deliveries()
    s0 = s.stats()["module"]["drops"]
    s.send(frame(p, 2))
    check(s.stats()["module"]["drops"] == s0 + 1, "drops not counted")


@test
def queue_bytes_larger_dropped_even_empty():
    """a delivery larger than queue_bytes is dropped even by an empty queue"""
    check(set_param("queue_bytes", 4096) == 0, "cannot set queue_bytes")
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    expect_write(s, frame(p, bytes(5000)), E.ENOBUFS, "5000-byte frame")
    s.send(frame(p, bytes(100)))
    ds = r.deliveries()
    n = notice_of(ds[0]) if ds else None
    check(n is not None and n[2].get("dropped") == 1, "no notice: %r" % (n,))


@test
def reply_reserve():
    """replies go past a full queue by a reserve of 64 frames"""
    check(set_param("queue_frames", 4) == 0, "cannot set queue_frames")
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    fs = [frame(p, i) for i in range(4)]
    for f in fs:
        s.send(f)
    for i in range(65):
        r.write(request(1000 + i, "hello"))
    ds = r.deliveries()
    n = notice_of(ds[0]) if ds else None
    check(n is not None and n[2].get("dropped") == 1,
          "no notice of one dropped reply: %r" % (n,))
    check(ds[1:5] == fs, "frames")
    ids = [envelope(d)[1][0] for d in ds[5:]]
    check(ids == list(range(1000, 1064)), "replies %r" % ids[:3] +
          " ... %d of them" % len(ids))


@test
def reply_reserve_answers_own_request():
    """a queue filled by others still gets the answer to a request"""
    check(set_param("queue_frames", 2) == 0, "cannot set queue_frames")
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    s.send(frame(p, 1))
    s.send(frame(p, 2))
    err, rid, out, det = r.req("stats")
    check(err == 0 and out == "kept", "stats on a full queue: %s %s" %
          (errname(-err), out))


@test
def grant_rights_outside_7_refused():
    """grant: rights is a subset of 7; 8 is refused"""
    a = EP()
    p = new_pcid()
    claim(a, p)
    err, _, out, det = a.req("grant", {"pcid": pcid_item(p), "rights": 8})
    check(err != 0 and out != "kept", "rights 8 granted")


def spec_cid(name):
    with open(os.path.join(PROTOCOLS, name), "rb") as f:
        return cid_of(f.read())


@test
def kernel_pcids_are_spec_cids():
    """the kernel's pCIDs are the CIDs of their spec files"""
    if not os.path.isdir(PROTOCOLS):
        raise Skip("no %s" % PROTOCOLS)
    check(spec_cid("pg-kernel-control-v4.md") == CONTROL, "control v4")
    check(spec_cid("pg-kernel-delivery-v3.md") == DELIVERY, "delivery v3")


@test
def retired_pcids_stay_the_kernels():
    """older kernel protocols: EPROTONOSUPPORT, no reply, nobody receives"""
    if not os.path.isdir(PROTOCOLS):
        raise Skip("no %s" % PROTOCOLS)
    for name in ("pg-kernel-control-v1.md", "pg-kernel-control-v2.md",
                 "pg-kernel-delivery-v1.md"):
        old = spec_cid(name)
        a = EP()
        expect_write(a, frame(old, 1, "hello", {}), E.EPROTONOSUPPORT, name)
        check(a.deliveries() == [], "%s: a request was answered" % name)
        a.fails("receive", {"pcid": pcid_item(old)}, E.EPERM)
        a.fails("receive", {"pcid": pcid_item(old), "group": "g"}, E.EPERM)


@test
def unread_notice_at_close():
    """accept unread: a receiver closing with our frames queued tells us"""
    s, quiet, r = EP(), EP(), EP()
    p = new_pcid()
    check(s.kept("accept", {"unread": True}) == {"carry": False,
                                                 "attest": False,
                                                 "unread": True}, "accept")
    r.receive(p, attest=True)
    rid = r.id
    fs = [frame(p, i) for i in range(3)]
    for f in fs:
        s.send(f)
    quiet.send(frame(p, 9))
    r.close()
    ns = [notice_of(x) for x in s.deliveries()]
    check(len(ns) == 3, "%d notices for 3 unread frames" % len(ns))
    for f, n in zip(fs, ns):
        check(n is not None and len(n) == 4 and n[1] == "broken"
              and n[2].get("errno") == E.EPIPE and n[2].get("to") == rid
              and n[2].get("pcid") == pcid_item(p)
              and isinstance(n[2].get("reason"), str),
              "notice %r" % (n,))
        check(n[3] == link_to(f), "the notice names another frame")
    check(quiet.deliveries() == [], "a sender that did not ask was told")


@test
def close_during_blocked_read():
    """a close() from another thread does not end the endpoint under a read"""
    r, s = EP(nonblock=False), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    got = []
    fd = r.fd
    t = threading.Thread(target=lambda: got.append(os.read(fd, 1 << 17)),
                         daemon=True)
    t.start()
    time.sleep(0.3)
    os.close(fd)
    r.fd = -1
    time.sleep(0.2)
    f = frame(p, 1)
    n = s.write(f)
    t.join(5)
    check(n == len(f), "send while the reader blocks: %s" % errname(n))
    check(got == [f], "the blocked read got %r" % got)
    expect_write(s, frame(p, 2), E.EHOSTUNREACH, "after the read returned")


def overflow_id(kind):
    try:
        with open("/proc/sys/kernel/overflow%s" % kind) as f:
            return int(f.read())
    except OSError:
        return 65534


@test
def attest_ids_in_other_namespaces():
    """attestation in the receiver's namespaces: pid 0, overflow ids"""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        raise Skip("no libc through ctypes")
    s, r = EP(), EP()
    p, q = new_pcid(), new_pcid()
    r.receive(q, attest=True)
    r.deliveries()
    sid = s.id
    rd, wr = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(rd)
            os.close(go_w)
            if libc.unshare(0x10000000 | 0x20000000) != 0:
                os.write(wr, b"unshare %d\n" % ctypes.get_errno())
                os._exit(3)
            g = os.fork()
            if g == 0:
                gc = 1
                try:
                    inner = EP()
                    inner.receive(p, attest=True)
                    inner.deliveries()
                    os.write(wr, b"ready\n")
                    os.read(go_r, 1)
                    ds = inner.deliveries(wait=2)
                    hdr = envelope(ds[0])[1][0] if len(ds) == 1 else ds
                    os.write(wr, ("hdr %r\n" % (hdr,)).encode())
                    inner.send(frame(q, "from inside"))
                    gc = 0
                finally:
                    os._exit(gc)
            os.write(wr, b"gpid %d\n" % g)
            _, st = os.waitpid(g, 0)
            code = 0 if os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0 else 1
        finally:
            os._exit(code)
    os.close(wr)
    os.close(go_r)
    lines = {}
    with os.fdopen(rd) as pipe:
        for line in pipe:
            k, _, v = line.strip().partition(" ")
            lines[k] = v
            if k == "unshare":
                break
            if "ready" in lines and "gpid" in lines and "sent" not in lines:
                s.send(frame(p, "from outside"))
                os.write(go_w, b"x")
                lines["sent"] = ""
    os.close(go_w)
    _, st = os.waitpid(pid, 0)
    if "unshare" in lines:
        raise Skip("unshare(CLONE_NEWUSER|CLONE_NEWPID): errno %s" %
                   lines["unshare"])
    want = [sid, 0, overflow_id("uid"), overflow_id("gid"), None]
    check(lines.get("hdr") == repr(want),
          "inside the namespaces saw %s, wanted %r" % (lines.get("hdr"), want))
    check(os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, "child failed")
    ds = r.deliveries()
    check(len(ds) == 1, "%d deliveries from inside" % len(ds))
    hdr = envelope(ds[0])[1][0]
    check(hdr[1:] == [int(lines["gpid"]), 0, 0, None],
          "outside saw %r, wanted [_, %s, 0, 0, null]" % (hdr, lines["gpid"]))


@test
def attest_pid_is_tgid_when_a_thread_opened():
    """the pid reported is the opener's thread group id"""
    r = EP()
    p = new_pcid()
    r.receive(p, attest=True)
    r.deliveries()
    fds = []
    t = threading.Thread(target=lambda: fds.append(os.open(DEV, os.O_RDWR)))
    t.start()
    t.join()
    s = EP(fd=fds[0])
    s.send(frame(p, 1))
    ds = r.deliveries()
    check(len(ds) == 1, "%d deliveries" % len(ds))
    hdr = envelope(ds[0])[1][0]
    check(hdr[1] == os.getpid(), "pid %d, tgid %d" % (hdr[1], os.getpid()))


@test
def stats_denied_counts_every_eacces():
    """denied counts rule denials: send, redeem, revoke, grant, carry"""
    a, x, t = EP(), EP(), EP()
    p = new_pcid()
    claim(a, p)
    a.receive(p)
    tk = a.kept("grant", {"pcid": pcid_item(p)})["token"]
    d0 = x.stats()["module"]["denied"]
    expect_write(x, frame(p, 1), E.EACCES, "send on a claimed pCID")
    x.fails("receive", {"pcid": pcid_item(p)}, E.EACCES)
    x.fails("redeem", tok(os.urandom(32)), E.EACCES)
    x.fails("revoke", tok(tk), E.EACCES)
    x.fails("grant", {"pcid": pcid_item(p)}, E.EACCES)
    x.fails("carry", carry_args(t.id, frame(new_pcid(), 1)), E.EACCES)
    d1 = x.stats()["module"]["denied"]
    check(d1 - d0 == 6, "denied moved by %d for 6 denials" % (d1 - d0))


@test
def stats_rejected_counts_failed_requests():
    """rejected counts refused frames, failed requests included"""
    a = EP()
    r0 = a.stats()["module"]["rejected"]
    a.fails("frobnicate", {}, E.EBADRQC, "malformed")
    a.fails("unreceive", {"pcid": pcid_item(new_pcid())}, E.ENOENT)
    expect_write(a, b"\x82\x01\x02", E.EPROTO, "not a frame")
    r1 = a.stats()["module"]["rejected"]
    check(r1 - r0 == 3, "rejected moved by %d for 3" % (r1 - r0))


@test
def stats_routes_follow_receives():
    """routes: pCIDs with at least one receive now"""
    a, b = EP(), EP()
    p = new_pcid()
    r0 = a.stats()["module"]["routes"]
    a.receive(p)
    b.receive(p, group="g")
    check(a.stats()["module"]["routes"] == r0 + 1, "one pCID, two receives")
    a.kept("unreceive", {"pcid": pcid_item(p)})
    check(a.stats()["module"]["routes"] == r0 + 1, "one receive left")
    b.close()
    check(a.stats()["module"]["routes"] == r0, "after the last went away")


@test
def claim_close_counts():
    """a claimer's close ends its claims and tokens in stats"""
    a, o = EP(), EP()
    s0 = o.stats()["module"]
    p = new_pcid()
    claim(a, p)
    for _ in range(3):
        a.kept("grant", {"pcid": pcid_item(p)})
    s1 = o.stats()["module"]
    check((s1["claims"] - s0["claims"], s1["tokens"] - s0["tokens"]) == (1, 3),
          "claims, tokens moved by %d, %d" % (s1["claims"] - s0["claims"],
                                              s1["tokens"] - s0["tokens"]))
    a.close()
    s2 = o.stats()["module"]
    check((s2["claims"], s2["tokens"]) == (s0["claims"], s0["tokens"]),
          "after close: claims %d, tokens %d" % (s2["claims"], s2["tokens"]))


@test
def drop_notice_counts_since_previous():
    """the drop notice counts the deliveries lost since the previous one"""
    check(set_param("queue_frames", 1) == 0, "cannot set queue_frames")
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    s.send(frame(p, 0))
    for i in range(2):
        expect_write(s, frame(p, 1), E.ENOBUFS, "full")
    ds = r.deliveries()
    check(notice_of(ds[0])[2]["dropped"] == 2, "first notice %r" % ds[0])
    s.send(frame(p, 0))
    for i in range(3):
        expect_write(s, frame(p, 1), E.ENOBUFS, "full")
    ds = r.deliveries()
    check(notice_of(ds[0])[2]["dropped"] == 3, "second notice %r" % ds[0])
    s.send(frame(p, 0))
    ds = r.deliveries()
    check(len(ds) == 1 and notice_of(ds[0]) is None, "a third notice")


@test
def expired_tokens_count_against_no_limit():
    """an expired token counts against neither max_tokens nor max_holdings"""
    check(set_param("max_tokens", 1) == 0, "cannot set max_tokens")
    check(set_param("max_holdings", 1) == 0, "cannot set max_holdings")
    a, a2, b = EP(), EP(), EP()
    p, p2 = new_pcid(), new_pcid()
    claim(a, p)
    claim(a2, p2)
    t = a.kept("grant", {"pcid": pcid_item(p), "ttl_ms": 1000})["token"]
    b.kept("redeem", tok(t))
    t2 = a2.kept("grant", {"pcid": pcid_item(p2)})["token"]
    b.fails("redeem", tok(t2), E.ENOSPC)
    a.fails("grant", {"pcid": pcid_item(p)}, E.ENOSPC)
    time.sleep(1.5)
    a.kept("grant", {"pcid": pcid_item(p)})
    b.kept("redeem", tok(t2))


def sized_frame(p, n):
    """A frame of exactly n bytes on p."""
    k = n - len(frame(p, b""))
    f = frame(p, bytes(k))
    while len(f) > n:
        k -= 1
        f = frame(p, bytes(k))
    check(len(f) == n, "cannot build a %d-byte frame" % n)
    return f


# kmalloc's size classes up to 8 KiB; above, whole page orders
SLAB_CLASSES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]


def slab_size(n):
    for c in SLAB_CLASSES:
        if n <= c:
            return c
    size = 16384
    while size < n:
        size *= 2
    return size


@test
def queued_bytes_slab_sizes():
    """queued_bytes: each delivery at its allocation, frame + <= 64, slab-rounded"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    for n in (60, 100, 150, 250, 1000, 4000, 4100, 8100, 10000, 60000):
        s.send(sized_frame(p, n))
        qb = r.kept("stats")["endpoint"]["queued_bytes"]
        r.deliveries()
        check(slab_size(n) <= qb <= slab_size(n + 64) and qb == slab_size(qb),
              "a %d-byte frame is counted as %d bytes" % (n, qb))


@test
def queue_bytes_exact_fill():
    """queue_bytes 8192 holds two 4000-byte frames (4 KiB each), not three"""
    check(set_param("queue_bytes", 8192) == 0, "cannot set queue_bytes")
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    f = sized_frame(p, 4000)
    s.send(f)
    s.send(f)
    expect_write(s, f, E.ENOBUFS, "the third 4 KiB delivery")
    check(len(frames_of(r, p)) == 2, "two frames were not kept")


@test
def grant_needs_one_holding():
    """all the rights asked must be held by one holding with grant"""
    a, b = EP(), EP()
    p = new_pcid()
    claim(a, p)
    for rights in (1 | 4, 2 | 4):
        b.kept("redeem", tok(a.kept("grant", {"pcid": pcid_item(p),
                                              "rights": rights})["token"]))
    b.fails("grant", {"pcid": pcid_item(p), "rights": 3}, E.EACCES)
    check(b.kept("grant", {"pcid": pcid_item(p), "rights": 1})["rights"] == 1,
          "rights 1")
    check(b.kept("grant", {"pcid": pcid_item(p), "rights": 2})["rights"] == 2,
          "rights 2")


@test
def carry_needs_the_frame_read():
    """carry as an answer needs the target's frame read, not just queued"""
    w, caller = EP(), EP()
    p = new_pcid()
    w.receive(p)
    w.deliveries()
    caller.send(frame(p, "call"))
    f = frame(new_pcid(), "answer")
    cid = caller.id
    # w.req reads w's queue (the call too) only after the carry was refused
    err = w.write(request(77, "carry", carry_args(cid, f)))
    check(err == -E.EACCES, "carry before reading the call: %s" % errname(err))
    check(len(frames_of(w, p)) == 1, "the call")
    w.kept("carry", carry_args(cid, f))
    check(caller.deliveries() == [f], "answer")


@test
def parameters_apply_to_existing_endpoints():
    """parameters apply to the operations that follow, on open endpoints"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    check(set_param("queue_frames", 2) == 0, "cannot set queue_frames")
    check(set_param("max_frame", 100) == 0, "cannot set max_frame")
    check(set_param("max_receives", 2) == 0, "cannot set max_receives")
    s.send(frame(p, 1))
    s.send(frame(p, 2))
    expect_write(s, frame(p, 3), E.ENOBUFS, "queue_frames lowered to 2")
    expect_write(s, sized_frame(p, 101), E.EMSGSIZE, "max_frame lowered to 100")
    expect_write(r, request(5, "receive", {"pcid": pcid_item(p), "group": "g"}),
                 E.EMSGSIZE, "a request above max_frame")
    check(set_param("max_frame", 65536) == 0, "cannot set max_frame")
    r.receive(p, group="g")
    r.fails("receive", {"pcid": pcid_item(new_pcid())}, E.ENOSPC)


@test
def minimum_max_depth_and_max_frame():
    """max_depth 3 takes exactly the envelope; max_frame 64 takes 64 bytes"""
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    check(set_param("max_depth", 3) == 0, "cannot set max_depth")
    s.send(frame(p, 1, "x"))
    s.send(frame(p, []))
    expect_write(s, frame(p, [[]]), E.E2BIG, "depth 4 with max_depth 3")
    s.send(frame(p, Tag(1, 1), {"a": 1}))
    expect_write(s, frame(p, Tag(1, [])), E.E2BIG, "a tag at level 3 over []")
    expect_write(s, frame(p, {"a": []}), E.E2BIG, "a map at level 3 over []")
    restore_params()
    check(set_param("max_frame", 64) == 0, "cannot set max_frame")
    s.send(sized_frame(p, 64))
    expect_write(s, sized_frame(p, 65), E.EMSGSIZE, "65 bytes, max_frame 64")


@test
def drop_notice_alone_is_readable():
    """a queued drop notice alone makes POLLIN and a read return it"""
    check(set_param("queue_bytes", 4096) == 0, "cannot set queue_bytes")
    r, s = EP(), EP()
    p = new_pcid()
    r.receive(p)
    r.deliveries()
    expect_write(s, sized_frame(p, 5000), E.ENOBUFS, "larger than queue_bytes")
    pl = select.poll()
    pl.register(r.fd, select.POLLIN)
    check(dict(pl.poll(500)).get(r.fd, 0) & select.POLLIN,
          "no POLLIN with only a drop notice queued")
    ds = r.deliveries()
    check(len(ds) == 1 and notice_of(ds[0]) is not None
          and notice_of(ds[0])[2]["dropped"] == 1, "read %r" % ds)


@test
def revoke_ends_derived_tokens_however_deep():
    """revoke ends every token derived from it, however deep"""
    eps = [EP() for _ in range(4)]
    p = new_pcid()
    claim(eps[0], p)
    toks = []
    for i in range(3):
        t = eps[i].kept("grant", {"pcid": pcid_item(p)})["token"]
        eps[i + 1].kept("redeem", tok(t))
        toks.append(t)
    d = eps[0].kept("revoke", tok(toks[0]))
    check(d == {"tokens": 3, "holders": 3}, "revoke %r" % d)
    for i in (1, 2, 3):
        expect_write(eps[i], frame(p, i), E.EACCES, "holder %d" % i)


@test
def enforcing_fails_closed():
    """enforcing=1 with no policy: nothing passes, tracefs stamps nothing"""
    a, r = EP(), EP()
    p = new_pcid()
    r.receive(p)
    d0 = a.stats()["module"]["denied"]
    check(set_param("enforcing", 1) == 0, "cannot set enforcing")
    expect_write(a, frame(p, 1), E.EACCES, "send, enforcing")
    a.fails("receive", {"pcid": pcid_item(new_pcid())}, E.EACCES)
    a.fails("claim", {"pcid": pcid_item(new_pcid())}, E.EACCES)
    ev = tracefs("events/promisegrid/pg_authorize/enable")
    if ev:
        with open(ev, "w") as f:
            f.write("1")
        try:
            expect_write(a, frame(p, 2), E.EACCES, "send, pg_authorize enabled")
        finally:
            with open(ev, "w") as f:
                f.write("0")
    restore_params()
    d1 = a.stats()["module"]["denied"]
    check(d1 - d0 >= 3, "denied moved by %d" % (d1 - d0))
    a.send(frame(p, 3))


def tracefs(rel=""):
    for d in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
        if os.path.exists(os.path.join(d, "events")):
            return os.path.join(d, rel)
    return None


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def trace_lines(fn):
    """Run fn with the module's events enabled; their trace lines."""
    tr = tracefs()
    if tr is None:
        raise Skip("no tracefs")
    with open(os.path.join(tr, "trace"), "w"):
        pass
    with open(os.path.join(tr, "events/promisegrid/enable"), "w") as f:
        f.write("1")
    try:
        fn()
    finally:
        with open(os.path.join(tr, "events/promisegrid/enable"), "w") as f:
            f.write("0")
    with open(os.path.join(tr, "trace")) as f:
        return [ln for ln in f if not ln.startswith("#")]


def trace_fields(lines, event):
    out = []
    for ln in lines:
        if " %s: " % event not in ln:
            continue
        rest = ln.split(" %s: " % event, 1)[1]
        out.append(dict(kv.split("=", 1) for kv in rest.split()))
    return out


@test
def tracepoints_exist():
    """events/promisegrid/ has pg_send, pg_deliver, pg_drop, pg_deny, pg_authorize"""
    tr = tracefs("events/promisegrid")
    if tr is None:
        raise Skip("no tracefs")
    have = set(os.listdir(tr)) if os.path.isdir(tr) else set()
    want = {"pg_send", "pg_deliver", "pg_drop", "pg_deny", "pg_authorize"}
    check(want <= have, "missing %r" % sorted(want - have))


@test
def trace_send_deliver_drop_deny():
    """pg_send, pg_deliver, pg_drop, pg_deny name endpoint, FNV-1a hash, length"""
    check(set_param("queue_frames", 1) == 0, "cannot set queue_frames")
    r, s, c = EP(), EP(), EP()
    p, q = new_pcid(), new_pcid()
    r.receive(p)
    r.deliveries()
    claim(c, q)
    sid, rid = s.id, r.id
    f = frame(p, "traced")

    def ops():
        s.send(f)
        expect_write(s, f, E.ENOBUFS, "queue full")
        expect_write(s, frame(q, 1), E.EACCES, "claimed")
        expect_write(s, frame(new_pcid(), 1), E.EHOSTUNREACH, "nobody")
    lines = trace_lines(ops)
    h = "%016x" % fnv1a64(p)
    sends = trace_fields(lines, "pg_send")
    check(len(sends) == 4, "%d pg_send lines" % len(sends))
    check(sends[0] == {"endpoint": str(sid), "pcid": h, "len": str(len(f)),
                       "err": "0"}, "pg_send %r, wanted hash %s" % (sends[0], h))
    errs = [abs(int(x["err"])) for x in sends[1:]]
    check(errs == [E.ENOBUFS, E.EACCES, E.EHOSTUNREACH], "errs %r" % errs)
    dl = trace_fields(lines, "pg_deliver")
    check(len(dl) == 1 and dl[0]["to"] == str(rid) and dl[0]["pcid"] == h
          and int(dl[0]["len"]) >= len(f), "pg_deliver %r" % dl)
    dr = trace_fields(lines, "pg_drop")
    check(len(dr) == 1 and dr[0]["to"] == str(rid) and dr[0]["pcid"] == h,
          "pg_drop %r" % dr)
    dn = trace_fields(lines, "pg_deny")
    check(len(dn) == 1 and dn[0].get("endpoint") == str(sid)
          and dn[0].get("pcid") == "%016x" % fnv1a64(q), "pg_deny %r" % dn)


@test
def module_btf():
    """the module carries BTF when the kernel has BTF"""
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        raise Skip("the kernel has no BTF")
    check(os.path.exists("/sys/kernel/btf/promisegrid"),
          "no /sys/kernel/btf/promisegrid")


def in_userns(base, work):
    """Run work() in a child whose new user namespace maps 0 to base."""
    libc = ctypes.CDLL(None, use_errno=True)
    rd, wr = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(rd)
            os.close(go_w)
            if libc.unshare(0x10000000) != 0:
                os._exit(3)
            os.write(wr, b"u")
            os.read(go_r, 1)
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
            code = 0 if work(wr) else 1
        finally:
            os._exit(code)
    os.close(wr)
    os.close(go_r)
    if os.read(rd, 1) != b"u":
        os.waitpid(pid, 0)
        raise Skip("unshare(CLONE_NEWUSER) failed")
    for name, text in (("uid_map", "0 %d 1" % base), ("setgroups", "deny"),
                       ("gid_map", "0 %d 1" % base)):
        with open("/proc/%d/%s" % (pid, name), "w") as f:
            f.write(text)
    os.write(go_w, b"g")
    os.close(go_w)
    _, st = os.waitpid(pid, 0)
    return os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, rd


@test
def endpoint_quota_by_initial_ns_uid():
    """the quota is keyed by the uid the initial user namespace sees"""
    check(set_param("max_endpoints_per_user", 2) == 0, "cannot set it")
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

    def hold_two(_):
        fds = [os.open(DEV, os.O_RDWR) for _ in range(2)]
        try:
            os.open(DEV, os.O_RDWR)
            return False
        except OSError as e:
            if e.errno != E.EMFILE:
                return False
        socket.send_fds(a, [b"x"], fds)
        return True

    def try_open(want):
        def fn(wr):
            try:
                os.open(DEV, os.O_RDWR)
                return want == 0
            except OSError as e:
                return e.errno == want
        return fn
    ok, rd = in_userns(100000, hold_two)
    os.close(rd)
    check(ok, "a container could not open exactly 2")
    _, fds, _, _ = socket.recv_fds(b, 1, 2)
    for fd in fds:
        EP(fd=fd)
    ok, rd = in_userns(100000, try_open(E.EMFILE))
    os.close(rd)
    check(ok, "another container with the same uid range got its own quota")
    ok, rd = in_userns(200000, try_open(0))
    os.close(rd)
    check(ok, "a container with its own range shares a quota")


@test
def stats_counter_definitions():
    """deliveries count replies; failed requests are rejected, not sent"""
    o, a, b = EP(), EP(), EP()
    p = new_pcid()
    claim(a, p)
    m0 = o.stats()["module"]
    o.kept("hello")
    o.fails("frobnicate", {}, E.EBADRQC, "malformed")
    m1 = o.stats()["module"]
    d = {k: m1[k] - m0[k] for k in m0}
    # between the snapshots: the first stats reply, hello and its reply,
    # the failed request and its reply, the second stats request
    check(d["frames_sent"] == 2, "frames_sent moved by %d (hello, stats)"
          % d["frames_sent"])
    check(d["rejected"] == 1, "rejected moved by %d" % d["rejected"])
    check(d["deliveries"] == 3, "deliveries moved by %d (3 replies)"
          % d["deliveries"])
    # a frame whose only receiver lacks the right counts as no_receiver
    t = a.kept("grant", {"pcid": pcid_item(p), "rights": 2})["token"]
    b.kept("redeem", tok(t))
    b.receive(p)
    a.kept("revoke", tok(t))
    n0 = o.stats()["module"]["no_receiver"]
    expect_write(a, frame(p, 1), E.EHOSTUNREACH, "receiver lost the right")
    n1 = o.stats()["module"]["no_receiver"]
    check(n1 - n0 == 1, "no_receiver moved by %d" % (n1 - n0))


@test
def more_request_checks():
    """ESRCH for a closed endpoint; group length in bytes; text keys only"""
    a, gone = EP(), EP()
    gid = gone.id
    gone.close()
    a.kept("accept", {"carry": True})
    a.fails("carry", carry_args(gid, frame(new_pcid(), 1)), E.ESRCH)
    p = new_pcid()
    a.receive(p, group="\u00e9" * 32)
    a.fails("receive", {"pcid": pcid_item(p), "group": "\u00e9" * 33},
            E.EINVAL, "malformed")
    err, _, out, det = a.req(None, rid=60,
                             raw=frame(CONTROL, 60, "hello", {1: 2}))
    check(err == E.EINVAL and out == "malformed", "a non-text key: %s %s"
          % (errname(-err), out))


@test
def refused_carry_reported_to_target():
    """a carry its target's full queue refused is a drop the target sees"""
    check(set_param("queue_frames", 1) == 0, "cannot set queue_frames")
    t, c = EP(), EP()
    t.kept("accept", {"carry": True})
    t.deliveries()
    f = frame(new_pcid(), 1)
    c.kept("carry", carry_args(t.id, f))
    c.fails("carry", carry_args(t.id, frame(new_pcid(), 2)), E.ENOBUFS,
            "unavailable")
    check(t.stats()["endpoint"]["dropped"] == 1, "dropped not counted")
    ds = t.deliveries()
    n = notice_of(ds[0]) if ds else None
    check(n is not None and n[2]["dropped"] == 1 and ds[1:] == [f],
          "the target read %r" % ds)


@test
def unprivileged_user():
    """uid 65534 may open, receive, send, claim, grant; not set parameters"""
    def child():
        drop_to_nobody()
        a, b = EP(), EP()
        p, q = new_pcid(), new_pcid()
        a.receive(p)
        f = frame(p, "nobody")
        b.send(f)
        if frames_of(a, p) != [f]:
            return False
        claim(a, q)
        b.kept("redeem", tok(a.kept("grant", {"pcid": pcid_item(q)})["token"]))
        b.receive(q)
        a.send(frame(q, 1))
        if len(frames_of(b, q)) != 1:
            return False
        for name, _, low, _ in PARAM_TABLE:
            try:
                fd = os.open(PARAMS + name, os.O_WRONLY)
                os.close(fd)
                return False
            except OSError as e:
                if e.errno not in (E.EACCES, E.EPERM):
                    return False
        return True
    ok, _ = in_child(child)
    check(ok, "the unprivileged exchange failed, or a parameter was writable")


CGROOT = "/sys/fs/cgroup"


def cg_read(cg, name):
    with open(os.path.join(cg, name)) as f:
        return f.read().strip()


@test
def receiver_memcg_pays():
    """deliveries are charged to the memory cgroup of the receiver's opener"""
    if not os.path.exists(os.path.join(CGROOT, "cgroup.controllers")):
        raise Skip("no cgroup2 at %s" % CGROOT)
    if "memory" not in cg_read(CGROOT, "cgroup.controllers").split():
        raise Skip("no memory controller")
    try:
        with open(os.path.join(CGROOT, "cgroup.subtree_control"), "w") as f:
            f.write("+memory")
    except OSError as e:
        raise Skip("cannot enable the memory controller: %s" % e)
    cg = os.path.join(CGROOT, "pg-conformance-%d" % os.getpid())
    os.mkdir(cg)
    try:
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        p = new_pcid()

        def child():
            with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
            fd = os.open(DEV, os.O_RDWR | os.O_NONBLOCK)
            os.write(fd, request(0, "receive", {"pcid": pcid_item(p)}))
            socket.send_fds(a, [b"x"], [fd])
            return True
        ok, _ = in_child(child)
        check(ok, "the child could not open in the cgroup")
        _, fds, _, _ = socket.recv_fds(b, 1, 1)
        a.close()
        b.close()
        r, s = EP(fd=fds[0]), EP()
        m0 = int(cg_read(cg, "memory.current"))
        f = sized_frame(p, 30000)
        for _ in range(200):
            s.send(f)
        m1 = int(cg_read(cg, "memory.current"))
        check(m1 - m0 >= 200 * 30000 * 9 // 10,
              "the receiver's cgroup grew by %d bytes for 200 x 30000 queued"
              % (m1 - m0))
        check(len(frames_of(r, p)) == 200, "frames lost")
        m2 = int(cg_read(cg, "memory.current"))
        check(m1 - m2 >= 200 * 30000 * 9 // 10,
              "reading freed only %d bytes" % (m1 - m2))
    finally:
        for ep in OPEN:
            ep.close()
        try:
            os.rmdir(cg)
        except OSError:
            pass


# ================================================================ parameters

def param_test(name, default, low, high):
    def fn():
        check(param(name) == default, "%s is %d, documented default %d" %
              (name, param(name), default))
        for bad in (low - 1, high + 1):
            err = set_param(name, bad)
            check(err == E.EINVAL, "%s=%d gave %s" % (name, bad,
                                                     errname(-err)))
            check(param(name) == default, "%s changed to %d by a refused write"
                  % (name, param(name)))
        for good in (low, high):
            err = set_param(name, good)
            val = param(name)
            restore_params()
            check(err == 0 and val == good, "%s=%d gave %s (reads %d)" %
                  (name, good, errname(-err), val))
    fn.__name__ = "param_" + name
    fn.__doc__ = "parameter %s: default %d, range %d..%d, EINVAL outside" % (
        name, default, low, high)
    return fn


for _row in PARAM_TABLE:
    TESTS.append(param_test(*_row))


# ================================================================ main

# ---- gateways (pg-kernel-control-v4 "Gateways") -------------------------

def route_notices(ep, wait=0.3):
    """The route notices queued for ep, as (pcid, group or None, up)."""
    out = []
    for raw in ep.deliveries(wait):
        pc, slots = envelope(raw)
        if pc == CONTROL and len(slots) == 3 and slots[1] == "route":
            check(slots[0] is None, "a notice answers no request")
            d = slots[2]
            out.append((d["pcid"].value[1:], d.get("group"), d["up"]))
    return out


@test
def gateway_needs_net_admin_of_the_opener():
    """gateway: EPERM unless the opener had CAP_NET_ADMIN, whoever writes"""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

    def nobody_writes_on_roots():
        drop_to_nobody()
        g = EP(fd=socket.recv_fds(b, 1, 1)[1][0])
        g.kept("gateway", {"host": "root-opened"})
        return True
    root_fd = os.open(DEV, os.O_RDWR | os.O_NONBLOCK)
    socket.send_fds(a, [b"x"], [root_fd])
    ok, _ = in_child(nobody_writes_on_roots)
    check(ok, "a nobody writer on root's endpoint was refused")
    os.close(root_fd)

    def roots_write_on_nobodys():
        drop_to_nobody()
        fd = os.open(DEV, os.O_RDWR | os.O_NONBLOCK)
        socket.send_fds(a, [b"x"], [fd])
        return True
    ok, _ = in_child(roots_write_on_nobodys)
    check(ok, "child failed")
    g = EP(fd=socket.recv_fds(b, 1, 1)[1][0])
    g.fails("gateway", {"host": "h"}, E.EPERM)
    a.close()
    b.close()


@test
def gateway_once_and_before_receiving():
    """gateway: EEXIST the second time, EBUSY once receiving, host 1..64"""
    g, busy = EP(), EP()
    g.fails("gateway", {"host": ""}, E.EINVAL, "malformed")
    g.fails("gateway", {"host": "h" * 65}, E.EINVAL, "malformed")
    g.fails("gateway", {}, E.EINVAL, "malformed")
    g.kept("gateway", {"host": "h" * 64})
    g.fails("gateway", {"host": "again"}, E.EEXIST)
    busy.receive(new_pcid())
    busy.fails("gateway", {"host": "late"}, E.EBUSY)


@test
def gateway_frames_name_their_host():
    """a gateway's frames are attested with its host; local ones with null"""
    r, g, s = EP(), EP(), EP()
    p = new_pcid()
    g.kept("gateway", {"host": "hostB"})
    r.receive(p, attest=True)
    r.deliveries()
    f = frame(p, "from afar")
    g.send(f)
    s.send(f)
    ds = r.deliveries()
    check(len(ds) == 2, "%d deliveries" % len(ds))
    hdrs = [envelope(d)[1][0] for d in ds]
    check(hdrs[0] == [g.id, os.getpid(), 0, 0, "hostB"], "gateway %r" %
          hdrs[0])
    check(hdrs[1] == [s.id, os.getpid(), 0, 0, None], "local %r" % hdrs[1])
    check(all(d.endswith(f) for d in ds), "frame not exact")


@test
def gateway_receives_no_gateway_frames():
    """no echo: a gateway's receive never gets a frame a gateway sent"""
    g1, g2, r, s = EP(), EP(), EP(), EP()
    p, q = new_pcid(), new_pcid()
    g1.kept("gateway", {"host": "one"})
    g2.kept("gateway", {"host": "two"})
    g1.receive(p)
    g1.receive(q, group="w")
    f = frame(p, "in")
    expect_write(g2, f, E.EHOSTUNREACH, "only a gateway receives")
    expect_write(g1, f, E.EHOSTUNREACH, "its own frame")
    expect_write(g2, frame(q, "in"), E.EHOSTUNREACH, "a gateway group")
    r.receive(p)
    g2.send(f)
    check(frames_of(r, p) == [f], "an ordinary receiver missed it")
    check(frames_of(g1, p) == [], "a gateway got a gateway's frame")
    s.send(f)
    check(frames_of(g1, p) == [f], "a gateway missed a local frame")


@test
def gateway_carry_names_host():
    """carry host: a gateway names the host per carry; others EPERM"""
    t, g, c = EP(), EP(), EP()
    p = new_pcid()
    t.kept("accept", {"carry": True})
    d = t.kept("accept", {"attest": True})
    check(d == {"carry": True, "attest": True, "unread": False}, "%r" % d)
    f = frame(p, "reply")
    c.fails("carry", {"to": t.id, "frame": f, "host": "x"}, E.EPERM)
    g.kept("gateway", {"host": "self"})
    g.kept("carry", {"to": t.id, "frame": f, "host": "hostC"})
    g.kept("carry", {"to": t.id, "frame": f})
    c.kept("carry", {"to": t.id, "frame": f})
    ds = [x for x in t.deliveries() if envelope(x)[0] == DELIVERY]
    check(len(ds) == 3, "%d attested carries" % len(ds))
    hosts = [envelope(x)[1][0][4] for x in ds]
    check(hosts == ["hostC", "self", None], "hosts %r" % hosts)
    check(all(x.endswith(f) for x in ds), "frame not exact")


@test
def watch_reports_interest_of_ordinary_receives():
    """watch: a list, then up/down as the first comes and the last goes"""
    g, other, a, b = EP(), EP(), EP(), EP()
    p, q, mine = new_pcid(), new_pcid(), new_pcid()
    other.fails("watch", {}, E.EPERM)
    a.receive(p)
    a.receive(q, group="w")
    g.kept("gateway", {"host": "gw"})
    g.receive(mine)
    det = g.kept("watch", {})
    got = route_notices(g)
    check(det["routes"] == len(got) and (p, None, True) in got
          and (q, "w", True) in got, "list %r (%r)" % (got, det))
    check(not any(n[0] == mine for n in got), "a gateway's receive is not "
          "interest")
    b.receive(p)
    b.receive(q, group="w")
    check(route_notices(g) == [], "a second receiver is no news")
    r2 = new_pcid()
    b.receive(r2, group="g2")
    check(route_notices(g) == [(r2, "g2", True)], "a new group")
    a.kept("unreceive", {"pcid": pcid_item(p)})
    check(route_notices(g) == [], "one receiver is left")
    b.close()
    got = route_notices(g)
    check(sorted(got, key=repr) == sorted([(p, None, False),
                                           (r2, "g2", False)], key=repr),
          "close: %r" % got)
    a.close()
    check(route_notices(g) == [(q, "w", False)], "last member gone")


@test
def watch_is_bounded():
    """watch: at most 16 watching endpoints; a closed one frees its place"""
    gs = []
    for i in range(16):
        g = EP()
        g.kept("gateway", {"host": "w%d" % i})
        g.kept("watch", {})
        gs.append(g)
    late = EP()
    late.kept("gateway", {"host": "late"})
    late.fails("watch", {}, E.ENOSPC)
    gs[0].close()
    late.kept("watch", {})


def main():
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root")
        return 0
    if not os.path.exists(DEV):
        print("Bail out! no %s" % DEV)
        print("0 passed, 1 failed")
        return 1
    only = sys.argv[1:]
    tests = [t for t in TESTS if not only or t.__name__ in only]
    print("1..%d" % len(tests))
    passed = failed = skipped = 0
    for i, t in enumerate(tests, 1):
        desc = "%s: %s" % (t.__name__, t.__doc__)
        try:
            t()
            print("ok %d - %s" % (i, desc))
            passed += 1
        except Skip as e:
            print("ok %d - %s # SKIP %s" % (i, desc, e))
            skipped += 1
        except Exception as e:
            print("not ok %d - %s" % (i, desc))
            print("#   %s: %s" % (type(e).__name__, e))
            failed += 1
        finally:
            for ep in OPEN:
                ep.close()
            del OPEN[:]
            restore_params()
        sys.stdout.flush()
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
