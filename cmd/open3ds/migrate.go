package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/open3ds/open3ds/internal/store"
)

func init() {
	register(command{
		name:    "migrate",
		summary: "apply schema migrations to a store (PostgreSQL; SQLite migrates itself)",
		run:     runMigrate,
	})
}

// migrateDSNEnv is the variable migrate reads the store from when --dsn is not given: the roles' own.
const migrateDSNEnv = "OPEN3DS_DSN"

// runMigrate applies pending migrations, or with --status only reports the schema version. The DSN
// comes from --dsn or else OPEN3DS_DSN, so that a deployment can run the command with the same
// environment as its servers.
func runMigrate(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	dsnFlag := fs.String("dsn", "", "the store: postgres://… or sqlite:PATH (default $OPEN3DS_DSN)")
	status := fs.Bool("status", false, "print the current and latest schema versions and change nothing")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: open3ds migrate [--dsn DSN] [--status]\n\n"+
			"Applies the schema migrations the store lacks, each once even when several instances run\n"+
			"this at once, and prints those it applied.\n\n")
		fs.PrintDefaults()
	}
	if ok, err := parseNoArgs(fs, args); !ok {
		return err
	}
	dsn, err := storeDSN(e, *dsnFlag, "migrate")
	if err != nil {
		return err
	}

	if *status {
		st, err := store.Status(ctx, dsn)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "current version: %d\nlatest version:  %d\n", st.Current, st.Latest)
		for _, m := range st.Pending {
			fmt.Fprintf(e.stdout, "pending: %s\n", m)
		}
		return nil
	}

	applied, err := store.Migrate(ctx, dsn)
	for _, m := range applied {
		fmt.Fprintf(e.stdout, "applied: %s\n", m)
	}
	if err != nil {
		return err
	}
	st, err := store.Status(ctx, dsn)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(e.stdout, "nothing to apply: the schema is at version %d\n", st.Current)
	} else {
		fmt.Fprintf(e.stdout, "the schema is at version %d\n", st.Current)
	}
	return nil
}
