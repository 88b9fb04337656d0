package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/open3ds/open3ds/internal/audit"
	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/store"
)

func init() {
	register(command{name: "console", summary: "operations console accounts: console account add|list|access|unlock|reset|disable|enable|remove", run: runConsole})
}

var consoleVerbs = []string{"add", "list", "access", "unlock", "reset", "disable", "enable", "remove"}

// runConsole manages the console accounts kept in a role's store. A new account's password, or a
// reset one, is printed once; every change is recorded in the store's audit log.
func runConsole(ctx context.Context, e env, args []string) error {
	if len(args) < 2 || args[0] != "account" || !enrolContains(consoleVerbs, args[1]) {
		return usageError("usage: open3ds console account %s --dsn … [--name NAME] [--access admin|operator|read-only]",
			strings.Join(consoleVerbs, "|"))
	}
	verb := args[1]
	fs := flag.NewFlagSet("console account "+verb, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	dsn := fs.String("dsn", "", "the role's store: postgres://… or sqlite:PATH (default $OPEN3DS_DSN)")
	name := fs.String("name", "", "the account's name")
	access := fs.String("access", "operator", "admin, operator or read-only (add, access)")
	secondFactor := fs.Bool("second-factor", false, "reset: remove the authenticator app too, to be enrolled again at the next sign-in")
	if err := fs.Parse(args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{code: 2}
	}
	if err := enrolDSN(e, dsn, "console account"); err != nil {
		return err
	}
	if verb != "list" && *name == "" {
		return usageError("console account %s needs --name", verb)
	}
	db, err := store.Open(ctx, *dsn, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	acc := console.NewAccounts(db, nil, console.DefaultPolicy)
	var out any
	detail := ""
	switch verb {
	case "list":
		list, err := acc.List(ctx)
		if err != nil {
			return err
		}
		if list == nil {
			list = []console.Account{}
		}
		b, _ := json.MarshalIndent(list, "", "  ")
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	case "add":
		a, err := console.ParseAccess(*access)
		if err != nil {
			return usageError("--access %s", err)
		}
		pw, err := acc.Create(ctx, *name, a, "")
		if err != nil {
			return consoleCmdError(err)
		}
		out, detail = map[string]string{"name": *name, "access": string(a), "password": pw}, "access "+string(a)
	case "access":
		a, err := console.ParseAccess(*access)
		if err != nil {
			return usageError("--access %s", err)
		}
		if err := acc.SetAccess(ctx, *name, a); err != nil {
			return consoleCmdError(err)
		}
		detail = "access " + string(a)
	case "unlock":
		err = acc.Unlock(ctx, *name)
	case "reset":
		var pw string
		pw, err = acc.ResetPassword(ctx, *name, "", *secondFactor)
		out = map[string]string{"name": *name, "password": pw}
		if *secondFactor {
			detail = "password and authenticator app reset"
		}
	case "disable", "enable":
		err = acc.SetDisabled(ctx, *name, verb == "disable")
	case "remove":
		err = acc.Delete(ctx, *name)
	}
	if err != nil {
		return consoleCmdError(err)
	}
	entry := audit.Entry{Actor: audit.CLIActor(e.getenv), Via: audit.ViaCLI, Action: "account." + verb, Target: *name, Detail: detail}
	if err := audit.New(db).Record(ctx, entry); err != nil {
		return fmt.Errorf("the change is made, but its audit entry could not be written: %w", err)
	}
	if out != nil {
		b, _ := json.MarshalIndent(out, "", "  ")
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s: %s done\n", *name, verb)
	return err
}

// consoleCmdError turns the accounts' own errors into the command's: a usage error names the flag.
func consoleCmdError(err error) error {
	var fe *console.FieldError
	switch {
	case errors.As(err, &fe):
		return usageError("--%s %s", fe.Field, fe.Problem)
	case errors.Is(err, console.ErrExists):
		return usageError("--name: an account of that name exists")
	case errors.Is(err, console.ErrNoAccount):
		return usageError("--name: no such account")
	}
	return err
}
