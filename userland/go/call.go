// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The PromiseGrid kernel module authors.

package promisegrid

// Functions as a service (docs/protocols/pg-function-call-v1.md). A call
// grid([42(F), nonce, body]) goes to one member of each worker group on F;
// the worker, which received it with the kernel's attestation, carries
// grid([42(R), 42(parent), outcome, result]) back to the caller's
// endpoint, where parent is the CID of the call's exact bytes.

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Outcome words.
const (
	Kept        = "kept"
	NotPromised = "not_promised"
	Malformed   = "malformed"
)

// FunctionError is a call that came back not kept, or the error a
// Handler returns to choose its reply's fields. Status and Signal are -1
// when absent. errors.Is(err, syscall.ETIME) and the like work on it.
type FunctionError struct {
	Errno   syscall.Errno
	Reason  string
	Outcome string // NotPromised or Malformed
	Status  int
	Signal  int
	Stderr  []byte
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("%s (%s: %s)", e.Reason, e.Outcome, e.Errno.Error())
}

// Unwrap returns the errno.
func (e *FunctionError) Unwrap() error { return e.Errno }

// CallFrame encodes grid([42(fn), nonce, body]) and returns it with its
// parent CID (the CID of its exact bytes, which the reply names).
func CallFrame(fn CID, nonce uint64, body []byte) ([]byte, CID, error) {
	if body == nil {
		body = []byte{}
	}
	f, err := Frame(fn, nonce, body)
	if err != nil {
		return nil, nil, err
	}
	return f, CIDOf(f), nil
}

// ReplyFrame encodes grid([42(R), 42(parent), outcome, result]): result
// is the output bytes when outcome is Kept, otherwise a map with errno
// and reason (see ErrorResult).
func ReplyFrame(parent CID, outcome string, result interface{}) ([]byte, error) {
	return Frame(FnReplyPCID, parent.Link(), outcome, result)
}

// ErrorResult is the result map of a reply that is not kept.
func ErrorResult(e *FunctionError) map[string]interface{} {
	r := map[string]interface{}{"errno": uint64(e.Errno), "reason": e.Reason}
	if e.Status >= 0 {
		r["status"] = uint64(e.Status)
	}
	if e.Signal >= 0 {
		r["signal"] = uint64(e.Signal)
	}
	if e.Stderr != nil {
		r["stderr"] = e.Stderr
	}
	return r
}

func nonce() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return binary.BigEndian.Uint64(b[:])
}

// replyTo reports whether m is a function reply naming parent.
func replyTo(m *Message, parent CID) bool {
	if !m.PCID.Equal(FnReplyPCID) || len(m.Slots) != 3 {
		return false
	}
	var link interface{}
	if m.Decode(0, &link) != nil {
		return false
	}
	got, ok := LinkCID(link)
	return ok && got.Equal(parent)
}

// ErrNoWorker is wrapped by Call when nobody serves the function.
var ErrNoWorker = errors.New("no worker serves this function")

type noWorkerError struct{ err error }

func (e noWorkerError) Error() string        { return ErrNoWorker.Error() + ": " + e.err.Error() }
func (e noWorkerError) Unwrap() error        { return e.err }
func (e noWorkerError) Is(target error) bool { return target == ErrNoWorker }

// Call calls function fn with body and waits up to timeout for its
// result. Errors: ErrNoWorker (wrapping EHOSTUNREACH), *FunctionError
// for a reply not kept, os.ErrDeadlineExceeded when no reply came,
// syscall.EPIPE at once when the worker closed with the call unread.
func (e *Endpoint) Call(fn CID, body []byte, timeout time.Duration) ([]byte, error) {
	// A worker that dies with the call unread: the kernel says so at
	// once (best effort; without it the timeout ends the call).
	if !e.unreadAsked {
		e.unreadAsked = e.request("accept", Args{"unread": true}, nil) == nil
	}
	call, parent, err := CallFrame(fn, nonce(), body)
	if err != nil {
		return nil, err
	}
	if _, err := e.Send(call); err != nil {
		if errors.Is(err, syscall.EHOSTUNREACH) {
			return nil, noWorkerError{err}
		}
		return nil, err
	}
	return e.Wait(parent, timeout)
}

// Wait waits for the reply to the call whose parent CID is parent (sent
// with Send(CallFrame(...)), so that several calls can be in flight).
func (e *Endpoint) Wait(parent CID, timeout time.Duration) ([]byte, error) {
	reply, err := e.waitFor(func(m *Message) bool {
		if got, ok := controlParent(m); ok {
			return got.Equal(parent)
		}
		return replyTo(m, parent)
	}, timeout)
	if err != nil {
		return nil, err
	}
	if reply == nil {
		return nil, fmt.Errorf("promisegrid: no reply from the function: %w", os.ErrDeadlineExceeded)
	}
	if reply.PCID.Equal(ControlPCID) {
		return nil, fmt.Errorf("promisegrid: the worker closed with the call unread: %w", syscall.EPIPE)
	}
	var outcome string
	var result interface{}
	if reply.Decode(1, &outcome) != nil || reply.Decode(2, &result) != nil {
		return nil, malformedReply()
	}
	if out, ok := result.([]byte); ok && outcome == Kept {
		return out, nil
	}
	m, ok := result.(map[interface{}]interface{})
	n, nok := m["errno"].(uint64)
	if !ok || !nok || (outcome != NotPromised && outcome != Malformed) {
		return nil, malformedReply()
	}
	fe := &FunctionError{Errno: syscall.Errno(n), Outcome: outcome, Status: -1, Signal: -1}
	fe.Reason, _ = m["reason"].(string)
	if v, ok := m["status"].(uint64); ok {
		fe.Status = int(min(v, 255))
	}
	if v, ok := m["signal"].(uint64); ok {
		fe.Signal = int(min(v, 255))
	}
	fe.Stderr, _ = m["stderr"].([]byte)
	return nil, fe
}

func min(a, b uint64) uint64 {
	if a < b {
		return a
	}
	return b
}

func malformedReply() error {
	return &FunctionError{Errno: syscall.EPROTO, Outcome: Malformed,
		Reason: "the reply has the wrong shape", Status: -1, Signal: -1}
}

// Incoming is one call a worker received.
type Incoming struct {
	Caller uint64 // the caller's endpoint, as the kernel attests it
	From   Sender // all the kernel attests
	Nonce  uint64
	Body   []byte
	Parent CID    // the CID of the call frame's exact bytes
	Frame  []byte // the call frame
}

// Handler computes a function. Returning a *FunctionError replies with
// its outcome and fields; any other error replies not_promised,
// EREMOTEIO, with the error's text as reason.
type Handler func(c *Incoming) ([]byte, error)

// ServeOptions: stop after Count calls (0: no limit), or when no call came
// for Idle (0: wait forever).
type ServeOptions struct {
	Count int
	Idle  time.Duration
}

// Serve joins worker group on fn (receiving with attestation; already
// joined is fine) and answers each call with handler. Returns the number
// of calls answered.
func (e *Endpoint) Serve(fn CID, group string, handler Handler, o ServeOptions) (int, error) {
	err := e.Receive(fn, ReceiveOptions{Group: group, Attest: true})
	if err != nil && !errors.Is(err, syscall.EEXIST) {
		return 0, err
	}
	idle := Forever
	if o.Idle > 0 {
		idle = o.Idle
	}
	served := 0
	for o.Count == 0 || served < o.Count {
		got, err := e.Recv(idle)
		if err != nil {
			return served, err
		}
		if len(got) == 0 {
			break
		}
		for i, m := range got {
			if o.Count != 0 && served >= o.Count {
				e.pending = append(e.pending, got[i:]...)
				break
			}
			if !m.Attested() || !m.Inner.PCID.Equal(fn) {
				continue
			}
			if err := e.answer(m, handler); err != nil {
				return served, err
			}
			served++
		}
	}
	return served, nil
}

// ParseCall reads an attested call; a *FunctionError (malformed) if the
// call is not [42(F), nonce, body].
func ParseCall(m *Message) (*Incoming, error) {
	if !m.Attested() {
		return nil, errors.New("promisegrid: not an attested delivery")
	}
	c := &Incoming{Caller: m.Sender.Endpoint, From: *m.Sender,
		Parent: CIDOf(m.Frame), Frame: m.Frame}
	in := m.Inner
	if len(in.Slots) != 2 || len(in.Slots[0]) == 0 || in.Slots[0][0]>>5 != 0 ||
		len(in.Slots[1]) == 0 || in.Slots[1][0]>>5 != 2 ||
		in.Decode(0, &c.Nonce) != nil || in.Decode(1, &c.Body) != nil {
		return c, &FunctionError{Errno: syscall.EBADMSG, Outcome: Malformed,
			Reason: "not [42(F), nonce, body]", Status: -1, Signal: -1}
	}
	return c, nil
}

func (e *Endpoint) answer(m *Message, handler Handler) error {
	c, err := ParseCall(m)
	var out []byte
	if err == nil {
		out, err = handler(c)
	}
	var reply []byte
	if err == nil {
		reply, err = ReplyFrame(c.Parent, Kept, out)
	} else {
		var fe *FunctionError
		if !errors.As(err, &fe) {
			fe = &FunctionError{Errno: syscall.EREMOTEIO, Outcome: NotPromised,
				Reason: err.Error(), Status: -1, Signal: -1}
		}
		if fe.Outcome != Malformed {
			fe.Outcome = NotPromised
		}
		reply, err = ReplyFrame(c.Parent, fe.Outcome, ErrorResult(fe))
	}
	if err != nil {
		return err
	}
	err = e.Carry(c.Caller, reply)
	if errors.Is(err, syscall.EMSGSIZE) {
		reply, err = ReplyFrame(c.Parent, NotPromised, ErrorResult(&FunctionError{
			Errno: syscall.EMSGSIZE, Reason: "the output does not fit in one frame",
			Status: -1, Signal: -1}))
		if err == nil {
			err = e.Carry(c.Caller, reply)
		}
	}
	if errors.Is(err, syscall.ESRCH) { // the caller is gone
		return nil
	}
	return err
}
