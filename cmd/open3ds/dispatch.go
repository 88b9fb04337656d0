package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// group is a command whose first argument picks one of several parts, each registered by the file that
// implements it: `open3ds serve ds|acs|3dss` and `open3ds enrol acs|range|issuer|cardholder|…`. Each role's
// files add their own parts, so no file lists another role's.
type group struct {
	name    string
	what    string // what the first argument names, for messages: "role", "subject"
	summary string
	parts   map[string]command
	// wrap, when set, wraps each part as it is added (the enrol parts are audited).
	wrap func(name string, c command) command
}

var (
	serveGroup = &group{name: "serve", what: "role", summary: "run one role's servers (`open3ds serve -h` lists the roles)"}
	enrolGroup = &group{name: "enrol", what: "subject", summary: "administer a registry from the command line (`open3ds enrol -h`)",
		wrap: auditedEnrol}
)

// add registers one part of the group; it panics on a duplicate, which is a programming error. The
// group's own command appears (in `open3ds help`) only once it has a part, so help lists only what works.
func (g *group) add(c command) {
	if g.parts == nil {
		g.parts = map[string]command{}
		register(command{name: g.name, summary: g.summary, run: g.run})
	}
	if _, dup := g.parts[c.name]; dup {
		panic("open3ds: " + g.name + " " + c.name + " registered twice")
	}
	if g.wrap != nil {
		c = g.wrap(c.name, c)
	}
	g.parts[c.name] = c
}

func (g *group) run(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		w := e.stdout
		if len(args) == 0 {
			w = e.stderr
		}
		g.help(w)
		if len(args) == 0 {
			return usageError("%s needs a %s", g.name, g.what)
		}
		return nil
	}
	c, ok := g.parts[args[0]]
	if !ok {
		g.help(e.stderr)
		return usageError("unknown %s %q for %s", g.what, args[0], g.name)
	}
	return c.run(ctx, e, args[1:])
}

func (g *group) help(w io.Writer) {
	names := make([]string, 0, len(g.parts))
	width := 0
	for n := range g.parts {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: open3ds %s <%s> [flags]\n\n", g.name, g.what)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, n, g.parts[n].summary)
	}
	io.WriteString(w, b.String())
}
