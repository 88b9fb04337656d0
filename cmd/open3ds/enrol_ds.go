package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/store"
)

func init() {
	enrolGroup.add(command{name: "acs", summary: "the DS's ACSs: add | change | list | remove", run: runEnrolDSACS})
	enrolGroup.add(command{name: "3dss", summary: "the DS's 3DS Servers and their requestor ids: add | change | list | remove", run: runEnrolDS3DSS})
	enrolGroup.add(command{name: "range", summary: "the DS's card ranges: add | change | list | remove", run: runEnrolDSRange})
	enrolGroup.add(command{name: "scheme", summary: "the DS's scheme settings (DS id, ECI, stand-in): set | show", run: runEnrolDSScheme})
}

// dsEnrolCmd is what every DS enrol sub-command shares: its flags, the store flag and the verb.
type dsEnrolCmd struct {
	e     env
	fs    *flag.FlagSet
	dsn   *string
	verb  string
	given map[string]bool
}

func dsNewEnrolCmd(e env, subject string, args []string, verbs ...string) (*dsEnrolCmd, []string, error) {
	if len(args) == 0 || !dsContains(verbs, args[0]) {
		return nil, nil, usageError("enrol %s needs one of: %s", subject, strings.Join(verbs, ", "))
	}
	fs := flag.NewFlagSet("enrol "+subject+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c := &dsEnrolCmd{e: e, fs: fs, verb: args[0], dsn: fs.String("dsn", "", "the store: postgres://… or sqlite:PATH (default $OPEN3DS_DSN)")}
	return c, args[1:], nil
}

func dsContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// parse reads the flags and opens the DS store.
func (c *dsEnrolCmd) parse(ctx context.Context, args []string) (*ds.SQLStore, func(), error) {
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, exitError{code: 0}
		}
		return nil, nil, exitError{code: 2}
	}
	if c.fs.NArg() > 0 {
		return nil, nil, usageError("unexpected arguments %q", strings.Join(c.fs.Args(), " "))
	}
	c.given = map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { c.given[f.Name] = true })
	if *c.dsn == "" {
		*c.dsn = c.e.getenv("OPEN3DS_DSN")
	}
	if *c.dsn == "" {
		return nil, nil, usageError("enrol needs a store: pass --dsn or set OPEN3DS_DSN")
	}
	db, err := store.Open(ctx, *c.dsn, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	return ds.NewSQLStore(db), func() { db.Close() }, nil
}

// set copies a flag's value into dst when the flag was given (or always, for add).
func (c *dsEnrolCmd) set(dst *string, name string, v *string) {
	if c.verb == "add" || c.verb == "set" || c.given[name] {
		*dst = *v
	}
}

func (c *dsEnrolCmd) print(v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.e.stdout, "%s\n", data)
	return err
}

func dsSplitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func runEnrolDSACS(ctx context.Context, e env, args []string) error {
	c, args, err := dsNewEnrolCmd(e, "acs", args, "add", "change", "list", "remove")
	if err != nil {
		return err
	}
	name := c.fs.String("name", "", "the ACS's name: the identity in its client certificate")
	ref := c.fs.String("ref", "", "its EMVCo reference number (acsReferenceNumber)")
	op := c.fs.String("operator-id", "", "its operator id (acsOperatorID)")
	url := c.fs.String("url", "", "the HTTPS URL where it takes AReq")
	st, done, err := c.parse(ctx, args)
	if err != nil {
		return err
	}
	defer done()
	switch c.verb {
	case "list":
		list, err := st.ListACS(ctx)
		if err != nil {
			return err
		}
		return c.print(list)
	case "remove":
		return st.RemoveACS(ctx, *name)
	}
	a := ds.ACS{Name: *name}
	if c.verb == "change" {
		if a, err = st.ACS(ctx, *name); err != nil {
			return fmt.Errorf("ACS %q: %w", *name, err)
		}
	}
	c.set(&a.ReferenceNumber, "ref", ref)
	c.set(&a.OperatorID, "operator-id", op)
	c.set(&a.URL, "url", url)
	if c.verb == "add" {
		err = st.AddACS(ctx, a)
	} else {
		err = st.ChangeACS(ctx, a)
	}
	if err != nil {
		return err
	}
	return c.print(a)
}

func runEnrolDS3DSS(ctx context.Context, e env, args []string) error {
	c, args, err := dsNewEnrolCmd(e, "3dss", args, "add", "change", "list", "remove")
	if err != nil {
		return err
	}
	name := c.fs.String("name", "", "the 3DS Server's name: the identity in its client certificate")
	ref := c.fs.String("ref", "", "its EMVCo reference number (threeDSServerRefNumber)")
	op := c.fs.String("operator-id", "", "its operator id (threeDSServerOperatorID)")
	reqs := c.fs.String("requestors", "", "comma-separated 3DS Requestor ids it may send AReqs for")
	st, done, err := c.parse(ctx, args)
	if err != nil {
		return err
	}
	defer done()
	switch c.verb {
	case "list":
		list, err := st.ListThreeDSServers(ctx)
		if err != nil {
			return err
		}
		return c.print(list)
	case "remove":
		return st.RemoveThreeDSServer(ctx, *name)
	}
	s := ds.ThreeDSServer{Name: *name}
	if c.verb == "change" {
		if s, err = st.ThreeDSServer(ctx, *name); err != nil {
			return fmt.Errorf("3DS Server %q: %w", *name, err)
		}
	}
	c.set(&s.ReferenceNumber, "ref", ref)
	c.set(&s.OperatorID, "operator-id", op)
	if c.verb == "add" || c.given["requestors"] {
		s.RequestorIDs = dsSplitList(*reqs)
	}
	if c.verb == "add" {
		err = st.AddThreeDSServer(ctx, s)
	} else {
		err = st.ChangeThreeDSServer(ctx, s)
	}
	if err != nil {
		return err
	}
	return c.print(s)
}
