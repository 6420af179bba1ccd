#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The PromiseGrid kernel module authors.
"""Host tests of userland/python/promisegrid.py: codec, CIDs and frames.

Needs no module: runs anywhere with Python 3.11 and prints TAP, ending
with "N passed, N failed". test_python.py runs these too, in the VM.
"""

import os
import random
import re
import signal
import sys
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [p for p in (os.environ.get("PG_PYTHON_PATH"), HERE,
                            os.path.join(REPO, "userland", "python")) if p]

import promisegrid as pg  # noqa: E402


class Skip(Exception):
    """Raised by a test that cannot run here."""


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def rejects(data, what):
    """decode(data) must raise ValueError."""
    try:
        value = pg.decode(data)
    except ValueError:
        return
    raise AssertionError("%s: %s decoded as %r" % (what, bytes(data).hex(),
                                                    value))


def run(tests, per_test_timeout=30):
    """Runs (name, fn) pairs as TAP; returns the exit status."""
    def on_alarm(signum, frame):
        raise TimeoutError("test took longer than %d s" % per_test_timeout)
    signal.signal(signal.SIGALRM, on_alarm)
    print("TAP version 13")
    print("1..%d" % len(tests))
    passed = failed = skipped = 0
    for n, (name, fn) in enumerate(tests, 1):
        signal.alarm(per_test_timeout)
        try:
            fn()
            print("ok %d %s" % (n, name))
            passed += 1
        except Skip as e:
            print("ok %d %s # SKIP %s" % (n, name, e))
            skipped += 1
        except BaseException:  # a failure of any kind, timeouts included
            print("not ok %d %s" % (n, name))
            for line in traceback.format_exc().rstrip().splitlines():
                print("# " + line)
            failed += 1
        finally:
            signal.alarm(0)
        sys.stdout.flush()
    summary = "%d passed, %d failed" % (passed, failed)
    if skipped:
        summary += ", %d skipped" % skipped
    print(summary)
    return 0 if failed == 0 else 1


# ---- the tests ----------------------------------------------------------

# RFC 8949 appendix A examples, and map key order (4.2.1).
VECTORS = [
    (0, "00"), (23, "17"), (24, "1818"), (100, "1864"), (1000, "1903e8"),
    (1000000, "1a000f4240"), (2**64 - 1, "1bffffffffffffffff"),
    (-1, "20"), (-1000, "3903e7"), (-2**64, "3bffffffffffffffff"),
    (b"", "40"), (b"\x01\x02\x03\x04", "4401020304"), ("", "60"),
    ("IETF", "6449455446"), ("\u00fc", "62c3bc"),
    ([1, [2, 3], [4, 5]], "8301820203820405"),
    ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
    ({"b": 2, "aa": 1}, "a2616202626161" "01"),
    ({10: 1, -1: 2, "z": 3}, "a30a012002617a03"),
    (False, "f4"), (True, "f5"), (None, "f6"),
    (pg.Tag(1, 1363896240), "c11a514b67b0"),
    (pg.Tag(pg.GRID_TAG, []), "da6772696480"),
]


def test_vectors():
    for value, hexed in VECTORS:
        got = pg.encode(value).hex()
        check(got == hexed, "encode(%r) = %s, want %s" % (value, got, hexed))
        back, end = pg.decode(bytes.fromhex(hexed))
        check(back == value and end == len(hexed) // 2,
              "decode(%s) = %r, %d" % (hexed, back, end))


def test_round_trip():
    value = {"pcid": pg.Tag(42, b"\x00" + pg.CONTROL_PCID), "n": -5,
             "list": [1, 2**32, 2**63, b"x" * 300, "t" * 70000, None],
             "nested": [[[{"k": pg.Tag(7, [True, False])}]]], 99: 0}
    data = pg.encode(value)
    back, end = pg.decode(data)
    check(back == value and end == len(data), "round trip")
    check(pg.encode(back) == data, "re-encoding is byte-identical")


def test_sequence_split():
    frames = [pg.frame(pg.cid(b"t"), i, "x" * i) for i in range(5)]
    data = b"".join(frames)
    items = pg.decode_all(data)
    check([data[s:e] for _, s, e in items] == frames, "decode_all spans")
    value, end = pg.decode(data, len(frames[0]))
    check(end == len(frames[0]) + len(frames[1]), "decode at an offset")


def test_rejects_truncated():
    data = pg.frame(pg.CONTROL_PCID, 1, "receive",
                    {"pcid": pg.Tag(42, b"\x00" + pg.DELIVERY_PCID),
                     "group": "g", "attest": True})
    for i in range(len(data)):
        rejects(data[:i], "prefix of %d bytes" % i)


def test_rejects_bad():
    for hexed, what in [
            ("9f0102ff", "indefinite array"), ("5f4101ff", "indefinite bytes"),
            ("f93c00", "half float"), ("fb3ff0000000000000", "double"),
            ("1817", "non-shortest int"), ("190017", "non-shortest int"),
            ("5800", "non-shortest length"), ("1c", "reserved head"),
            ("a2616202616101", "unsorted map keys"),
            ("a2616101616102", "duplicate map keys"),
            ("a18001", "unhashable map key"), ("62c328", "bad UTF-8"),
            ("f7", "undefined"), ("9bffffffffffffffff", "huge array"),
            ("bb7fffffffffffffff00", "huge map"), ("5a7fffffff", "huge bytes")]:
        rejects(bytes.fromhex(hexed), what)


def test_depth_limit():
    deep = b"\x81" * 10000 + b"\x00"
    rejects(deep, "10000 nested arrays")
    rejects(b"\xc1" * 10000 + b"\x00", "10000 nested tags")
    ok = b"\x81" * 10 + b"\x00"
    check(pg.decode(ok)[1] == len(ok), "10 nested arrays decode")
    try:
        pg.decode(ok, max_depth=5)
    except ValueError:
        pass
    else:
        raise AssertionError("max_depth=5 accepted 10 levels")


def test_random_input():
    rng = random.Random(1735551332)
    for _ in range(3000):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        try:
            pg.decode(data)
        except ValueError:
            pass


def test_encoder_refuses():
    for value in (1.5, 2**64, -2**64 - 1, object(), {1, 2}):
        try:
            pg.encode(value)
        except (TypeError, ValueError):
            continue
        raise AssertionError("encoded %r" % (value,))


def test_frames():
    pcid = pg.cid("example")
    data = pg.frame(pcid, "hello", 1)
    check(data[:5] == bytes.fromhex("da67726964"), "grid tag, 4-byte form")
    check(pg.parse_frame(data) == (pcid, ["hello", 1]), "parse_frame")
    for bad in (pg.encode([1, 2]), pg.encode(pg.Tag(pg.GRID_TAG, [1])),
                data + b"\x00"):
        try:
            pg.parse_frame(bad)
        except ValueError:
            continue
        raise AssertionError("parse_frame accepted %s" % bad.hex())


def test_delivery_envelope():
    inner = pg.frame(pg.cid("example"), "hello", 3)
    outer = (bytes.fromhex("da6772696483") + pg.encode(
        pg.Tag(42, b"\x00" + pg.DELIVERY_PCID))
        + pg.encode([4, 123, 0, 0, None]) + inner)
    d = pg.Delivery(outer)
    check(d.attested and d.sender == (4, 123, 0, 0), "sender")
    check(d.host is None, "a frame of this host names none")
    remote = pg.Delivery(bytes.fromhex("da6772696483") + pg.encode(
        pg.Tag(42, b"\x00" + pg.DELIVERY_PCID))
        + pg.encode([4, 123, 0, 0, "hostB"]) + inner)
    check(remote.host == "hostB" and remote.frame == inner, "gateway host")
    for who in ([4, 123, 0, 0], [4, 123, 0, 0, 7]):
        try:
            pg.Delivery(bytes.fromhex("da6772696483") + pg.encode(
                pg.Tag(42, b"\x00" + pg.DELIVERY_PCID)) + pg.encode(who)
                + inner)
        except ValueError:
            continue
        raise AssertionError("accepted attestation %r" % who)
    check(d.frame == inner, "exact inner bytes")
    check(d.inner.pcid == pg.cid("example") and d.inner.slots == ["hello", 3],
          "inner frame")
    plain = pg.Delivery(inner)
    check(not plain.attested and plain.frame == inner, "plain delivery")


def test_function_frames():
    fn = pg.cid("word count")
    call = pg.call_frame(fn, 7, b"a b")
    check(pg.parse_frame(call) == (fn, [7, b"a b"]), "call frame")
    parent = pg.parent_cid(call)
    check(parent == pg.cid(call) and parent[:4] == b"\x01\x55\x12\x20",
          "parent CID")
    reply = pg.reply_frame(parent, "kept", b"2")
    check(pg.parse_frame(reply) == (pg.FN_REPLY_PCID, [
        pg.Tag(42, b"\x00" + parent), "kept", b"2"]), "reply frame")


def test_pcids_match_files():
    found = 0
    for name, pcid in (("pg-kernel-control-v4.md", pg.CONTROL_PCID),
                       ("pg-kernel-delivery-v3.md", pg.DELIVERY_PCID),
                       ("pg-function-call-v1.md", pg.FN_REPLY_PCID)):
        path = os.path.join(REPO, "docs", "protocols", name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                check(pg.cid(f.read()) == pcid, "pCID of %s" % name)
            found += 1
    header = os.path.join(REPO, "uapi", "linux", "promisegrid.h")
    if os.path.exists(header):
        with open(header) as f:
            text = f.read()
        for macro, pcid in (("PG_PCID_CONTROL", pg.CONTROL_PCID),
                            ("PG_PCID_DELIVERY", pg.DELIVERY_PCID)):
            body = re.search(r"#define %s \{(.*?)\}" % macro, text, re.S)
            hexed = "".join(re.findall(r"0x([0-9a-f]{2})", body.group(1)))
            check(bytes.fromhex(hexed) == pcid, macro + " in the uapi header")
        found += 1
    if not found:
        raise Skip("docs/protocols and uapi/ not here")


TESTS = [
    ("codec: RFC 8949 vectors and key order", test_vectors),
    ("codec: round trip, byte-identical re-encoding", test_round_trip),
    ("codec: splits a CBOR sequence by end offsets", test_sequence_split),
    ("codec: every truncated prefix raises ValueError", test_rejects_truncated),
    ("codec: rejects indefinite, floats, non-shortest, bad maps",
     test_rejects_bad),
    ("codec: depth limit, no RecursionError", test_depth_limit),
    ("codec: random bytes decode or raise ValueError", test_random_input),
    ("codec: encoder refuses floats, big ints, sets", test_encoder_refuses),
    ("frames: frame and parse_frame", test_frames),
    ("frames: attested delivery gives sender and exact frame",
     test_delivery_envelope),
    ("frames: call, parent CID and reply", test_function_frames),
    ("pCIDs match docs/protocols and the uapi header", test_pcids_match_files),
]

if __name__ == "__main__":
    sys.exit(run(TESTS))
