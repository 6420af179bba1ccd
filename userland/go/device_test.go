// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The PromiseGrid kernel module authors.

// Tests against the module: they run where /dev/promisegrid exists (the
// test VM, selftests/userland/test_go.sh) and skip elsewhere. With
// PG_GO_VM=1 (set by test_go.sh) a missing device or pg is a failure.

package promisegrid

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

const wait = 5 * time.Second

func need(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("PG_GO_VM") != "" {
		t.Fatalf("%s missing", what)
	}
	t.Skipf("needs %s", what)
}

func open(t *testing.T) *Endpoint {
	t.Helper()
	_, err := os.Stat(Device)
	need(t, err == nil, Device+" (load promisegrid.ko)")
	e, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// freshPCID is a pCID nobody else uses.
func freshPCID(name string) CID {
	return CIDOf([]byte(fmt.Sprintf("test_go %s %d %d", name, os.Getpid(), time.Now().UnixNano())))
}

func recvN(t *testing.T, e *Endpoint, n int) []*Message {
	t.Helper()
	var got []*Message
	deadline := time.Now().Add(wait)
	for len(got) < n && time.Now().Before(deadline) {
		more, err := e.Recv(time.Until(deadline))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, more...)
	}
	if len(got) != n {
		t.Fatalf("%d deliveries, want %d", len(got), n)
	}
	return got
}

func wantErrno(t *testing.T, err error, want syscall.Errno, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %s", what, err, want.Error())
	}
}

func TestDeviceHello(t *testing.T) {
	a, b := open(t), open(t)
	ha, err := a.Hello()
	if err != nil {
		t.Fatal(err)
	}
	hb, err := b.Hello()
	if err != nil {
		t.Fatal(err)
	}
	if ha.Version != 4 || ha.Endpoint < 1 || hb.Endpoint == ha.Endpoint {
		t.Errorf("hello %+v and %+v", ha, hb)
	}
	if ha.MaxFrame < 64 || ha.MaxDepth < 3 || ha.QueueFrames < 1 {
		t.Errorf("limits %+v", ha)
	}
	if id, err := a.ID(); err != nil || id != ha.Endpoint {
		t.Errorf("ID() = %d, %v", id, err)
	}
}

// Frames fxamacker/cbor encodes are accepted and delivered byte-exact,
// to a fan-out receiver and, inside the kernel's envelope, to an attested
// one; four frames in one write come out in order.
func TestDeviceByteExact(t *testing.T) {
	plain, attested, s := open(t), open(t), open(t)
	pcid := freshPCID("exact")
	if err := plain.Receive(pcid, ReceiveOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := attested.Receive(pcid, ReceiveOptions{Attest: true}); err != nil {
		t.Fatal(err)
	}
	type point struct {
		X int64  `cbor:"x"`
		Y uint64 `cbor:"y"`
		Z string `cbor:"zz,omitempty"`
	}
	var frames [][]byte
	for _, slots := range [][]interface{}{
		{"hello", 1},
		{[]int64{-1, 0, 1 << 40}, map[string]interface{}{"b": true, "a": nil, "cc": []byte{0, 1}}, point{-3, 4, "z"}},
		{helloPCID.Link(), cbor.Tag{Number: 1, Content: uint64(1700000000)}, strings.Repeat("x", 300), map[interface{}]interface{}{uint64(1): "one", int64(-1): "minus one", "k": 0}},
		floats, // every float width fxamacker/cbor picks, NaN, infinities
	} {
		f, err := Frame(pcid, slots...)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	// The frame of floats alone first: its refusal would name floats.
	if _, err := s.Send(frames[3]); err != nil {
		t.Fatalf("a frame of floats: %v", err)
	}
	recvN(t, plain, 1)
	recvN(t, attested, 1)
	n, err := s.Send(frames...)
	if want := len(bytes.Join(frames, nil)); err != nil || n != want {
		t.Fatalf("Send: %d, %v; want %d", n, err, want)
	}
	id, _ := s.ID()
	for i, m := range recvN(t, plain, len(frames)) {
		if !bytes.Equal(m.Raw, frames[i]) || m.Attested() {
			t.Errorf("fan-out frame %d: %x, want %x", i, m.Raw, frames[i])
		}
	}
	for i, m := range recvN(t, attested, len(frames)) {
		want := Sender{id, uint64(os.Getpid()), uint64(os.Geteuid()), uint64(os.Getegid()), ""}
		if !m.Attested() || !m.PCID.Equal(DeliveryPCID) || *m.Sender != want {
			t.Errorf("attested frame %d: %v from %+v, want %+v", i, m, m.Sender, want)
		}
		if !bytes.Equal(m.Frame, frames[i]) || !m.Inner.PCID.Equal(pcid) {
			t.Errorf("attested frame %d: inner %x, want %x", i, m.Frame, frames[i])
		}
	}
	var p point
	m, _ := ParseFrame(frames[1])
	if err := m.Decode(2, &p); err != nil || p != (point{-3, 4, "z"}) {
		t.Errorf("struct slot: %+v, %v", p, err)
	}
}

func TestDeviceRefusals(t *testing.T) {
	e := open(t)
	_, err := e.Send(mustFrame(t, freshPCID("nobody"), "hello", 1))
	wantErrno(t, err, syscall.EHOSTUNREACH, "nobody receives")
	_, err = e.Send(mustEncode(t, []interface{}{1, 2, 3}))
	wantErrno(t, err, syscall.EPROTO, "no grid tag")
	_, err = e.Send(mustEncode(t, cbor.Tag{Number: GridTag, Content: []interface{}{"no pcid"}}))
	wantErrno(t, err, syscall.EPROTO, "no pCID")
	good := mustFrame(t, ControlPCID, 0, "hello", Args{})
	_, err = e.Send(good[:len(good)-1])
	wantErrno(t, err, syscall.EBADMSG, "truncated")
	// 1 written as 18 01: well-formed, not deterministic.
	f := mustFrame(t, helloPCID, "hello", 1)
	_, err = e.Send(append(f[:len(f)-1:len(f)-1], 0x18, 0x01))
	wantErrno(t, err, syscall.EILSEQ, "non-shortest head")
}

func TestDeviceControlErrors(t *testing.T) {
	e := open(t)
	_, err := e.Request("frobnicate", nil)
	var ke *KernelError
	if !errors.As(err, &ke) || ke.Errno != syscall.EBADRQC || ke.Outcome != Malformed || ke.Reason != "unknown verb" {
		t.Errorf("unknown verb: %#v", err)
	}
	pcid := freshPCID("control")
	wantErrno(t, e.Unreceive(pcid, ""), syscall.ENOENT, "unreceive without receive")
	if err := e.Receive(pcid, ReceiveOptions{Group: "g"}); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, e.Receive(pcid, ReceiveOptions{Group: "g"}), syscall.EEXIST, "receive twice")
	wantErrno(t, e.Receive(ControlPCID, ReceiveOptions{}), syscall.EPERM, "receive on a kernel pCID")
	if err := e.Unreceive(pcid, "g"); err != nil {
		t.Error(err)
	}
	wantErrno(t, e.Carry(1<<40, mustFrame(t, pcid, 1)), syscall.ESRCH, "carry to nobody")
	if _, err := e.Hello(); err != nil {
		t.Errorf("the endpoint no longer works: %v", err)
	}
}

func TestDeviceCarryAndStats(t *testing.T) {
	a, b := open(t), open(t)
	before, err := a.Stats()
	if err != nil {
		t.Fatal(err)
	}
	to, _ := b.ID()
	f := mustFrame(t, freshPCID("carried"), "for b only", []byte{1, 2, 3})
	// b sent a nothing: a carry needs b's consent.
	wantErrno(t, a.Carry(to, f), syscall.EACCES, "unsolicited carry")
	if err := b.AcceptCarry(true); err != nil {
		t.Fatal(err)
	}
	if err := a.Carry(to, f); err != nil {
		t.Fatal(err)
	}
	// A kept carry has queued the frame: Recv(0) finds it without waiting.
	if got, err := b.Recv(0); err != nil || len(got) != 1 || !bytes.Equal(got[0].Raw, f) {
		t.Errorf("carried %v, %v; want %x", got, err, f)
	}
	if got, err := b.Recv(0); err != nil || len(got) != 0 {
		t.Errorf("Recv(0) on an empty queue: %v, %v", got, err)
	}
	if err := a.Receive(helloPCID, ReceiveOptions{}); err != nil {
		t.Fatal(err)
	}
	after, err := a.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if after["endpoint"]["receives"] != 1 || after["module"]["control"] <= before["module"]["control"] {
		t.Errorf("stats before %v after %v", before, after)
	}
}

func TestDeviceCapabilities(t *testing.T) {
	owner, other := open(t), open(t)
	pcid := freshPCID("caps")
	if r, err := owner.Claim(pcid); err != nil || r != RightSend|RightReceive|RightGrant {
		t.Fatalf("claim: %d, %v", r, err)
	}
	wantErrno(t, other.Receive(pcid, ReceiveOptions{}), syscall.EACCES, "receive without the right")
	token, rights, err := owner.Grant(pcid, GrantOptions{Rights: RightReceive, TTL: time.Minute})
	if err != nil || len(token) != 32 || rights != RightReceive {
		t.Fatalf("grant: %x %d %v", token, rights, err)
	}
	got, r, err := other.Redeem(token)
	if err != nil || !got.Equal(pcid) || r != RightReceive {
		t.Fatalf("redeem: %s %d %v", got, r, err)
	}
	if err := other.Receive(pcid, ReceiveOptions{}); err != nil {
		t.Fatalf("receive with the right: %v", err)
	}
	f := mustFrame(t, pcid, "claimed")
	if _, err := owner.Send(f); err != nil {
		t.Fatal(err)
	}
	if m := recvN(t, other, 1); !bytes.Equal(m[0].Raw, f) {
		t.Errorf("got %x", m[0].Raw)
	}
	if tokens, holders, err := owner.Revoke(token); err != nil || tokens != 1 || holders != 1 {
		t.Errorf("revoke: %d tokens %d holders, %v", tokens, holders, err)
	}
	_, _, err = other.Redeem(token)
	wantErrno(t, err, syscall.EACCES, "redeem a revoked token")
	_, _, err = other.Redeem([]byte("short"))
	wantErrno(t, err, syscall.EINVAL, "a token of the wrong length")
}

func wordCount(c *Incoming) ([]byte, error) {
	switch string(c.Body) {
	case "fail":
		return nil, &FunctionError{Errno: syscall.ETIME, Reason: "took too long",
			Outcome: NotPromised, Status: 3, Signal: -1}
	case "crash":
		return nil, errors.New("handler crashed")
	}
	return []byte(fmt.Sprint(len(strings.Fields(string(c.Body))))), nil
}

// serveInBackground runs a Go worker on its own endpoint until count
// calls were answered; the returned channel gives Serve's result.
func serveInBackground(t *testing.T, fn CID, count int) chan error {
	w := open(t)
	if err := w.Receive(fn, ReceiveOptions{Group: "go", Attest: true}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		n, err := w.Serve(fn, "go", wordCount, ServeOptions{Count: count, Idle: 3 * wait})
		if err == nil && n != count {
			err = fmt.Errorf("served %d calls, want %d", n, count)
		}
		done <- err
	}()
	return done
}

func TestDeviceCallGoWorker(t *testing.T) {
	e := open(t)
	fn := freshPCID("word-count")
	_, err := e.Call(fn, []byte("nobody serves"), wait)
	if !errors.Is(err, ErrNoWorker) || !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Errorf("no worker: %v", err)
	}
	done := serveInBackground(t, fn, 3)
	if out, err := e.Call(fn, []byte("the quick brown fox\njumps"), wait); err != nil || string(out) != "5" {
		t.Errorf("word count: %q, %v", out, err)
	}
	_, err = e.Call(fn, []byte("fail"), wait)
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Errno != syscall.ETIME || fe.Outcome != NotPromised ||
		fe.Reason != "took too long" || fe.Status != 3 {
		t.Errorf("failing function: %#v", err)
	}
	_, err = e.Call(fn, []byte("crash"), wait)
	if !errors.As(err, &fe) || fe.Errno != syscall.EREMOTEIO || !strings.Contains(fe.Reason, "handler crashed") {
		t.Errorf("crashing handler: %#v", err)
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// A worker that closes with the call unread: the caller learns at once
// (EPIPE, from the kernel's unread notice naming the call), not at its
// timeout.
func TestDeviceCallWorkerDied(t *testing.T) {
	e, w := open(t), open(t)
	fn := freshPCID("worker died")
	if err := w.Receive(fn, ReceiveOptions{Group: "g", Attest: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.Accept(false, true); err != nil {
		t.Fatal(err)
	}
	call, parent, err := CallFrame(fn, 1, []byte("never read"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Send(call); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	w.Close()
	_, err = e.Wait(parent, 30*time.Second)
	if !errors.Is(err, syscall.EPIPE) || time.Since(start) > wait {
		t.Errorf("after %v: %v, want EPIPE at once", time.Since(start), err)
	}
}

func needPg(t *testing.T) string {
	t.Helper()
	pg, err := exec.LookPath("pg")
	need(t, err == nil, "the pg command in PATH")
	return pg
}

// A Go worker serves `pg call`.
func TestDevicePgCallsGoWorker(t *testing.T) {
	open(t)
	pg := needPg(t)
	fn := freshPCID("pg-calls-go")
	done := serveInBackground(t, fn, 2)
	for i, body := range []string{"one two three\n", "a b c d e f g"} {
		cmd := exec.Command(pg, "call", "--timeout", "5000", fn.Hex())
		cmd.Stdin = strings.NewReader(body)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		want := fmt.Sprint(len(strings.Fields(body)))
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("pg call %d: %q, %v (%s); want %s", i, out, err, stderr.String(), want)
		}
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// startPgServe runs `pg serve fn group -- cmd...` until the test ends;
// returns once it serves.
func startPgServe(t *testing.T, fn CID, group string, cmd ...string) {
	t.Helper()
	args := append([]string{"serve", fn.String(), group, "--"}, cmd...)
	c := exec.Command(needPg(t), args...)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c.Stderr = w
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		c.Process.Kill()
		c.Wait()
		r.Close()
	})
	ready := make(chan string, 1)
	go func() {
		var seen []byte
		buf := make([]byte, 512)
		for !bytes.Contains(seen, []byte("serving")) {
			n, err := r.Read(buf)
			seen = append(seen, buf[:n]...)
			if err != nil {
				break
			}
		}
		ready <- string(seen)
		for { // keep draining what it writes
			if _, err := r.Read(buf); err != nil {
				return
			}
		}
	}()
	select {
	case s := <-ready:
		if !strings.Contains(s, "serving") {
			t.Fatalf("pg serve did not start: %q", s)
		}
	case <-time.After(wait):
		t.Fatal("pg serve did not start in time")
	}
}

// A Go caller calls `pg serve`: a command run per call, its output and
// its failure (status and stderr) come back.
func TestDeviceGoCallsPgServe(t *testing.T) {
	e := open(t)
	fn := freshPCID("go-calls-pg")
	startPgServe(t, fn, "sh", "sh", "-c", "wc -w")
	for _, body := range []string{"one two three", "the quick brown fox jumps"} {
		out, err := e.Call(fn, []byte(body), wait)
		want := fmt.Sprint(len(strings.Fields(body)))
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("call %q: %q, %v; want %s", body, out, err, want)
		}
	}
	bad := freshPCID("go-calls-pg-fails")
	startPgServe(t, bad, "sh", "sh", "-c", "cat >/dev/null; echo it broke >&2; exit 5")
	_, err := e.Call(bad, []byte("x"), wait)
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Errno != syscall.EREMOTEIO || fe.Outcome != NotPromised ||
		fe.Status != 5 || string(fe.Stderr) != "it broke\n" {
		t.Errorf("failing command: %#v", err)
	}
}

// A control reply read while waiting for a function reply (and the other
// way round) is kept for later, not lost.
func TestDeviceInterleavedReplies(t *testing.T) {
	e, s := open(t), open(t)
	fn := freshPCID("interleaved")
	done := serveInBackground(t, fn, 1)
	if err := e.Receive(helloPCID, ReceiveOptions{}); err != nil {
		t.Fatal(err)
	}
	f := mustFrame(t, helloPCID, "queued first")
	if _, err := s.Send(f); err != nil {
		t.Fatal(err)
	}
	if out, err := e.Call(fn, []byte("x y"), wait); err != nil || string(out) != "2" {
		t.Errorf("call: %q, %v", out, err)
	}
	if _, err := e.Hello(); err != nil {
		t.Error(err)
	}
	if got := recvN(t, e, 1); !bytes.Equal(got[0].Raw, f) {
		t.Errorf("kept delivery %x, want %x", got[0].Raw, f)
	}
	if got, err := e.Recv(0); err != nil || len(got) != 0 {
		t.Errorf("left over: %v, %v", got, err)
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// The example program (userland/go/example, in PATH as pg-go-example):
// its exchange, and its worker called by the Go client.
func TestDeviceExample(t *testing.T) {
	e := open(t)
	ex, err := exec.LookPath("pg-go-example")
	need(t, err == nil, "pg-go-example in PATH")
	out, err := exec.Command(ex, "exchange").CombinedOutput()
	if err != nil || strings.Count(string(out), "(written by the kernel)") != 3 ||
		!strings.Contains(string(out), "[hello 3]") {
		t.Errorf("exchange: %v\n%s", err, out)
	}
	fn := freshPCID("example")
	c := exec.Command(ex, "serve", "-count", "1", fn.String(), "example")
	r, w, _ := os.Pipe()
	c.Stderr = w
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer r.Close()
	buf := make([]byte, 512)
	if n, _ := r.Read(buf); !strings.Contains(string(buf[:n]), "serving") {
		c.Process.Kill()
		c.Wait()
		t.Fatalf("serve: %q", buf[:n])
	}
	got, err := e.Call(fn, []byte("one two three four"), wait)
	if err != nil || string(got) != "4" {
		t.Errorf("call the example worker: %q, %v", got, err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve -count 1: %v", err)
		}
	case <-time.After(wait):
		c.Process.Kill()
		<-done
		t.Error("serve -count 1 did not exit after one call")
	}
}
