// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The PromiseGrid kernel module authors.

package promisegrid

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Forever, as a timeout, waits without limit.
const Forever time.Duration = -1

const (
	readSize    = 1 << 20
	maxReadSize = 64 << 20
)

// Endpoint is an open /dev/promisegrid: one endpoint of the local grid
// kernel. It is not safe for concurrent use: give each goroutine its own.
type Endpoint struct {
	f       *os.File
	pending []*Message // read, not yet returned by Recv
	nextID  uint64
	id      uint64
	// unreadAsked: accept {"unread": true} was kept (Call fails fast).
	unreadAsked bool
	buf         []byte
	// Timeout bounds the wait for a control reply (default 5 s).
	Timeout time.Duration
}

// Open opens the device: a new endpoint.
func Open() (*Endpoint, error) { return OpenPath(Device) }

// OpenPath opens the device at path. The file is non-blocking and waits
// in Go's poller, so Recv's timeouts are read deadlines.
func OpenPath(path string) (*Endpoint, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return NewEndpoint(f), nil
}

// NewEndpoint uses an already open device file (for example one a parent
// process passed down).
func NewEndpoint(f *os.File) *Endpoint {
	return &Endpoint{f: f, nextID: 1, Timeout: 5 * time.Second}
}

// Close closes the endpoint: the kernel drops its receives and queue.
func (e *Endpoint) Close() error { return e.f.Close() }

// File returns the device file.
func (e *Endpoint) File() *os.File { return e.f }

// Send writes frames in one write (one frame, or several back to back)
// and returns the bytes written. A refused frame fails with the kernel's
// errno (errors.Is(err, syscall.EHOSTUNREACH), ...); the frames before
// it were sent.
func (e *Endpoint) Send(frames ...[]byte) (int, error) {
	var data []byte
	if len(frames) == 1 {
		data = frames[0]
	} else {
		for _, f := range frames {
			data = append(data, f...)
		}
	}
	return e.f.Write(data)
}

// read reads once: the deliveries of one read, none when timeout passed.
func (e *Endpoint) read(timeout time.Duration) ([]*Message, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	if err := e.f.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	if e.buf == nil {
		e.buf = make([]byte, readSize)
	}
	for {
		var n int
		var err error
		if timeout == 0 {
			n, err = e.readNow()
		} else {
			n, err = e.f.Read(e.buf)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, nil
		}
		if errors.Is(err, syscall.EMSGSIZE) && len(e.buf) < maxReadSize {
			e.buf = make([]byte, 2*len(e.buf)) // a frame larger than buf
			continue
		}
		if err != nil {
			return nil, err
		}
		data := append([]byte(nil), e.buf[:n]...)
		items, err := Split(data)
		if err != nil {
			return nil, err
		}
		out := make([]*Message, 0, len(items))
		for _, it := range items {
			m, err := ParseFrame(it)
			if err != nil {
				return out, err
			}
			out = append(out, m)
		}
		return out, nil
	}
}

// readNow reads once without waiting (a deadline already passed would
// not even try): os.ErrDeadlineExceeded if nothing is queued.
func (e *Endpoint) readNow() (int, error) {
	rc, err := e.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = syscall.Read(int(fd), e.buf)
			if rerr != syscall.EINTR {
				return true
			}
		}
	})
	if err == nil {
		err = rerr
	}
	if err == syscall.EAGAIN {
		return 0, os.ErrDeadlineExceeded
	}
	if err != nil {
		return 0, &os.PathError{Op: "read", Path: e.f.Name(), Err: err}
	}
	return n, nil
}

// Recv returns the queued deliveries, waiting up to timeout (Forever: no
// limit; 0: only what is queued). An empty result means it expired.
func (e *Endpoint) Recv(timeout time.Duration) ([]*Message, error) {
	if len(e.pending) > 0 {
		out := e.pending
		e.pending = nil
		return out, nil
	}
	return e.read(timeout)
}

// waitFor reads until match(m); keeps the others for Recv. nil on timeout.
func (e *Endpoint) waitFor(match func(*Message) bool, timeout time.Duration) (*Message, error) {
	for i, m := range e.pending {
		if match(m) {
			e.pending = append(e.pending[:i], e.pending[i+1:]...)
			return m, nil
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		left := Forever
		if timeout >= 0 {
			if left = time.Until(deadline); left <= 0 {
				return nil, nil
			}
		}
		got, err := e.read(left)
		if err != nil {
			return nil, err
		}
		for i, m := range got {
			if match(m) {
				e.pending = append(e.pending, got[:i]...)
				e.pending = append(e.pending, got[i+1:]...)
				return m, nil
			}
		}
		e.pending = append(e.pending, got...)
	}
}

// ---- control requests ---------------------------------------------------

// KernelError is a control request the kernel did not carry out: its
// errno, its reason text and the outcome ("not_promised", "malformed").
// errors.Is(err, syscall.EEXIST) and the like work on it.
type KernelError struct {
	Errno   syscall.Errno
	Reason  string
	Outcome string
	Details map[string]interface{}
}

func (e *KernelError) Error() string {
	return fmt.Sprintf("%s (%s: %s)", e.Reason, e.Outcome, e.Errno.Error())
}

// Unwrap returns the errno.
func (e *KernelError) Unwrap() error { return e.Errno }

// Args are the arguments of a control request: text keys.
type Args map[string]interface{}

// request sends grid([42(control), id, verb, args]) and decodes the kept
// reply's details into out (if not nil). The reply is the control frame
// whose parent link (its last slot) names the request's exact bytes.
func (e *Endpoint) request(verb string, args Args, out interface{}) error {
	id := e.nextID
	e.nextID++
	if args == nil {
		args = Args{}
	}
	f, err := Frame(ControlPCID, id, verb, map[string]interface{}(args))
	if err != nil {
		return err
	}
	parent := CIDOf(f)
	// A failed request fails its write too; its reply still says why.
	_, werr := e.Send(f)
	reply, err := e.waitFor(func(m *Message) bool {
		got, ok := controlParent(m)
		return ok && got.Equal(parent)
	}, e.Timeout)
	if err != nil {
		return err
	}
	if reply == nil {
		if werr != nil {
			return werr
		}
		return fmt.Errorf("promisegrid: no reply to %q: %w", verb, os.ErrDeadlineExceeded)
	}
	var outcome string
	if err := reply.Decode(1, &outcome); err != nil {
		return fmt.Errorf("promisegrid: bad reply to %q: %w", verb, err)
	}
	if outcome != "kept" {
		var d map[string]interface{}
		_ = reply.Decode(2, &d)
		ke := &KernelError{Outcome: outcome, Details: d}
		if n, ok := d["errno"].(uint64); ok {
			ke.Errno = syscall.Errno(n)
		}
		ke.Reason, _ = d["reason"].(string)
		return ke
	}
	if out == nil {
		return nil
	}
	if err := reply.Decode(2, out); err != nil {
		return fmt.Errorf("promisegrid: bad reply to %q: %w", verb, err)
	}
	return nil
}

// controlParent is the parent link of a kernel message that answers a
// frame: grid([42(control), id, word, details, 42(parent)]).
func controlParent(m *Message) (CID, bool) {
	if !m.PCID.Equal(ControlPCID) || len(m.Slots) != 4 {
		return nil, false
	}
	var link interface{}
	if m.Decode(3, &link) != nil {
		return nil, false
	}
	return LinkCID(link)
}

// Accept sets what this endpoint accepts: carries from anyone (carry),
// and notices of its frames left unread by a receiver that closed (unread).
func (e *Endpoint) Accept(carry, unread bool) error {
	return e.request("accept", Args{"carry": carry, "unread": unread}, nil)
}

// Request makes any control request and returns the kept reply's details.
func (e *Endpoint) Request(verb string, args Args) (map[string]interface{}, error) {
	var d map[string]interface{}
	if err := e.request(verb, args, &d); err != nil {
		return nil, err
	}
	return d, nil
}

// Hello is the kernel's answer to hello: the endpoint's id and limits.
type Hello struct {
	Version       uint64 `cbor:"version"`
	Endpoint      uint64 `cbor:"endpoint"`
	MaxDepth      uint64 `cbor:"max_depth"`
	MaxFrame      uint64 `cbor:"max_frame"`
	MaxGroups     uint64 `cbor:"max_groups"`
	QueueBytes    uint64 `cbor:"queue_bytes"`
	QueueFrames   uint64 `cbor:"queue_frames"`
	InflightBytes uint64 `cbor:"inflight_bytes"`
}

// Hello asks the kernel for this endpoint's id and the limits in force.
func (e *Endpoint) Hello() (*Hello, error) {
	var h Hello
	if err := e.request("hello", nil, &h); err != nil {
		return nil, err
	}
	e.id = h.Endpoint
	return &h, nil
}

// ID is this endpoint's id (asks the kernel once).
func (e *Endpoint) ID() (uint64, error) {
	if e.id == 0 {
		if _, err := e.Hello(); err != nil {
			return 0, err
		}
	}
	return e.id, nil
}

// ReceiveOptions: Group joins a worker group (empty: fan-out); Attest has
// each frame delivered in the kernel's delivery envelope.
type ReceiveOptions struct {
	Group  string
	Attest bool
}

// Receive starts receiving frames sent on pcid.
func (e *Endpoint) Receive(pcid CID, o ReceiveOptions) error {
	args := Args{"pcid": pcid.Link()}
	if o.Group != "" {
		args["group"] = o.Group
	}
	if o.Attest {
		args["attest"] = true
	}
	return e.request("receive", args, nil)
}

// Unreceive undoes one Receive (group "" for fan-out).
func (e *Endpoint) Unreceive(pcid CID, group string) error {
	args := Args{"pcid": pcid.Link()}
	if group != "" {
		args["group"] = group
	}
	return e.request("unreceive", args, nil)
}

// Carry has the kernel deliver one frame, byte-exact, to endpoint to: an
// endpoint one of whose frames this one has read, or one that accepts
// carries (AcceptCarry); otherwise EACCES.
func (e *Endpoint) Carry(to uint64, frame []byte) error {
	return e.request("carry", Args{"to": to, "frame": frame}, nil)
}

// AcceptCarry lets any endpoint carry frames to this one (on), or only
// those it has read a frame from (off, the default).
func (e *Endpoint) AcceptCarry(on bool) error {
	return e.request("accept", Args{"carry": on}, nil)
}

// Stats returns the module's and this endpoint's counters.
func (e *Endpoint) Stats() (map[string]map[string]uint64, error) {
	var s map[string]map[string]uint64
	return s, e.request("stats", nil, &s)
}

// Rights on a pCID.
const (
	RightSend    = 1
	RightReceive = 2
	RightGrant   = 4
)

type rightsReply struct {
	Rights uint64 `cbor:"rights"`
}

// Claim takes every right on pcid; returns the rights held.
func (e *Endpoint) Claim(pcid CID) (uint64, error) {
	var r rightsReply
	return r.Rights, e.request("claim", Args{"pcid": pcid.Link()}, &r)
}

// GrantOptions: Rights 0 grants all the granter holds; TTL 0 never expires
// (it is sent in whole milliseconds).
type GrantOptions struct {
	Rights uint64
	TTL    time.Duration
}

// Grant mints a 32-byte bearer token for rights on pcid; returns the
// token and the rights it carries.
func (e *Endpoint) Grant(pcid CID, o GrantOptions) ([]byte, uint64, error) {
	args := Args{"pcid": pcid.Link()}
	if o.Rights != 0 {
		args["rights"] = o.Rights
	}
	if o.TTL > 0 {
		args["ttl_ms"] = uint64(o.TTL / time.Millisecond)
	}
	var r struct {
		Token  []byte `cbor:"token"`
		Rights uint64 `cbor:"rights"`
	}
	err := e.request("grant", args, &r)
	return r.Token, r.Rights, err
}

// Redeem gains a token's rights on this endpoint; returns its pCID and
// rights.
func (e *Endpoint) Redeem(token []byte) (CID, uint64, error) {
	var r struct {
		PCID   cbor.Tag `cbor:"pcid"`
		Rights uint64   `cbor:"rights"`
	}
	if err := e.request("redeem", Args{"token": token}, &r); err != nil {
		return nil, 0, err
	}
	pcid, ok := LinkCID(r.PCID)
	if !ok {
		return nil, 0, errors.New("promisegrid: redeem: bad pcid in reply")
	}
	return pcid, r.Rights, nil
}

// Revoke ends a token and all derived from it; returns how many tokens
// and redemptions ended.
func (e *Endpoint) Revoke(token []byte) (tokens, holders uint64, err error) {
	var r struct {
		Tokens  uint64 `cbor:"tokens"`
		Holders uint64 `cbor:"holders"`
	}
	err = e.request("revoke", Args{"token": token}, &r)
	return r.Tokens, r.Holders, err
}
