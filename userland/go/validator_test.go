// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The PromiseGrid kernel module authors.

// Host test: what fxamacker/cbor's core deterministic options write is
// what the module's validator accepts. tools/cbor-check runs the module's
// own validator source (kmod/pg_cbor.c, kmod/pg_envelope.c) on the host.

package promisegrid

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// floats covers each width fxamacker/cbor picks and the special values:
// the module requires the shortest exact form and NaN as f97e00.
var floats = []interface{}{
	0.0, math.Copysign(0, -1), 1.5, -2.0, 65504.0, 5.960464477539063e-8, 6.103515625e-05,
	100000.0, 3.4028234663852886e+38, 1.1, 1e300, 4.9e-324, math.Inf(1), math.Inf(-1),
	math.NaN(), math.Float64frombits(0x7ff0000000000001), float32(0.1), float32(1.0),
	float32(math.Inf(1)),
}

// randomValue is a random grid-cbor value at most depth levels deep.
func randomValue(r *rand.Rand, depth int) interface{} {
	k := r.Intn(12)
	if depth <= 0 && k >= 8 {
		k = r.Intn(8)
	}
	switch k {
	case 0:
		return r.Uint64() >> uint(r.Intn(64))
	case 1:
		return -1 - int64(r.Uint64()>>uint(1+r.Intn(63)))
	case 2:
		b := make([]byte, r.Intn(40))
		r.Read(b)
		return b
	case 3:
		return strings.Repeat("é", r.Intn(5)) + fmt.Sprint(r.Int())
	case 4:
		return []interface{}{true, false, nil}[r.Intn(3)]
	case 5:
		return math.Float64frombits(r.Uint64())
	case 6:
		return floats[r.Intn(len(floats))]
	case 7:
		return CIDOf([]byte(fmt.Sprint(r.Int()))).Link()
	case 8:
		a := make([]interface{}, r.Intn(5))
		for i := range a {
			a[i] = randomValue(r, depth-1)
		}
		return a
	case 9:
		m := map[string]interface{}{}
		for i := r.Intn(6); i > 0; i-- {
			m[fmt.Sprint(r.Intn(1000))] = randomValue(r, depth-1)
		}
		return m
	case 10:
		m := map[interface{}]interface{}{}
		for i := r.Intn(6); i > 0; i-- {
			m[int64(r.Intn(600)-300)] = randomValue(r, depth-1)
		}
		return m
	default:
		return cbor.Tag{Number: uint64(r.Intn(1000)) + 100, Content: randomValue(r, depth-1)}
	}
}

func TestKernelValidatorAcceptsFxamacker(t *testing.T) {
	top := repo()
	if top == "" {
		t.Skip("needs the repository")
	}
	check := filepath.Join(top, "tools/cbor-check/cbor-check")
	if _, err := os.Stat(check); err != nil {
		t.Skip("tools/cbor-check not built (make tools)")
	}
	accepts := func(what string, f []byte) {
		t.Helper()
		cmd := exec.Command(check, "--deterministic", "--frame")
		cmd.Stdin = bytes.NewReader(f)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: cbor-check refuses %x: %v %s", what, f, err, out)
		}
	}
	for _, v := range vectors {
		f, _ := v.gen()
		accepts(v.name, f)
	}
	for _, x := range floats {
		accepts(fmt.Sprintf("float %v", x), mustFrame(t, helloPCID, x))
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		slots := make([]interface{}, 1+r.Intn(4))
		for j := range slots {
			slots[j] = randomValue(r, 4)
		}
		accepts(fmt.Sprintf("random frame %d", i), mustFrame(t, helloPCID, slots...))
	}
	// And it refuses what is not deterministic, so the test can fail.
	cmd := exec.Command(check, "--deterministic", "--frame")
	f := mustFrame(t, helloPCID, 1)
	cmd.Stdin = bytes.NewReader(append(f[:len(f)-1:len(f)-1], 0x18, 0x01))
	if cmd.Run() == nil {
		t.Error("cbor-check accepts a non-shortest head")
	}
}
