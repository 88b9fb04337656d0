package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/open3ds/open3ds/internal/emv"
)

// maxMessageSize bounds what validate reads. The largest element the protocol allows, sdkEncData, is
// 64000 characters; a megabyte leaves room for everything else without reading a runaway file whole.
const maxMessageSize = 1 << 20

func init() {
	register(command{
		name:    "validate",
		summary: "check one EMV 3DS message (file or -) and print the Erro it would earn",
		run:     runValidate,
	})
}

func runValidate(_ context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: open3ds validate [flags] FILE|-\n\n"+
			"Validates one message as the chosen component would on receipt. Prints `valid <type> <version>`\n"+
			"and exits 0, or prints the Erro it would answer with and exits 1. A file it cannot read exits 2.\n\nFlags:")
		fs.PrintDefaults()
	}
	areqPath := fs.String("areq", "", "the transaction's AReq `file`, for the rules of an ARes, CReq, CRes, RReq or RRes")
	component := fs.String("component", string(emv.ComponentDS), "the component that receives it, which the Erro names: A, D, S or C")
	only := fs.String("type", "", "accept only this message `type`, as an endpoint does (e.g. RReq); another is 101")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError("validate: %v", err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError("validate: want one FILE or -, got %d arguments", fs.NArg())
	}
	comp := emv.Component(*component)
	if !slices.Contains([]emv.Component{emv.ComponentACS, emv.ComponentDS, emv.ComponentThreeDSServ, emv.ComponentSDK}, comp) {
		return usageError("validate: --component %q: want A, D, S or C", *component)
	}
	if *only != "" && !slices.Contains(emv.MessageTypes, *only) {
		return usageError("validate: --type %q: want one of %s", *only, strings.Join(emv.MessageTypes, ", "))
	}

	var c *emv.Context
	if *areqPath != "" {
		data, err := readMessage(e, *areqPath)
		if err != nil {
			return err
		}
		m, err := emv.ParseAs(data, emv.TypeAReq, nil)
		if err != nil {
			// The context is the operator's input, not the message under test: say what is wrong
			// with it rather than print an Erro nobody would send.
			return fmt.Errorf("validate: --areq %s is not a valid AReq: %w", *areqPath, err)
		}
		c = &emv.Context{AReq: m.(*emv.AReq)}
	}

	data, err := readMessage(e, fs.Arg(0))
	if err != nil {
		return err
	}
	var m emv.Message
	if *only != "" {
		m, err = emv.ParseAs(data, *only, c)
	} else {
		m, err = emv.Parse(data, c)
	}
	if err == nil {
		fmt.Fprintf(e.stdout, "valid %s %s\n", m.Type(), m.Version())
		return nil
	}
	// An Erro answering an unreadable message speaks the newest version we do, as a role would.
	erro := emv.ErroFor(err, comp, emv.Versions[len(emv.Versions)-1])
	// Print exactly what would go on the wire, only indented for a reader.
	wire, merr := emv.Marshal(erro)
	if merr != nil {
		return fmt.Errorf("validate: %w", merr)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, wire, "", "  "); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	out.WriteByte('\n')
	if _, err := e.stdout.Write(out.Bytes()); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	return exitError{code: 1}
}

// unreadable ends validate with status 2, as a usage mistake does: 1 means the message was read
// and is invalid, and a script must be able to tell the two apart.
func unreadable(err error) error {
	return exitError{code: 2, msg: "validate: " + err.Error()}
}

// readMessage reads a file, or standard input for "-", up to maxMessageSize.
func readMessage(e env, path string) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = e.stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, unreadable(err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxMessageSize+1))
	if err != nil {
		return nil, unreadable(fmt.Errorf("reading %s: %w", path, err))
	}
	if len(data) > maxMessageSize {
		return nil, fmt.Errorf("validate: %s is larger than %d bytes", path, maxMessageSize)
	}
	return data, nil
}
