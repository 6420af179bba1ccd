// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The PromiseGrid kernel module authors.

// Package promisegrid drives /dev/promisegrid, the local PromiseGrid grid
// kernel, from Go.
//
// The device is used with plain read and write of CBOR frames
//
//	1735551332([42(h'00' + pCID), ...slots])
//
// in grid-cbor (RFC 8949 section 4.2.1 deterministic encoding), which this
// package writes with github.com/fxamacker/cbor/v2's core deterministic
// encoding options. A write sends one frame or several back to back; a
// read returns a CBOR sequence of whole frames, which Split cuts apart.
// Endpoint speaks the kernel's control protocol
// (docs/protocols/pg-kernel-control-v4.md) and functions as a service
// (docs/protocols/pg-function-call-v1.md).
//
// A CID here is the binary CIDv1, without the 0x00 that tag 42 adds.
package promisegrid

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

const (
	// Device is the kernel's device node.
	Device = "/dev/promisegrid"
	// GridTag is the CBOR tag of a grid envelope ("grid" in ASCII).
	GridTag = 1735551332
	// CIDTag is the CBOR tag of a CID link (DAG-CBOR).
	CIDTag = 42
	// MaxDepth is how deeply nested the items this package decodes may be.
	MaxDepth = 64
)

// gridHead is how every grid frame begins: the head of tag 1735551332.
var gridHead = []byte{0xda, 0x67, 0x72, 0x69, 0x64}

// CID is a binary CIDv1 (no multibase prefix, no 0x00).
type CID []byte

// The kernel's protocols (uapi/linux/promisegrid.h PG_PCID_CONTROL and
// PG_PCID_DELIVERY) and the function-call protocol: each the CID of the
// exact bytes of its spec in docs/protocols/.
var (
	ControlPCID  = mustHex("01551220772d8891a24d4b978c890aa2a3afd81a146265a965881b411727a749c1154047")
	DeliveryPCID = mustHex("0155122072222f3e05a2537a4d544642b03ade8feae4ea39ead3e1b93657d046b35d1720")
	FnReplyPCID  = mustHex("01551220e1f2781ec632c0c514eaa716913477e8b5cf862bb8fccf74ef957f0fd811a520")
)

func mustHex(s string) CID {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// CIDOf returns the CIDv1 (codec raw 0x55, multihash sha2-256) of data:
// the pCID of a spec text, or the parent link of a call frame.
func CIDOf(data []byte) CID {
	sum := sha256.Sum256(data)
	return append(CID{0x01, 0x55, 0x12, 0x20}, sum[:]...)
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// String is the multibase base32 form ("bafk..."), as `pg cid` prints.
func (c CID) String() string {
	return "b" + strings.ToLower(b32.EncodeToString(c))
}

// Hex is the hex of the CID bytes (without the 0x00 of tag 42).
func (c CID) Hex() string { return hex.EncodeToString(c) }

// Equal reports whether two CIDs are the same bytes.
func (c CID) Equal(d CID) bool { return bytes.Equal(c, d) }

// Link returns 42(h'00' + c): how a CID is written in a frame.
func (c CID) Link() cbor.Tag {
	return cbor.Tag{Number: CIDTag, Content: append([]byte{0}, c...)}
}

// ParseCID reads a CIDv1 written as `pg cid` prints it: base32 "b..."
// or hex, with or without the leading 00 of tag 42's byte string.
func ParseCID(s string) (CID, error) {
	var c []byte
	var err error
	if strings.HasPrefix(s, "b") {
		c, err = b32.DecodeString(strings.ToUpper(s[1:]))
	} else {
		c, err = hex.DecodeString(s)
		if err == nil && len(c) > 0 && c[0] == 0 {
			c = c[1:]
		}
	}
	if err != nil || len(c) < 4 || len(c) > 96 || c[0] != 0x01 {
		return nil, fmt.Errorf("promisegrid: not a CIDv1: %q", s)
	}
	return c, nil
}

// LinkCID returns the CID of a tag-42 link 42(h'00' + CID), as decoded
// from a frame into a cbor.Tag.
func LinkCID(v interface{}) (CID, bool) {
	t, ok := v.(cbor.Tag)
	if !ok || t.Number != CIDTag {
		return nil, false
	}
	b, ok := t.Content.([]byte)
	if !ok || len(b) < 2 || b[0] != 0 {
		return nil, false
	}
	return CID(b[1:]), true
}

// ---- grid-cbor ------------------------------------------------------------

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	// RFC 8949 4.2.1: shortest heads, definite lengths, map keys sorted
	// bytewise by their encodings, shortest floats.
	if encMode, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:       cbor.DupMapKeyEnforcedAPF,
		IndefLength:     cbor.IndefLengthForbidden,
		MaxNestedLevels: MaxDepth,
		DefaultMapType:  reflect.TypeOf(map[interface{}]interface{}(nil)),
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Encode encodes v in grid-cbor (fxamacker/cbor's core deterministic
// encoding options).
func Encode(v interface{}) ([]byte, error) { return encMode.Marshal(v) }

// Decode decodes one CBOR item into v. Maps decode as
// map[interface{}]interface{} into an interface{}, or as a struct or
// map[string]T when v asks for one; unsigned integers as uint64, tags as
// cbor.Tag.
func Decode(data []byte, v interface{}) error { return decMode.Unmarshal(data, v) }

// Frame encodes grid([42(h'00' + pcid), slots...]). A slot may be any
// value Encode takes, or a cbor.RawMessage, embedded as it is.
func Frame(pcid CID, slots ...interface{}) ([]byte, error) {
	items := make([]interface{}, 0, len(slots)+1)
	items = append(items, pcid.Link())
	items = append(items, slots...)
	return encMode.Marshal(cbor.Tag{Number: GridTag, Content: items})
}

// Split cuts a CBOR sequence, such as the bytes of one read, into its
// items. The slices share buf's memory.
func Split(buf []byte) ([][]byte, error) {
	var out [][]byte
	dec := decMode.NewDecoder(bytes.NewReader(buf))
	start := int64(0)
	for start < int64(len(buf)) {
		var raw cbor.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return out, fmt.Errorf("promisegrid: item at offset %d: %w", start, err)
		}
		end := dec.NumBytesRead()
		out = append(out, buf[start:end])
		start = end
	}
	return out, nil
}

// ---- messages -------------------------------------------------------------

// Sender is what the kernel attests about who wrote a frame
// (docs/protocols/pg-kernel-delivery-v3.md).
type Sender struct {
	Endpoint, PID, UID, GID uint64
	// Host is the host a gateway endpoint named (pg-kernel-delivery-v3),
	// "" for a frame of this host.
	Host string
}

// who is the attestation array: four ids and a host (null or text).
type who struct {
	_                       struct{} `cbor:",toarray"`
	Endpoint, PID, UID, GID uint64
	Host                    *string
}

// Message is one frame, as read from the device or built locally.
//
// For an attested delivery (PCID is DeliveryPCID) Sender is set, Frame is
// the sender's exact frame and Inner that frame parsed. Otherwise Sender
// is nil, Frame is Raw and Inner is the message itself.
type Message struct {
	Raw    []byte            // the exact bytes
	PCID   CID               // slot 0
	Slots  []cbor.RawMessage // the slots after the pCID, exact bytes
	Sender *Sender
	Frame  []byte
	Inner  *Message
}

// ErrNotFrame is wrapped by the errors of ParseFrame.
var ErrNotFrame = errors.New("promisegrid: not a grid frame")

// ParseFrame checks that raw is exactly one grid frame and returns it
// parsed. The message keeps raw (it is not copied).
func ParseFrame(raw []byte) (*Message, error) {
	items, err := Split(raw)
	if err != nil || len(items) != 1 {
		return nil, fmt.Errorf("%w: not one CBOR item", ErrNotFrame)
	}
	if !bytes.HasPrefix(raw, gridHead) {
		return nil, fmt.Errorf("%w: no tag %d", ErrNotFrame, GridTag)
	}
	var slots []cbor.RawMessage
	if err := decMode.Unmarshal(raw[len(gridHead):], &slots); err != nil || len(slots) < 1 {
		return nil, fmt.Errorf("%w: no array with a pCID", ErrNotFrame)
	}
	var link interface{}
	if err := decMode.Unmarshal(slots[0], &link); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotFrame, err)
	}
	pcid, ok := LinkCID(link)
	if !ok {
		return nil, fmt.Errorf("%w: slot 0 is not 42(h'00' + CID)", ErrNotFrame)
	}
	m := &Message{Raw: raw, PCID: pcid, Slots: slots[1:], Frame: raw}
	m.Inner = m
	if !pcid.Equal(DeliveryPCID) {
		return m, nil
	}
	var w who
	if len(m.Slots) != 2 || decMode.Unmarshal(m.Slots[0], &w) != nil {
		return nil, fmt.Errorf("%w: bad delivery envelope", ErrNotFrame)
	}
	m.Sender = &Sender{Endpoint: w.Endpoint, PID: w.PID, UID: w.UID, GID: w.GID}
	if w.Host != nil {
		m.Sender.Host = *w.Host
	}
	m.Frame = m.Slots[1]
	if m.Inner, err = ParseFrame(m.Frame); err != nil {
		return nil, fmt.Errorf("delivered frame: %w", err)
	}
	return m, nil
}

// Attested reports whether the kernel wrapped the frame in its delivery
// envelope.
func (m *Message) Attested() bool { return m.Sender != nil }

// Decode decodes slot i (0 is the first slot after the pCID) into v.
func (m *Message) Decode(i int, v interface{}) error {
	if i < 0 || i >= len(m.Slots) {
		return fmt.Errorf("promisegrid: no slot %d", i)
	}
	return decMode.Unmarshal(m.Slots[i], v)
}

// Values decodes every slot after the pCID.
func (m *Message) Values() ([]interface{}, error) {
	out := make([]interface{}, len(m.Slots))
	for i := range m.Slots {
		if err := m.Decode(i, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (m *Message) String() string {
	vals, err := m.Values()
	if err != nil {
		return fmt.Sprintf("Message(pcid=%s, %v)", m.PCID, err)
	}
	return fmt.Sprintf("Message(pcid=%s, slots=%v)", m.PCID, vals)
}
