# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The PromiseGrid kernel module authors.
"""Drive /dev/promisegrid from Python with only the standard library.

The device is used with plain read() and write() of CBOR frames

    1735551332([42(h'00' + pCID), ...slots])

in grid-cbor (RFC 8949 section 4.2.1 deterministic encoding). This module
has a small grid-cbor codec, frame helpers, an Endpoint class speaking the
kernel's control protocol (docs/protocols/pg-kernel-control-v4.md) and
functions as a service (docs/protocols/pg-function-call-v1.md).

pCIDs are bytes: the binary CIDv1, without the 0x00 that tag 42 adds.

The codec here is Python's own, on purpose: it shares no source with the
kernel's and the C library's validator, so the Python tests are a second
opinion on the wire format, not a copy of the first.
"""

import errno as _errno
import hashlib
import os
import select
import time

__all__ = [
    "Tag", "encode", "decode", "decode_all", "cid", "frame", "parse_frame",
    "GRID_TAG", "CONTROL_PCID", "DELIVERY_PCID", "FN_REPLY_PCID",
    "Delivery", "Endpoint", "KernelError", "FunctionError",
    "call_frame", "parent_cid", "reply_frame",
]

DEVICE = "/dev/promisegrid"
GRID_TAG = 1735551332
CID_TAG = 42
READ_SIZE = 1 << 20
MAX_DEPTH = 64

# uapi/linux/promisegrid.h PG_PCID_CONTROL, PG_PCID_DELIVERY
CONTROL_PCID = bytes.fromhex(
    "01551220772d8891a24d4b978c890aa2a3afd81a146265a965881b411727a749c1154047")
DELIVERY_PCID = bytes.fromhex(
    "0155122072222f3e05a2537a4d544642b03ade8feae4ea39ead3e1b93657d046b35d1720")
# cid() of the exact bytes of docs/protocols/pg-function-call-v1.md
FN_REPLY_PCID = bytes.fromhex(
    "01551220e1f2781ec632c0c514eaa716913477e8b5cf862bb8fccf74ef957f0fd811a520")


# ---- grid-cbor ----------------------------------------------------------

class Tag:
    """A CBOR tag: number(value)."""

    __slots__ = ("number", "value")

    def __init__(self, number, value):
        self.number = number
        self.value = value

    def __eq__(self, other):
        return (isinstance(other, Tag) and self.number == other.number
                and self.value == other.value)

    def __hash__(self):
        return hash((Tag, self.number, self.value))

    def __repr__(self):
        return "Tag(%d, %r)" % (self.number, self.value)


def _head(major, n):
    """The shortest head of major type major with argument n."""
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError("integer too large for CBOR: %d" % n)


def encode(value):
    """Encodes value in grid-cbor; returns bytes.

    Supports int, bytes, str, list/tuple, dict, bool, None and Tag. Map
    keys are sorted bytewise by their encodings; floats are refused.
    """
    if value is None:
        return b"\xf6"
    if value is True:
        return b"\xf5"
    if value is False:
        return b"\xf4"
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value)
        return _head(2, len(value)) + value
    if isinstance(value, str):
        data = value.encode("utf-8")
        return _head(3, len(data)) + data
    if isinstance(value, (list, tuple)):
        return _head(4, len(value)) + b"".join(encode(v) for v in value)
    if isinstance(value, dict):
        items = sorted((encode(k), encode(v)) for k, v in value.items())
        for (a, _), (b, _) in zip(items, items[1:]):
            if a == b:
                raise ValueError("duplicate map key")
        return _head(5, len(items)) + b"".join(k + v for k, v in items)
    if isinstance(value, Tag):
        return _head(6, value.number) + encode(value.value)
    raise TypeError("cannot encode %s in grid-cbor" % type(value).__name__)


def _read_head(buf, off):
    """Reads a head at off: returns (major, argument, offset after it)."""
    if off >= len(buf):
        raise ValueError("truncated CBOR at offset %d" % off)
    ib = buf[off]
    major, ai = ib >> 5, ib & 31
    off += 1
    if ai < 24:
        return major, ai, off
    if ai > 27:
        raise ValueError("indefinite or reserved head at %d" % (off - 1))
    size = 1 << (ai - 24)
    if off + size > len(buf):
        raise ValueError("truncated CBOR head at offset %d" % (off - 1))
    n = int.from_bytes(buf[off:off + size], "big")
    if major != 7 and n < (24 if size == 1 else 1 << (4 * size)):
        raise ValueError("non-shortest head at offset %d" % (off - 1))
    return major, n, off + size


def decode(buf, off=0, max_depth=MAX_DEPTH):
    """Decodes the one item starting at buf[off].

    Returns (value, end) where end is the offset just after the item, so
    that a CBOR sequence can be split. Raises ValueError on truncated,
    non-deterministic or unsupported input (floats, indefinite lengths).
    """
    buf = bytes(buf)
    return _decode(buf, off, max_depth)


def _decode(buf, off, depth):
    start = off
    major, n, off = _read_head(buf, off)
    if major == 0:
        return n, off
    if major == 1:
        return -1 - n, off
    if major in (2, 3):
        if off + n > len(buf):
            raise ValueError("truncated string at offset %d" % start)
        data = buf[off:off + n]
        if major == 3:
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ValueError("bad UTF-8 in text at %d" % start) from e
        return data, off + n
    if major == 7:
        if off - start == 1 and n in (20, 21, 22):
            return (False, True, None)[n - 20], off
        raise ValueError("unsupported simple value or float at %d" % start)
    if depth <= 0:
        raise ValueError("CBOR nested too deep at offset %d" % start)
    if major == 6:
        value, off = _decode(buf, off, depth - 1)
        return Tag(n, value), off
    # Every element takes at least one byte: refuse impossible counts
    # before looping over them.
    if n * (2 if major == 5 else 1) > len(buf) - off:
        raise ValueError("truncated container at offset %d" % start)
    if major == 4:
        items = []
        for _ in range(n):
            value, off = _decode(buf, off, depth - 1)
            items.append(value)
        return items, off
    result, last = {}, None
    for _ in range(n):
        key_start = off
        key, off = _decode(buf, off, depth - 1)
        if last is not None and buf[last[0]:last[1]] >= buf[key_start:off]:
            raise ValueError("map keys out of order at %d" % key_start)
        last = (key_start, off)
        value, off = _decode(buf, off, depth - 1)
        try:
            result[key] = value
        except TypeError as e:
            raise ValueError("unhashable map key at %d" % key_start) from e
    return result, off


def decode_all(buf):
    """Splits a CBOR sequence: returns a list of (value, start, end)."""
    buf = bytes(buf)
    out, off = [], 0
    while off < len(buf):
        value, end = _decode(buf, off, MAX_DEPTH)
        out.append((value, off, end))
        off = end
    return out


# ---- frames -------------------------------------------------------------

def cid(text):
    """The CIDv1 (raw, sha2-256) of a spec text (bytes or str)."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    return bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(text).digest()


def frame(pcid, *slots):
    """Encodes grid([42(h'00' + pcid), *slots])."""
    return encode(Tag(GRID_TAG, [_cidtag(pcid), *slots]))


def _cidtag(cid_bytes):
    """42(h'00' + cid): how a CID is written in a frame."""
    return Tag(CID_TAG, b"\x00" + bytes(cid_bytes))


def _frame_spans(data):
    """Checks data is one grid frame; returns (pcid, [(slot, start, end)])."""
    major, tag, off = _read_head(data, 0)
    if major != 6 or tag != GRID_TAG or data[0] != 0xda:
        raise ValueError("not a grid frame")
    major, count, off = _read_head(data, off)
    if major != 4 or count < 1:
        raise ValueError("grid frame without an array")
    spans = []
    for _ in range(count):
        value, end = _decode(data, off, MAX_DEPTH)
        spans.append((value, off, end))
        off = end
    if off != len(data):
        raise ValueError("bytes after the frame")
    slot0 = spans[0][0]
    if (not isinstance(slot0, Tag) or slot0.number != CID_TAG
            or not isinstance(slot0.value, bytes)
            or slot0.value[:1] != b"\x00"):
        raise ValueError("slot 0 is not 42(h'00' + CID)")
    return slot0.value[1:], spans[1:]


def parse_frame(data):
    """Returns (pcid, slots) of one grid frame."""
    pcid, spans = _frame_spans(bytes(data))
    return pcid, [s[0] for s in spans]


class Delivery:
    """One item read from the device.

    raw: its exact bytes; pcid and slots: its envelope. For an attested
    delivery (pcid == DELIVERY_PCID) also sender = (endpoint, pid, uid,
    gid) and host (the host a gateway named, None for this host) written
    by the kernel, frame = the sender's exact frame bytes and
    inner = that frame as a Delivery. Otherwise sender is None, frame is
    raw and inner is self.
    """

    def __init__(self, raw):
        self.raw = bytes(raw)
        self.pcid, spans = _frame_spans(self.raw)
        self.slots = [s[0] for s in spans]
        self.sender, self.frame, self.inner = None, self.raw, self
        self.host = None
        if self.pcid == DELIVERY_PCID:
            who = self.slots[0]
            if (len(spans) != 2 or not isinstance(who, list) or len(who) != 5
                    or not all(isinstance(v, int) for v in who[:4])
                    or not (who[4] is None or isinstance(who[4], str))):
                raise ValueError("bad delivery envelope")
            self.sender = tuple(who[:4])
            self.host = who[4]
            self.frame = self.raw[spans[1][1]:spans[1][2]]
            self.inner = Delivery(self.frame)

    @property
    def attested(self):
        return self.sender is not None

    def __repr__(self):
        return "Delivery(pcid=%s, slots=%r, sender=%r)" % (
            self.pcid.hex(), self.slots, self.sender)


# ---- errors -------------------------------------------------------------

def _message(err, reason, outcome):
    return "%s (%s: %s)" % (reason, outcome, os.strerror(err))


class KernelError(OSError):
    """A control request failed: errno, reason (the kernel's text), outcome."""

    def __init__(self, err, reason, outcome, details=None):
        super().__init__(err, _message(err, reason, outcome))
        self.reason, self.outcome = reason, outcome
        self.details = details or {}


class FunctionError(OSError):
    """A function call came back not kept: errno, reason, status, stderr."""

    def __init__(self, err, reason, outcome, result=None):
        super().__init__(err, _message(err, reason, outcome))
        result = result or {}
        self.reason, self.outcome = reason, outcome
        self.status = result.get("status")
        self.signal = result.get("signal")
        self.stderr = result.get("stderr")


# ---- endpoints ----------------------------------------------------------

class Endpoint:
    """An open /dev/promisegrid: one endpoint of the local grid kernel."""

    def __init__(self, path=DEVICE, nonblocking=False):
        flags = os.O_RDWR | os.O_CLOEXEC
        if nonblocking:
            flags |= os.O_NONBLOCK
        self.fd = os.open(path, flags)
        self._pending = []   # read, not yet returned by recv()
        self._next_id = 1
        self._id = None
        self._unread_asked = False

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fileno(self):
        return self.fd

    def send(self, data):
        """Writes one frame, or several back to back; returns the bytes.

        A refused frame raises OSError with the kernel's errno. A short
        write (a later frame refused) is retried, so that the next write
        reports that frame's error.
        """
        view, total = memoryview(bytes(data)), 0
        while total < len(view):
            total += os.write(self.fd, view[total:])
        return total

    def _read(self, timeout):
        """Reads once: a list of Delivery, empty on timeout."""
        ms = -1 if timeout is None else max(0, int(timeout * 1000))
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        if not poller.poll(ms):
            return []
        try:
            buf = os.read(self.fd, READ_SIZE)
        except BlockingIOError:
            return []
        return [Delivery(buf[s:e]) for _, s, e in decode_all(buf)]

    def recv(self, timeout=None):
        """Returns the queued deliveries, waiting up to timeout seconds.

        timeout None waits forever; an empty list means it expired.
        """
        if self._pending:
            out, self._pending = self._pending, []
            return out
        return self._read(timeout)

    def _wait_for(self, match, timeout):
        """Reads until match(delivery); keeps the others for recv()."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for i, d in enumerate(self._pending):
            if match(d):
                return self._pending.pop(i)
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            got = self._read(left)
            for i, d in enumerate(got):
                if match(d):
                    self._pending += got[:i] + got[i + 1:]
                    return d
            self._pending += got

    def request(self, verb, args=None, timeout=5.0):
        """Sends grid([42(control), id, verb, {args}]); returns the details.

        The reply is the control frame whose parent link (its last slot)
        is the CID of the request's bytes. A failure reply raises
        KernelError with the kernel's errno and reason. (The write of a
        failed request fails too: its reply is still read, for the reason.)
        """
        rid, self._next_id = self._next_id, self._next_id + 1
        request = frame(CONTROL_PCID, rid, verb, args or {})
        parent = _cidtag(cid(request))
        write_error = None
        try:
            self.send(request)
        except OSError as e:
            write_error = e
        reply = self._wait_for(
            lambda d: d.pcid == CONTROL_PCID and len(d.slots) == 4
            and d.slots[3] == parent, timeout)
        if reply is None:
            raise write_error or TimeoutError("no reply to %r" % verb)
        _, outcome, details, _ = reply.slots
        if outcome != "kept":
            raise KernelError(details.get("errno", 0),
                              details.get("reason", ""), outcome, details)
        return details

    def hello(self):
        """The kernel's hello: version, endpoint id and limits."""
        details = self.request("hello")
        self._id = details["endpoint"]
        return details

    @property
    def id(self):
        """This endpoint's id (asks the kernel once)."""
        if self._id is None:
            self.hello()
        return self._id

    def receive(self, pcid, group=None, attest=False):
        """Receives on pcid: fan-out, or as a member of worker group."""
        args = {"pcid": _cidtag(pcid)}
        if group is not None:
            args["group"] = group
        if attest:
            args["attest"] = True
        return self.request("receive", args)

    def unreceive(self, pcid, group=None):
        args = {"pcid": _cidtag(pcid)}
        if group is not None:
            args["group"] = group
        return self.request("unreceive", args)

    def accept(self, carry=None, unread=None):
        """carry: anyone may carry to us; unread: notices of unread frames."""
        args = {}
        if carry is not None:
            args["carry"] = bool(carry)
        if unread is not None:
            args["unread"] = bool(unread)
        return self.request("accept", args)

    def carry(self, to, frame_bytes):
        """Has the kernel deliver one frame, byte-exact, to endpoint to."""
        return self.request("carry", {"to": to, "frame": bytes(frame_bytes)})

    def stats(self):
        return self.request("stats")

    def claim(self, pcid):
        return self.request("claim", {"pcid": _cidtag(pcid)})

    def grant(self, pcid, rights=None, ttl_ms=None):
        args = {"pcid": _cidtag(pcid)}
        if rights is not None:
            args["rights"] = rights
        if ttl_ms is not None:
            args["ttl_ms"] = ttl_ms
        return self.request("grant", args)

    def redeem(self, token):
        return self.request("redeem", {"token": bytes(token)})

    def revoke(self, token):
        return self.request("revoke", {"token": bytes(token)})

    # ---- functions as a service (pg-function-call-v1) -------------------

    def call(self, fn_pcid, body, timeout=10.0):
        """Calls the function fn_pcid with body; returns its result bytes.

        Raises OSError if the call cannot be sent (EHOSTUNREACH: nobody
        serves it; EPIPE: the worker closed with the call unread, which
        the kernel tells at once), FunctionError if it came back not kept,
        TimeoutError.
        """
        if not self._unread_asked:
            try:
                self.accept(unread=True)
                self._unread_asked = True
            except KernelError:
                pass    # an older kernel: the timeout still ends the call
        call = call_frame(fn_pcid, int.from_bytes(os.urandom(8), "big"), body)
        parent = _cidtag(parent_cid(call))
        self.send(call)
        reply = self._wait_for(
            lambda d: (d.pcid == FN_REPLY_PCID and d.slots[:1] == [parent])
            or (d.pcid == CONTROL_PCID and len(d.slots) == 4
                and d.slots[3] == parent), timeout)
        if reply is None:
            raise TimeoutError("no reply from %s" % fn_pcid.hex())
        if reply.pcid == CONTROL_PCID:
            raise OSError(_errno.EPIPE,
                          "the worker closed with the call unread")
        if len(reply.slots) != 3:
            raise ValueError("bad reply frame")
        _, outcome, result = reply.slots
        if outcome == "kept" and isinstance(result, bytes):
            return result
        if not isinstance(result, dict):
            raise ValueError("bad reply result")
        raise FunctionError(result.get("errno", 0), result.get("reason", ""),
                            outcome, result)

    def serve(self, fn_pcid, group, handler, count=None, timeout=None):
        """Serves fn_pcid in worker group: replies handler(body) to each call.

        handler returns bytes; raising FunctionError replies with its errno
        and fields, any other exception with EREMOTEIO. Stops after count
        calls, or when no call came for timeout seconds; returns the count.
        """
        try:
            self.receive(fn_pcid, group=group, attest=True)
        except KernelError as e:
            if e.errno != _errno.EEXIST:
                raise
        served = 0
        while count is None or served < count:
            got = self.recv(timeout)
            if not got:
                break
            for i, d in enumerate(got):
                if count is not None and served >= count:
                    self._pending += got[i:]
                    break
                if not d.attested or d.inner.pcid != fn_pcid:
                    continue
                self._answer(d, handler)
                served += 1
        return served

    def _answer(self, d, handler):
        parent = parent_cid(d.frame)
        slots = d.inner.slots
        if (len(slots) != 2 or not isinstance(slots[0], int)
                or isinstance(slots[0], bool) or slots[0] < 0
                or not isinstance(slots[1], bytes)):
            reply = reply_frame(parent, "malformed", {
                "errno": _errno.EBADMSG, "reason": "not [42(F), nonce, body]"})
        else:
            try:
                reply = reply_frame(parent, "kept", bytes(handler(slots[1])))
            except FunctionError as e:
                result = {"errno": e.errno, "reason": e.reason}
                for key in ("status", "signal", "stderr"):
                    if getattr(e, key) is not None:
                        result[key] = getattr(e, key)
                reply = reply_frame(parent, e.outcome, result)
            except Exception as e:  # the function failed
                reply = reply_frame(parent, "not_promised", {
                    "errno": _errno.EREMOTEIO, "reason": str(e) or repr(e)})
        try:
            self.carry(d.sender[0], reply)
        except OSError as e:
            if e.errno == _errno.EMSGSIZE:
                self.carry(d.sender[0], reply_frame(parent, "not_promised", {
                    "errno": _errno.EMSGSIZE, "reason": "output too large"}))
            elif e.errno != _errno.ESRCH:  # the caller is gone
                raise


def call_frame(fn_pcid, nonce, body):
    """grid([42(F), nonce, body]): a call of function fn_pcid."""
    return frame(fn_pcid, nonce, bytes(body))


def parent_cid(call_frame_bytes):
    """The CIDv1 of a call frame's exact bytes, as its reply names it."""
    return cid(bytes(call_frame_bytes))


def reply_frame(parent, outcome, result):
    """grid([42(R), 42(h'00' + parent), outcome, result])."""
    return frame(FN_REPLY_PCID, _cidtag(parent), outcome, result)
