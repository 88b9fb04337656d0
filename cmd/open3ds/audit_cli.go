package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/open3ds/open3ds/internal/audit"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/store"
)

// Every change made from the command line to a role's store is recorded in that store's audit log,
// as the console's and the admin API's are: who ran it (the operating-system user, or
// OPEN3DS_ACTOR), the command, what it named, and which flags were given. Flag values are not
// recorded (a cardholder's PAN, a key): only the names of the flags, and the target from the flags
// that name a record (--id, --name, --reference, --ref, --start, --issuer: the first given), a card range's start masked.

// readOnlyVerbs change nothing and leave no entry.
var readOnlyVerbs = map[string]bool{"list": true, "show": true, "get": true}

// auditedEnrol wraps an enrol part so that a change it made successfully is recorded.
func auditedEnrol(subject string, c command) command {
	run := c.run
	c.run = func(ctx context.Context, e env, args []string) error {
		if err := run(ctx, e, args); err != nil {
			return err
		}
		if len(args) == 0 || readOnlyVerbs[args[0]] || isHelp(args) {
			return nil
		}
		return recordCLIChange(ctx, e, "enrol."+subject+"."+args[0], args[1:])
	}
	return c
}

func isHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// cliFlags reads the flag names and the values of the few that matter here out of args, as the
// flag package would: -name value, --name value, --name=value; booleans take no value, which
// cannot be told from the outside, so a flag followed by another flag is taken as a boolean.
func cliFlags(args []string) (names []string, values map[string]string) {
	values = map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name := strings.TrimLeft(a, "-")
		val, hasVal := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, val, hasVal = k, v, true
		} else if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			val, hasVal = args[i+1], true
			i++
		}
		names = append(names, "--"+name)
		if hasVal {
			values[name] = val
		}
	}
	return names, values
}

// recordCLIChange writes the audit entry of a command that changed the store its --dsn (or
// OPEN3DS_DSN) names. A failure to record is an error: the change is made, but the operator must
// know its record is missing.
func recordCLIChange(ctx context.Context, e env, action string, args []string) error {
	names, values := cliFlags(args)
	dsn := values["dsn"]
	if dsn == "" {
		dsn = e.getenv("OPEN3DS_DSN")
	}
	if dsn == "" {
		return nil // the command itself would have refused to run without a store
	}
	target := ""
	for _, k := range []string{"id", "name", "reference", "ref", "start", "issuer"} {
		if v := values[k]; v != "" {
			// A card range is named by its first PAN: masked like every card number we keep.
			target = logx.RedactText(v)
			break
		}
	}
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return fmt.Errorf("the change is made, but its audit entry could not be written: %w", err)
	}
	defer db.Close()
	var given []string
	for _, n := range names {
		if n != "--dsn" {
			given = append(given, n)
		}
	}
	entry := audit.Entry{Actor: audit.CLIActor(e.getenv), Via: audit.ViaCLI, Action: action, Target: target,
		Detail: strings.Join(given, " ")}
	if err := audit.New(db).Record(ctx, entry); err != nil {
		return fmt.Errorf("the change is made, but its audit entry could not be written: %w", err)
	}
	return nil
}
