// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright (C) 2026 The PromiseGrid kernel module authors.

// Command pg-go-example shows the Go client (needs the module loaded):
//
//	pg-go-example exchange               an attested exchange in one process
//	pg-go-example call PCID <input       call a function, print its result
//	pg-go-example serve PCID GROUP       a word-count worker
//
// PCID is written as `pg cid` prints it: base32 ("bafk...") or hex.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	pg "promisegrid.local/promisegrid"
)

// pg.CIDOf(docs/protocols/example-hello-v1.md)
var helloPCID, _ = pg.ParseCID("01551220009e80b24b5a450fcca0eaf98a0955c8a940ed055a34a3476bd2ebeeca1b3eac")

func exchange() error {
	receiver, err := pg.Open()
	if err != nil {
		return err
	}
	defer receiver.Close()
	sender, err := pg.Open()
	if err != nil {
		return err
	}
	defer sender.Close()
	if err := receiver.Receive(helloPCID, pg.ReceiveOptions{Attest: true}); err != nil {
		return err
	}
	var frames [][]byte
	for n := 1; n <= 3; n++ {
		f, err := pg.Frame(helloPCID, "hello", n)
		if err != nil {
			return err
		}
		frames = append(frames, f)
	}
	n, err := sender.Send(frames...)
	if err != nil {
		return err
	}
	sid, _ := sender.ID()
	rid, _ := receiver.ID()
	fmt.Printf("endpoint %d wrote %d frames, %d bytes, in one write\n", sid, len(frames), n)
	var got []*pg.Message
	for len(got) < len(frames) {
		more, err := receiver.Recv(5 * time.Second)
		if err != nil {
			return err
		}
		if len(more) == 0 {
			return errors.New("timed out")
		}
		got = append(got, more...)
	}
	for _, m := range got {
		slots, err := m.Inner.Values()
		if err != nil {
			return err
		}
		s := m.Sender
		fmt.Printf("endpoint %d got %d bytes: %v from endpoint %d pid %d uid %d gid %d (written by the kernel)\n",
			rid, len(m.Raw), slots, s.Endpoint, s.PID, s.UID, s.GID)
	}
	return nil
}

func call(fn pg.CID, timeout time.Duration) error {
	ep, err := pg.Open()
	if err != nil {
		return err
	}
	defer ep.Close()
	body, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	out, err := ep.Call(fn, body, timeout)
	var fe *pg.FunctionError
	if errors.As(err, &fe) {
		os.Stderr.Write(fe.Stderr)
	}
	if err != nil {
		return err
	}
	if !strings.HasSuffix(string(out), "\n") {
		out = append(out, '\n')
	}
	_, err = os.Stdout.Write(out)
	return err
}

func serve(fn pg.CID, group string, count int) error {
	ep, err := pg.Open()
	if err != nil {
		return err
	}
	defer ep.Close()
	id, err := ep.ID()
	if err != nil {
		return err
	}
	// Join first, so that a call made once "serving" is printed finds us.
	if err := ep.Receive(fn, pg.ReceiveOptions{Group: group, Attest: true}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "endpoint %d serving %s in group %s\n", id, fn, group)
	n, err := ep.Serve(fn, group, func(c *pg.Incoming) ([]byte, error) {
		return []byte(fmt.Sprint(len(strings.Fields(string(c.Body))))), nil
	}, pg.ServeOptions{Count: count})
	fmt.Fprintf(os.Stderr, "served %d calls\n", n)
	return err
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: pg-go-example exchange | call [-timeout D] PCID | serve [-count N] PCID GROUP")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the result")
	count := fs.Int("count", 0, "stop after this many calls (0: never)")
	fs.Parse(os.Args[2:])
	args := fs.Args()
	var fn pg.CID
	if len(args) > 0 {
		var err error
		if fn, err = pg.ParseCID(args[0]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	var err error
	switch {
	case os.Args[1] == "exchange" && len(args) == 0:
		err = exchange()
	case os.Args[1] == "call" && len(args) == 1:
		err = call(fn, *timeout)
	case os.Args[1] == "serve" && len(args) == 2:
		err = serve(fn, args[1], *count)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
