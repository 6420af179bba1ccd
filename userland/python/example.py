#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The PromiseGrid kernel module authors.
"""Examples of promisegrid.py (needs the module loaded).

    example.py exchange                 an attested exchange in one process
    example.py call PCID_HEX <input     call a function, print its result
    example.py serve PCID_HEX GROUP     a word-count worker

PCID_HEX is the hex of the CIDv1 bytes, as tools/maint/pg-cid prints on its
second line after the leading "00" (which may be given too).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import promisegrid as pg  # noqa: E402

# pg.cid() of docs/protocols/example-hello-v1.md
HELLO_PCID = bytes.fromhex(
    "01551220009e80b24b5a450fcca0eaf98a0955c8a940ed055a34a3476bd2ebeeca1b3eac")


def pcid_arg(text):
    """Parses PCID_HEX: CIDv1 bytes in hex, with or without the 00."""
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not hex: %r" % text) from None
    if data[:1] == b"\x00":
        data = data[1:]
    if not 4 <= len(data) <= 96 or data[0] != 0x01:
        raise argparse.ArgumentTypeError("not a CIDv1: %r" % text)
    return data


def exchange(args):
    with pg.Endpoint() as receiver, pg.Endpoint() as sender:
        receiver.receive(HELLO_PCID, attest=True)
        frames = [pg.frame(HELLO_PCID, "hello", n) for n in (1, 2, 3)]
        n = sender.send(b"".join(frames))
        print("endpoint %d wrote %d frames, %d bytes, in one write"
              % (sender.id, len(frames), n))
        got = []
        while len(got) < len(frames):
            more = receiver.recv(timeout=5)
            if not more:
                print("timed out", file=sys.stderr)
                return 1
            got += more
        for d in got:
            endpoint, pid, uid, gid = d.sender
            print("endpoint %d got %d bytes: %r from endpoint %d pid %d "
                  "uid %d gid %d (written by the kernel)"
                  % (receiver.id, len(d.raw), d.inner.slots, endpoint, pid,
                     uid, gid))
    return 0


def call(args):
    with pg.Endpoint() as ep:
        try:
            result = ep.call(args.pcid, sys.stdin.buffer.read(), args.timeout)
        except pg.FunctionError as e:
            print("call failed: %s" % e, file=sys.stderr)
            if e.stderr:
                sys.stderr.buffer.write(e.stderr)
            return 1
    sys.stdout.buffer.write(result)
    if not result.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    return 0


def serve(args):
    def word_count(body):
        return b"%d" % len(body.split())

    with pg.Endpoint() as ep:
        print("endpoint %d serving %s in group %s" % (
            ep.id, args.pcid.hex(), args.group), file=sys.stderr, flush=True)
        n = ep.serve(args.pcid, args.group, word_count, count=args.count)
        print("served %d calls" % n, file=sys.stderr)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("exchange", help="one attested exchange in this process")
    p = sub.add_parser("call", help="call a function with stdin as body")
    p.add_argument("pcid", type=pcid_arg, metavar="PCID_HEX")
    p.add_argument("--timeout", type=float, default=10.0)
    p = sub.add_parser("serve", help="a word-count worker")
    p.add_argument("pcid", type=pcid_arg, metavar="PCID_HEX")
    p.add_argument("group")
    p.add_argument("--count", type=int, help="stop after this many calls")
    args = parser.parse_args()
    try:
        return {"exchange": exchange, "call": call, "serve": serve}[
            args.command](args)
    except OSError as e:
        print("%s: %s" % (args.command, e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
