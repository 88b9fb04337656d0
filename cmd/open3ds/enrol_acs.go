package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/vault"
)

func init() {
	enrolGroup.add(command{name: "issuer", summary: "ACS issuers: add|change|list|remove", run: runEnrolIssuer})
	enrolGroup.add(command{name: "cardholder", summary: "ACS cardholders: add|change|list|remove|import FILE.csv", run: runEnrolCardholder})
}

// acsFlags are the flags every ACS administration command takes: where the store is.
type acsFlags struct {
	fs  *flag.FlagSet
	dsn *string
}

func newACSFlags(e env, name, usage string) acsFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	f := acsFlags{fs: fs, dsn: fs.String("dsn", "", "the ACS store: sqlite:PATH or postgres://… (default $OPEN3DS_DSN)")}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: open3ds %s\n\n", usage)
		fs.PrintDefaults()
	}
	return f
}

// parse reads the flags; flag.ErrHelp comes back as acsErrHelp so that -h exits 0.
func (f acsFlags) parse(e env, args []string) error {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return acsErrHelp
		}
		return exitError{code: 2}
	}
	if f.fs.NArg() > 0 && f.fs.Name() != "cardholder import" {
		return usageError("%s takes no arguments, got %q", f.fs.Name(), strings.Join(f.fs.Args(), " "))
	}
	return enrolDSN(e, f.dsn, f.fs.Name())
}

var acsErrHelp = errors.New("help")

// set reports which flags the command line gave, so that change touches only those.
func (f acsFlags) set() map[string]bool {
	m := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { m[fl.Name] = true })
	return m
}

// acsVaultFromEnv reads the PAN keyring from OPEN3DS_VAULT_KEYS or the file OPEN3DS_VAULT_KEYS_FILE
// names; keys never come from flags, which other users of the machine can read.
func acsVaultFromEnv(e env) (*vault.Keyring, error) {
	spec := e.getenv("OPEN3DS_VAULT_KEYS")
	if p := e.getenv("OPEN3DS_VAULT_KEYS_FILE"); spec == "" && p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading OPEN3DS_VAULT_KEYS_FILE: %w", err)
		}
		spec = strings.TrimSpace(string(b))
	}
	if spec == "" {
		return nil, usageError("cardholder data needs the PAN keys: set OPEN3DS_VAULT_KEYS or OPEN3DS_VAULT_KEYS_FILE")
	}
	k, err := vault.ParseKeyring(spec)
	if err != nil {
		return nil, fmt.Errorf("OPEN3DS_VAULT_KEYS: %w", err)
	}
	return k, nil
}

// acsOpen opens the store; with needVault the PAN keys too.
func acsOpen(ctx context.Context, e env, dsn string, needVault bool) (*acs.SQLStore, func(), error) {
	var v acs.PANVault
	if needVault {
		k, err := acsVaultFromEnv(e)
		if err != nil {
			return nil, nil, err
		}
		v = acs.Vault(k)
	}
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	return acs.NewSQLStore(db, v), func() { db.Close() }, nil
}

// acsExplain turns a store error into a sentence for the operator, naming the field when there is one.
func acsExplain(err error, what string) error {
	var fe *acs.FieldError
	switch {
	case errors.As(err, &fe):
		return exitError{code: 1, msg: fmt.Sprintf("%s: %s %s", what, fe.Field, fe.Reason)}
	case errors.Is(err, store.ErrNotFound):
		return exitError{code: 1, msg: what + ": not found"}
	case errors.Is(err, store.ErrConflict):
		return exitError{code: 1, msg: what + ": conflicts with what is enrolled"}
	}
	return err
}

func acsTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }
