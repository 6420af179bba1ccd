#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The PromiseGrid kernel module authors.
"""VM tests of userland/python/promisegrid.py against the real module.

Runs where promisegrid.ko is loaded and /dev/promisegrid exists (the
test VM: tools/testing/vm/run.sh --python ...). Prints TAP ending with
"N passed, N failed"; the exit status is 0 only if every test passed.
Every wait has a timeout and every test runs under an alarm; forked
workers are killed at the end.
"""

import errno
import os
import select
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_python_codec as codec  # noqa: E402  (sets sys.path too)
from test_python_codec import check  # noqa: E402

pg = codec.pg
HELLO_PCID = bytes.fromhex(  # docs/protocols/example-hello-v1.md
    "01551220009e80b24b5a450fcca0eaf98a0955c8a940ed055a34a3476bd2ebeeca1b3eac")
WAIT = 5.0
children = []


def fresh_pcid(name):
    """A pCID nobody else uses: the CID of a name and this process."""
    return pg.cid("test_python %s %d %f" % (name, os.getpid(), time.time()))


def expect_errno(err, fn, *args):
    """fn(*args) must raise OSError with errno err; returns the error."""
    try:
        fn(*args)
    except OSError as e:
        check(e.errno == err, "%s: errno %s, want %s" % (
            fn.__name__, errno.errorcode.get(e.errno), errno.errorcode[err]))
        return e
    raise AssertionError("%s succeeded, want %s" % (fn.__name__,
                                                     errno.errorcode[err]))


def recv_n(ep, n):
    """Reads until n deliveries came (or WAIT passed)."""
    got, deadline = [], time.monotonic() + WAIT
    while len(got) < n and time.monotonic() < deadline:
        got += ep.recv(timeout=deadline - time.monotonic())
    return got


def test_hello():
    with pg.Endpoint() as a, pg.Endpoint() as b:
        ha, hb = a.hello(), b.hello()
        check(ha["version"] == 4, "version %r" % ha.get("version"))
        check(isinstance(ha["endpoint"], int) and ha["endpoint"] >= 1,
              "endpoint id %r" % ha.get("endpoint"))
        check(hb["endpoint"] != ha["endpoint"], "two endpoints, one id")
        check(ha["max_frame"] >= 64 and ha["max_depth"] >= 3, "limits")
        check(a.id == ha["endpoint"], "Endpoint.id")


def test_fanout():
    with pg.Endpoint() as r1, pg.Endpoint() as r2, pg.Endpoint() as s:
        r1.receive(HELLO_PCID)
        r2.receive(HELLO_PCID)
        frames = [pg.frame(HELLO_PCID, "hello", n) for n in (1, 2, 3)]
        check(s.send(b"".join(frames)) == sum(map(len, frames)),
              "one write of three frames")
        for r in (r1, r2):
            got = recv_n(r, 3)
            check([d.raw for d in got] == frames,
                  "exact bytes in order: %r" % got)
            check(not got[0].attested, "not attested")


def test_attested():
    with pg.Endpoint() as r, pg.Endpoint() as s:
        r.receive(HELLO_PCID, attest=True)
        sent = pg.frame(HELLO_PCID, "hello", 42)
        s.send(sent)
        got = recv_n(r, 1)
        check(len(got) == 1, "one delivery")
        d = got[0]
        check(d.pcid == pg.DELIVERY_PCID and d.attested, "delivery envelope")
        check(d.sender == (s.id, os.getpid(), os.geteuid(), os.getegid()),
              "sender %r, want endpoint %d pid %d" % (d.sender, s.id,
                                                      os.getpid()))
        check(d.frame == sent, "exact inner frame")
        check(d.inner.slots == ["hello", 42], "inner slots")


def test_unknown_verb():
    with pg.Endpoint() as ep:
        e = expect_errno(errno.EBADRQC, ep.request, "frobnicate")
        check(isinstance(e, pg.KernelError), "KernelError")
        check(e.outcome == "malformed", "outcome %r" % e.outcome)
        check(e.reason == "unknown verb", "reason %r" % e.reason)
        check("unknown verb" in str(e), "message %r" % str(e))
        # The write itself fails with the same errno; the reply is queued.
        expect_errno(errno.EBADRQC, ep.send,
                     pg.frame(pg.CONTROL_PCID, 9, "frobnicate", {}))
        reply = recv_n(ep, 1)
        check(len(reply) == 1 and reply[0].slots[:2] == [9, "malformed"],
              "reply %r" % reply)
        check(ep.hello()["endpoint"] >= 1, "the endpoint still works")


def test_no_receiver():
    with pg.Endpoint() as ep:
        expect_errno(errno.EHOSTUNREACH, ep.send,
                     pg.frame(fresh_pcid("nobody"), "hello", 1))
        expect_errno(errno.ENOENT, ep.unreceive, fresh_pcid("nobody"))


def test_bad_frames():
    with pg.Endpoint() as ep:
        expect_errno(errno.EPROTO, ep.send, pg.encode([1, 2, 3]))
        expect_errno(errno.EPROTO, ep.send,
                     pg.encode(pg.Tag(pg.GRID_TAG, ["no pcid"])))
        good = pg.frame(HELLO_PCID, "hello", 1)
        expect_errno(errno.EBADMSG, ep.send, good[:-1])
        # 1 written as 18 01: well-formed, not deterministic.
        expect_errno(errno.EILSEQ, ep.send, good[:-1] + b"\x18\x01")


def worker(fn, ready_w):
    """The forked child: a word-count worker, three calls at most."""
    signal.alarm(30)

    def word_count(body):
        if body == b"fail":
            raise pg.FunctionError(errno.ETIME, "took too long",
                                   "not_promised", {"status": 3})
        if body == b"crash":
            raise RuntimeError("handler crashed")
        return b"%d" % len(body.split())

    with pg.Endpoint() as ep:
        ep.receive(fn, group="wc", attest=True)
        os.write(ready_w, b"r")
        ep.serve(fn, "wc", word_count, count=3, timeout=20)


def spawn_worker(fn):
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(ready_r)
            worker(fn, ready_w)
            status = 0
        finally:
            os._exit(status)
    children.append(pid)
    os.close(ready_w)
    ready = select.select([ready_r], [], [], WAIT)[0] and os.read(ready_r, 1)
    os.close(ready_r)
    check(ready == b"r", "worker did not start")
    return pid


def reap(pid, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            children.remove(pid)
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    raise AssertionError("worker %d did not exit" % pid)


def test_function_call():
    fn = fresh_pcid("word-count")
    with pg.Endpoint() as ep:
        expect_errno(errno.EHOSTUNREACH, ep.call, fn, b"nobody serves")
        pid = spawn_worker(fn)
        check(ep.call(fn, b"the quick brown fox\njumps", WAIT) == b"5",
              "word count of 5 words")
        e = expect_errno(errno.ETIME, ep.call, fn, b"fail", WAIT)
        check(isinstance(e, pg.FunctionError), "FunctionError")
        check(e.outcome == "not_promised" and e.reason == "took too long"
              and e.status == 3, "error fields %r" % vars(e))
        e = expect_errno(errno.EREMOTEIO, ep.call, fn, b"crash", WAIT)
        check("handler crashed" in e.reason, "reason %r" % e.reason)
        check(reap(pid) == 0, "worker exit status")


def test_call_worker_died():
    """A worker closing with the call unread: call() raises EPIPE at once."""
    fn = fresh_pcid("worker died")
    with pg.Endpoint() as ep:
        w = pg.Endpoint()
        w.receive(fn, group="g", attest=True)
        pid = os.fork()
        if pid == 0:    # closes the worker once the call is queued, unread
            p = select.poll()
            p.register(w.fd, select.POLLIN)
            p.poll(int(WAIT * 1000))
            os._exit(0)
        children.append(pid)
        w.close()       # the child's copy is the last one
        start = time.monotonic()
        e = expect_errno(errno.EPIPE, ep.call, fn, b"never read", 30.0)
        took = time.monotonic() - start
        check(took < WAIT, "EPIPE after %.1f s" % took)
        check("unread" in str(e), "reason %r" % str(e))
        check(reap(pid) == 0, "closer exit status")


def test_stats():
    with pg.Endpoint() as ep:
        before = ep.stats()
        ep.receive(HELLO_PCID)
        after = ep.stats()
        check(after["endpoint"]["receives"] == 1, "one receive held")
        check(after["module"]["control"] > before["module"]["control"],
              "control requests counted")


TESTS = [
    ("hello reports the endpoint id", test_hello),
    ("fan-out delivers the exact bytes to every receiver", test_fanout),
    ("attested delivery: true endpoint id, pid, uid, gid", test_attested),
    ("unknown verb: EBADRQC and the kernel's reason", test_unknown_verb),
    ("a frame nobody receives: EHOSTUNREACH", test_no_receiver),
    ("bad frames: EPROTO, EBADMSG, EILSEQ", test_bad_frames),
    ("function call round trip with a forked serve() worker",
     test_function_call),
    ("a worker closes with the call unread: call() raises EPIPE at once",
     test_call_worker_died),
    ("stats counts receives and requests", test_stats),
] + codec.TESTS


def main():
    if not os.path.exists(pg.DEVICE):
        print("1..0 # SKIP %s missing: load promisegrid.ko" % pg.DEVICE)
        return 4
    try:
        return codec.run(TESTS)
    finally:
        for pid in children:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


if __name__ == "__main__":
    sys.exit(main())
