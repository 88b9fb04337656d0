package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/open3ds/open3ds/internal/store"
)

// This file is what the enrol commands share: finding the store (--dsn or OPEN3DS_DSN), reading a
// verb and its flags, the add / change / list / remove flow over one registry, and printing records
// as indented JSON. Each role's registries keep their own flags and store calls in their own files.

// enrolDSN fills *dsn from OPEN3DS_DSN when --dsn was not given; who names the command in the error.
func enrolDSN(e env, dsn *string, who string) error {
	if *dsn == "" {
		*dsn = e.getenv("OPEN3DS_DSN")
	}
	if *dsn == "" {
		return usageError("%s needs a store: pass --dsn or set OPEN3DS_DSN", who)
	}
	return nil
}

// enrolCmd is what the JSON-printing enrol sub-commands share (the DS's registries and the 3DS
// Server's merchants): their flags, the store flag and the verb.
type enrolCmd struct {
	e     env
	fs    *flag.FlagSet
	dsn   *string
	verb  string
	given map[string]bool
}

func newEnrolCmd(e env, subject string, args []string, verbs ...string) (*enrolCmd, []string, error) {
	if len(args) == 0 || !enrolContains(verbs, args[0]) {
		return nil, nil, usageError("enrol %s needs one of: %s", subject, strings.Join(verbs, ", "))
	}
	fs := flag.NewFlagSet("enrol "+subject+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c := &enrolCmd{e: e, fs: fs, verb: args[0], dsn: fs.String("dsn", "", "the store: postgres://… or sqlite:PATH (default $OPEN3DS_DSN)")}
	return c, args[1:], nil
}

func enrolContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// open reads the flags, notes which were given, and opens the store; the caller closes it.
func (c *enrolCmd) open(ctx context.Context, args []string) (*store.DB, error) {
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitError{code: 0}
		}
		return nil, exitError{code: 2}
	}
	if c.fs.NArg() > 0 {
		return nil, usageError("unexpected arguments %q", strings.Join(c.fs.Args(), " "))
	}
	c.given = map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { c.given[f.Name] = true })
	if err := enrolDSN(c.e, c.dsn, "enrol"); err != nil {
		return nil, err
	}
	return store.Open(ctx, *c.dsn, store.Options{})
}

// set copies a flag's value into dst when the flag was given (or always, for add).
func (c *enrolCmd) set(dst *string, name string, v *string) {
	if c.verb == "add" || c.verb == "set" || c.given[name] {
		*dst = *v
	}
}

func (c *enrolCmd) print(v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.e.stdout, "%s\n", data)
	return err
}

// enrolRegistry is one registry's verbs, for enrolRecords.
type enrolRegistry[T any] struct {
	list   func(context.Context) (any, error)
	remove func(context.Context) error
	load   func(context.Context) (T, error) // the stored record that change starts from
	fill   func(*T)                         // copies the given flags into the record
	add    func(context.Context, T) error
	change func(context.Context, T) error
}

// enrolRecords runs c's verb on a registry: list and print; remove; or add (starting from fresh) or
// change (starting from the stored record) with the given flags, printing the record written.
func enrolRecords[T any](ctx context.Context, c *enrolCmd, fresh T, r enrolRegistry[T]) error {
	switch c.verb {
	case "list":
		list, err := r.list(ctx)
		if err != nil {
			return err
		}
		return c.print(list)
	case "remove":
		return r.remove(ctx)
	}
	rec, err := fresh, error(nil)
	if c.verb == "change" {
		if rec, err = r.load(ctx); err != nil {
			return err
		}
	}
	r.fill(&rec)
	if c.verb == "add" {
		err = r.add(ctx, rec)
	} else {
		err = r.change(ctx, rec)
	}
	if err != nil {
		return err
	}
	return c.print(rec)
}

// splitList reads a comma-separated flag, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
