// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The PromiseGrid kernel module authors.

// Host tests: need no module. The encodings are checked against fixed
// bytes that userland/python/promisegrid.py produced, and, when python3
// and the repository are at hand, against promisegrid.py run now; the
// pCIDs against the spec files and tools/maint/pg-cid.

package promisegrid

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// CID of docs/protocols/example-hello-v1.md
var helloPCID = mustHex("01551220009e80b24b5a450fcca0eaf98a0955c8a940ed055a34a3476bd2ebeeca1b3eac")

// repo is the repository's top directory, "" when the tests run elsewhere
// (in the VM).
func repo() string {
	top, err := filepath.Abs("../..")
	if err != nil {
		return ""
	}
	if _, err := os.Stat(filepath.Join(top, "userland/go/go.mod")); err != nil {
		return ""
	}
	return top
}

type vector struct {
	name string
	py   string // the Python expression (pg = promisegrid, H, L = pg._cidtag)
	gen  func() ([]byte, error)
	want string // what promisegrid.py produced, in hex
}

func callFrame() ([]byte, error) {
	f, _, err := CallFrame(helloPCID, 12345678901234, []byte("the quick brown fox"))
	return f, err
}

var vectors = []vector{
	{"a frame with two slots", `pg.frame(H, "hello", 1)`,
		func() ([]byte, error) { return Frame(helloPCID, "hello", 1) },
		"da6772696483d82a58250001551220009e80b24b5a450fcca0eaf98a0955c8a940ed055a34a3476bd2ebeeca1b3eac6568656c6c6f01"},
	{"receive request: map keys in grid-cbor order",
		`pg.frame(pg.CONTROL_PCID, 7, "receive", {"pcid": L(H), "group": "adders", "attest": True})`,
		func() ([]byte, error) {
			return Frame(ControlPCID, 7, "receive", Args{"attest": true, "group": "adders", "pcid": helloPCID.Link()})
		},
		"da6772696484d82a58250001551220772d8891a24d4b978c890aa2a3afd81a146265a965881b411727a749c1154047076772656365697665a36470636964d82a58250001551220009e80b24b5a450fcca0eaf98a0955c8a940ed055a34a3476bd2ebeeca1b3eac6567726f75706661646465727366617474657374f5"},
	{"grant request", `pg.frame(pg.CONTROL_PCID, 2, "grant", {"pcid": L(H), "rights": 1, "ttl_ms": 60000})`,
		func() ([]byte, error) {
			return Frame(ControlPCID, 2, "grant", Args{"ttl_ms": 60000, "rights": 1, "pcid": helloPCID.Link()})
		},
		"da6772696484d82a58250001551220772d8891a24d4b978c890aa2a3afd81a146265a965881b411727a749c115404702656772616e74a36470636964d82a58250001551220009e80b24b5a450fcca0eaf98a0955c8a940ed055a34a3476bd2ebeeca1b3eac66726967687473016674746c5f6d7319ea60"},
	{"hello request", `pg.frame(pg.CONTROL_PCID, 1, "hello", {})`,
		func() ([]byte, error) { return Frame(ControlPCID, 1, "hello", Args{}) },
		"da6772696484d82a58250001551220772d8891a24d4b978c890aa2a3afd81a146265a965881b411727a749c1154047016568656c6c6fa0"},
	{"function call", `pg.call_frame(H, 12345678901234, b"the quick brown fox")`, callFrame,
		"da6772696483d82a58250001551220009e80b24b5a450fcca0eaf98a0955c8a940ed055a34a3476bd2ebeeca1b3eac1b00000b3a73ce2ff25374686520717569636b2062726f776e20666f78"},
	{"kept reply", `pg.reply_frame(H, "kept", b"4\n")`,
		func() ([]byte, error) { return ReplyFrame(helloPCID, Kept, []byte("4\n")) },
		"da6772696484d82a58250001551220e1f2781ec632c0c514eaa716913477e8b5cf862bb8fccf74ef957f0fd811a520d82a58250001551220009e80b24b5a450fcca0eaf98a0955c8a940ed055a34a3476bd2ebeeca1b3eac646b65707442340a"},
	{"not_promised reply with every field",
		`pg.reply_frame(H, "not_promised", {"errno": 121, "reason": "exit 5", "status": 5, "signal": 9, "stderr": b"it broke\n"})`,
		func() ([]byte, error) {
			return ReplyFrame(helloPCID, NotPromised, ErrorResult(&FunctionError{
				Errno: syscall.EREMOTEIO, Reason: "exit 5", Status: 5, Signal: 9,
				Stderr: []byte("it broke\n")}))
		},
		"da6772696484d82a58250001551220e1f2781ec632c0c514eaa716913477e8b5cf862bb8fccf74ef957f0fd811a520d82a58250001551220009e80b24b5a450fcca0eaf98a0955c8a940ed055a34a3476bd2ebeeca1b3eac6c6e6f745f70726f6d69736564a5656572726e6f187966726561736f6e66657869742035667369676e616c096673746174757305667374646572724969742062726f6b650a"},
	{"integer heads at every size, simple values, strings, mixed map keys",
		`pg.frame(H, [0, 23, 24, 255, 256, 65535, 65536, 2**32-1, 2**32, 2**64-1], [-1, -24, -25, -256, -257, -2**63], None, True, False, "", b"", "\u00e9t\u00e9", {"b": 1, "a": 2, "aa": 3, 10: 4, -1: 5})`,
		func() ([]byte, error) {
			return Frame(helloPCID,
				[]uint64{0, 23, 24, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, 1<<64 - 1},
				[]int64{-1, -24, -25, -256, -257, -1 << 63},
				nil, true, false, "", []byte{}, "été",
				map[interface{}]interface{}{"b": 1, "a": 2, "aa": 3, uint64(10): 4, int64(-1): 5})
		},
		"da677269648ad82a58250001551220009e80b24b5a450fcca0eaf98a0955c8a940ed055a34a3476bd2ebeeca1b3eac8a0017181818ff19010019ffff1a000100001affffffff1b00000001000000001bffffffffffffffff862037381838ff3901003b7ffffffffffffffff6f5f4604065c3a974c3a9a50a04200561610261620162616103"},
}

func TestEncodingMatchesPython(t *testing.T) {
	for _, v := range vectors {
		got, err := v.gen()
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		if hex.EncodeToString(got) != v.want {
			t.Errorf("%s:\n got %x\nwant %s", v.name, got, v.want)
		}
	}
}

// The same expressions, evaluated by promisegrid.py now.
func TestEncodingMatchesPythonLive(t *testing.T) {
	top := repo()
	py, err := exec.LookPath("python3")
	if top == "" || err != nil {
		t.Skip("needs the repository and python3")
	}
	script := "import sys\nsys.dont_write_bytecode = True\n" +
		"sys.path.insert(0, " + `"` + filepath.Join(top, "userland/python") + `"` + ")\n" +
		"import promisegrid as pg\nL = pg._cidtag\nH = bytes.fromhex(\"" + helloPCID.Hex() + "\")\n"
	for _, v := range vectors {
		script += "print(" + v.py + ".hex())\n"
	}
	out, err := exec.Command(py, "-c", script).Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != len(vectors) {
		t.Fatalf("python printed %d lines, want %d", len(lines), len(vectors))
	}
	for i, v := range vectors {
		got, _ := v.gen()
		if hex.EncodeToString(got) != lines[i] {
			t.Errorf("%s:\n   go %x\npython %s", v.name, got, lines[i])
		}
	}
}

func TestPCIDsAreTheSpecsCIDs(t *testing.T) {
	top := repo()
	if top == "" {
		t.Skip("needs the repository")
	}
	for file, want := range map[string]CID{
		"pg-kernel-control-v4.md":  ControlPCID,
		"pg-kernel-delivery-v3.md": DeliveryPCID,
		"pg-function-call-v1.md":   FnReplyPCID,
		"example-hello-v1.md":      helloPCID,
	} {
		data, err := os.ReadFile(filepath.Join(top, "docs/protocols", file))
		if err != nil {
			t.Fatal(err)
		}
		if got := CIDOf(data); !got.Equal(want) {
			t.Errorf("%s: CID %s, constant %s", file, got.Hex(), want.Hex())
		}
	}
	// And the header's bytes: PG_PCID_CONTROL and PG_PCID_DELIVERY.
	h, err := os.ReadFile(filepath.Join(top, "uapi/linux/promisegrid.h"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]CID{"PG_PCID_CONTROL": ControlPCID, "PG_PCID_DELIVERY": DeliveryPCID} {
		i := bytes.Index(h, []byte("#define "+name+" {"))
		if i < 0 {
			t.Fatalf("%s not in the header", name)
		}
		body := string(h[i:])
		body = body[strings.Index(body, "{")+1 : strings.Index(body, "}")]
		var got []byte
		for _, f := range strings.FieldsFunc(body, func(r rune) bool { return strings.ContainsRune(", \t\n\\", r) }) {
			b, err := hex.DecodeString(strings.TrimPrefix(f, "0x"))
			if err != nil || len(b) != 1 {
				t.Fatalf("%s: bad byte %q", name, f)
			}
			got = append(got, b[0])
		}
		if !want.Equal(got) {
			t.Errorf("%s is %x, constant %s", name, got, want.Hex())
		}
	}
}

// tools/maint/pg-cid prints the base32 form and the hex of 00 + CID.
func TestCIDMatchesPgCid(t *testing.T) {
	top := repo()
	if top == "" {
		t.Skip("needs the repository")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("tools/maint/pg-cid needs python3")
	}
	files, _ := filepath.Glob(filepath.Join(top, "docs/protocols/*.md"))
	files = append(files, filepath.Join(top, "README.md"))
	for _, f := range files {
		out, err := exec.Command(filepath.Join(top, "tools/maint/pg-cid"), f).Output()
		if err != nil {
			t.Fatalf("pg-cid %s: %v", f, err)
		}
		lines := strings.Fields(string(out))
		data, _ := os.ReadFile(f)
		c := CIDOf(data)
		if len(lines) != 2 || lines[0] != c.String() || lines[1] != "00"+c.Hex() {
			t.Errorf("%s: pg-cid %q, Go %s 00%s", f, lines, c, c.Hex())
		}
		for _, s := range lines {
			p, err := ParseCID(s)
			if err != nil || !p.Equal(c) {
				t.Errorf("ParseCID(%q) = %x, %v", s, p, err)
			}
		}
	}
}

func TestParseCIDRefuses(t *testing.T) {
	for _, s := range []string{"", "b", "zz", "00", "0055122000", "bafk!", "02551220" + strings.Repeat("00", 32)} {
		if c, err := ParseCID(s); err == nil {
			t.Errorf("ParseCID(%q) = %x, want an error", s, c)
		}
	}
}

func TestSplit(t *testing.T) {
	var frames [][]byte
	var all []byte
	for _, v := range vectors {
		f, _ := v.gen()
		frames = append(frames, f)
		all = append(all, f...)
	}
	got, err := Split(all)
	if err != nil || len(got) != len(frames) {
		t.Fatalf("Split: %d items, %v", len(got), err)
	}
	for i := range got {
		if !bytes.Equal(got[i], frames[i]) {
			t.Errorf("item %d: %x, want %x", i, got[i], frames[i])
		}
	}
	if got, err := Split(nil); err != nil || len(got) != 0 {
		t.Errorf("Split(nil) = %v, %v", got, err)
	}
	if got, err := Split(all[:len(all)-1]); err == nil {
		t.Errorf("truncated sequence split into %d items", len(got))
	} else if len(got) != len(frames)-1 {
		t.Errorf("truncated sequence: %d whole items before the error, want %d", len(got), len(frames)-1)
	}
	if _, err := Split([]byte{0x9f, 0x01, 0xff}); err == nil {
		t.Error("indefinite length accepted")
	}
}

func TestParseFrame(t *testing.T) {
	f, _ := Frame(helloPCID, "hello", 1, helloPCID.Link())
	m, err := ParseFrame(f)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := m.Values()
	if err != nil || !m.PCID.Equal(helloPCID) || m.Attested() || m.Inner != m || !bytes.Equal(m.Frame, f) {
		t.Fatalf("parsed %v, %v", m, err)
	}
	if vals[0] != "hello" || vals[1] != uint64(1) {
		t.Errorf("values %#v", vals)
	}
	if c, ok := LinkCID(vals[2]); !ok || !c.Equal(helloPCID) {
		t.Errorf("link slot %#v", vals[2])
	}
	bad := map[string][]byte{
		"not a tag":          mustEncode(t, []interface{}{1, 2, 3}),
		"other tag":          mustEncode(t, cbor.Tag{Number: 7, Content: []interface{}{helloPCID.Link()}}),
		"no pCID":            mustEncode(t, cbor.Tag{Number: GridTag, Content: []interface{}{"no pcid"}}),
		"empty array":        mustEncode(t, cbor.Tag{Number: GridTag, Content: []interface{}{}}),
		"pCID without 00":    mustEncode(t, cbor.Tag{Number: GridTag, Content: []interface{}{cbor.Tag{Number: 42, Content: []byte(helloPCID)}}}),
		"truncated":          f[:len(f)-1],
		"two frames":         append(append([]byte{}, f...), f...),
		"bad delivery shape": mustFrame(t, DeliveryPCID, []uint64{1, 2, 3}, cbor.RawMessage(f)),
	}
	for name, b := range bad {
		if _, err := ParseFrame(b); !errors.Is(err, ErrNotFrame) {
			t.Errorf("%s: %v, want ErrNotFrame", name, err)
		}
	}
}

func mustEncode(t *testing.T, v interface{}) []byte {
	b, err := Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustFrame(t *testing.T, pcid CID, slots ...interface{}) []byte {
	b, err := Frame(pcid, slots...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDelivery(t *testing.T) {
	inner, _ := Frame(helloPCID, "hello", 42)
	// What the kernel writes: its envelope, then the frame byte for byte.
	local := []interface{}{4, 123, 0, 0, nil}
	d := append(mustEncode(t, cbor.Tag{Number: GridTag, Content: []interface{}{DeliveryPCID.Link(), local}}), inner...)
	d[5]++ // the array holds three items, not two
	if b := mustFrame(t, DeliveryPCID, local, cbor.RawMessage(inner)); !bytes.Equal(b, d) {
		t.Fatalf("a RawMessage slot is not embedded as it is:\n%x\n%x", b, d)
	}
	m, err := ParseFrame(d)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Attested() || *m.Sender != (Sender{4, 123, 0, 0, ""}) || !bytes.Equal(m.Frame, inner) ||
		!m.Inner.PCID.Equal(helloPCID) {
		t.Fatalf("delivery %v sender %v", m, m.Sender)
	}
	c, err := ParseCall(m)
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Outcome != Malformed || fe.Errno != syscall.EBADMSG {
		t.Errorf("a non-call parsed as a call: %v, %v", c, err)
	}
	call, parent, _ := CallFrame(helloPCID, 9, []byte("x y"))
	m, err = ParseFrame(mustFrame(t, DeliveryPCID, []interface{}{5, 1, 2, 3, "hostB"}, cbor.RawMessage(call)))
	if err != nil || m.Sender.Host != "hostB" {
		t.Fatalf("a gateway's delivery: %v, %+v", err, m)
	}
	if _, err := ParseFrame(mustFrame(t, DeliveryPCID, []uint64{5, 1, 2, 3}, cbor.RawMessage(call))); err == nil {
		t.Error("a delivery-v2 attestation (four ids) parsed")
	}
	c, err = ParseCall(m)
	if err != nil || c.Caller != 5 || c.Nonce != 9 || string(c.Body) != "x y" || !c.Parent.Equal(parent) ||
		!parent.Equal(CIDOf(call)) {
		t.Errorf("call %+v, %v", c, err)
	}
}

// Wait pairs a reply with its call by the parent CID and reads its fields;
// the replies are put where a read would have left them.
func TestWaitForReply(t *testing.T) {
	_, parent, _ := CallFrame(helloPCID, 1, []byte("a"))
	_, other, _ := CallFrame(helloPCID, 2, []byte("a"))
	msg := func(f []byte, err error) *Message {
		m, perr := ParseFrame(f)
		if err != nil || perr != nil {
			t.Fatal(err, perr)
		}
		return m
	}
	e := &Endpoint{pending: []*Message{
		msg(ReplyFrame(other, Kept, []byte("not mine"))),
		msg(ReplyFrame(parent, Kept, []byte("mine"))),
	}}
	out, err := e.Wait(parent, 0)
	if err != nil || string(out) != "mine" || len(e.pending) != 1 {
		t.Fatalf("Wait: %q, %v, %d left", out, err, len(e.pending))
	}
	e.pending = []*Message{msg(ReplyFrame(other, NotPromised, ErrorResult(&FunctionError{
		Errno: syscall.EREMOTEIO, Reason: "exit 5", Status: 5, Signal: -1, Stderr: []byte("oops")})))}
	_, err = e.Wait(other, 0)
	var fe *FunctionError
	if !errors.As(err, &fe) || !errors.Is(err, syscall.EREMOTEIO) || fe.Outcome != NotPromised ||
		fe.Reason != "exit 5" || fe.Status != 5 || fe.Signal != -1 || string(fe.Stderr) != "oops" {
		t.Fatalf("error reply: %#v", err)
	}
	e.pending = []*Message{msg(ReplyFrame(other, Kept, map[string]interface{}{"errno": 1}))}
	if _, err = e.Wait(other, 0); !errors.Is(err, syscall.EPROTO) {
		t.Errorf("a kept reply without bytes: %v, want EPROTO", err)
	}
}

func TestErrorsUnwrapToErrno(t *testing.T) {
	var err error = &KernelError{Errno: syscall.EEXIST, Reason: "already", Outcome: NotPromised}
	if !errors.Is(err, syscall.EEXIST) || !errors.Is(err, os.ErrExist) || err.Error() != "already (not_promised: file exists)" {
		t.Errorf("KernelError: %v", err)
	}
	err = noWorkerError{&os.PathError{Op: "write", Path: Device, Err: syscall.EHOSTUNREACH}}
	if !errors.Is(err, ErrNoWorker) || !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Errorf("no worker: %v", err)
	}
}
