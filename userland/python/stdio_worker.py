#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The PromiseGrid kernel module authors.
"""A long-lived worker for `pg serve --stdio`: the container bridge.

It never touches /dev/promisegrid. pg serve writes each call frame,
grid([42(fn), nonce, body]), to its stdin as a CBOR sequence; it writes
one CBOR item per call to stdout: a byte string (the result), or a map
{"errno": n, "reason": text} (the call failed). This one counts words,
and fails with EINVAL on an empty body.

    pg serve --stdio PCID GROUP -- python3 stdio_worker.py
"""

import errno
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import promisegrid as pg  # noqa: E402


def answer(call):
    """The reply item for one decoded call frame."""
    slots = call.value
    if len(slots) != 3 or not isinstance(slots[2], bytes):
        return {"errno": errno.EBADMSG, "reason": "not [42(fn), nonce, body]"}
    if not slots[2].strip():
        return {"errno": errno.EINVAL, "reason": "empty body"}
    return b"%d\n" % len(slots[2].split())


def main():
    buf = b""
    while True:
        try:
            call, end = pg.decode(buf)
        except ValueError:
            # Not a whole item yet: read more (EOF ends the worker).
            chunk = os.read(0, 65536)
            if not chunk:
                return 0
            buf += chunk
            continue
        buf = buf[end:]
        os.write(1, pg.encode(answer(call)))


if __name__ == "__main__":
    sys.exit(main())
