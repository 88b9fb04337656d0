package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/backtest"
	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/risk"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/vault"
)

var riskGroup = &group{name: "risk", what: "task", summary: "the ACS's risk rules: backtest a new rule set, import fraud reports (`open3ds risk -h`)"}

func init() {
	riskGroup.add(command{name: "backtest", summary: "replay the stored AReqs through new rules beside the live ones: backtest --rules FILE --since 30d", run: runRiskBacktest})
	riskGroup.add(command{name: "prune", summary: "delete stored risk inputs older than a retention period: prune --older-than 90d", run: runRiskPrune})
	riskGroup.add(command{name: "fraud", summary: "fraud reports: fraud import FILE.csv (docs/risk-backtest.md has the format)", run: runRiskFraud})
}

// riskNow is the clock of the risk commands; tests set it.
var riskNow = time.Now

// riskStoreFlags are where the ACS store and its PAN keys are: --dsn (or OPEN3DS_DSN) with
// OPEN3DS_VAULT_KEYS or OPEN3DS_VAULT_KEYS_FILE, as `serve acs` reads them, or else the demo's
// folder, found as bench finds it.
type riskStoreFlags struct {
	dsn, demo, config string
}

// riskACSConfig is `serve acs`'s configuration read for its store and PAN keys only: the same
// type without its Validate, since the listeners and certificates it also requires are not needed
// here.
type riskACSConfig acsConfig

func (f *riskStoreFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "the `serve acs` configuration file, for its dsn and vault_keys (default $OPEN3DS_CONFIG)")
	fs.StringVar(&f.dsn, "dsn", "", "the ACS store: sqlite:PATH or postgres://… (default $OPEN3DS_DSN; the PAN keys come from $OPEN3DS_VAULT_KEYS or $OPEN3DS_VAULT_KEYS_FILE)")
	fs.StringVar(&f.demo, "demo", "", "directory of the demo's demo.json (default ./"+benchDemoDefault+" when it has one and no store is given)")
}

// open opens the store with the vault that sealed its data.
func (f *riskStoreFlags) open(ctx context.Context, e env, who string) (*acs.SQLStore, func(), error) {
	if f.demo == "" && (f.config != "" || e.getenv(config.ConfigEnv) != "") {
		return f.openConfigured(ctx, e, who)
	}
	dsn := f.dsn
	if dsn == "" && f.demo == "" {
		dsn = e.getenv("OPEN3DS_DSN")
	}
	if dsn != "" {
		return acsOpen(ctx, e, dsn, true)
	}
	d, err := loadBenchDemo(f.demo)
	if err != nil {
		return nil, nil, err
	}
	if d == nil {
		return nil, nil, usageError("%s needs the ACS store: give --dsn (or set OPEN3DS_DSN) with OPEN3DS_VAULT_KEYS, or run in the folder where `open3ds demo` runs (or give --demo DIR)", who)
	}
	p := demoPathsIn(d.dir)
	raw, err := os.ReadFile(p.state)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, usageError("%s: the demo folder %s has no %s", who, d.dir, filepath.Base(p.state))
	}
	if err != nil {
		return nil, nil, err
	}
	var st demoState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, nil, fmt.Errorf("%s: %s is damaged: %v", who, p.state, err)
	}
	ring, err := vault.ParseKeyring(st.Secrets.VaultKeys)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: the demo's PAN keys: %w", who, err)
	}
	db, err := store.Open(ctx, p.acs, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	return acs.NewSQLStore(db, acs.Vault(ring)), func() { db.Close() }, nil
}

// openConfigured reads the store and the PAN keys as `serve acs` does: its configuration file,
// then OPEN3DS_* variables (and *_FILE secrets) over it, then --dsn over both.
func (f *riskStoreFlags) openConfigured(ctx context.Context, e env, who string) (*acs.SQLStore, func(), error) {
	getenv := func(k string) string {
		if k == config.ConfigEnv && f.config != "" {
			return f.config
		}
		return e.getenv(k)
	}
	var cfg riskACSConfig
	if err := config.Load(&cfg, nil, nil, getenv); err != nil {
		return nil, nil, usageError("%s: the ACS configuration: %v", who, err)
	}
	if f.dsn != "" {
		cfg.DSN = f.dsn
	}
	if cfg.DSN == "" {
		return nil, nil, usageError("%s: the ACS configuration names no dsn", who)
	}
	ring, err := vault.ParseKeyring(cfg.VaultKeys.Reveal())
	if err != nil {
		return nil, nil, usageError("%s: the ACS configuration's vault_keys: %v", who, err)
	}
	db, err := store.Open(ctx, cfg.DSN, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	return acs.NewSQLStore(db, acs.Vault(ring)), func() { db.Close() }, nil
}

func newRiskFlags(e env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: open3ds %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseRiskFlags parses args, allowing flags after the positional arguments too; it returns the
// positional ones. -h is not an error.
func parseRiskFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, flag.ErrHelp
			}
			return nil, exitError{code: 2}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func runRiskBacktest(ctx context.Context, e env, args []string) error {
	fs := newRiskFlags(e, "risk backtest", "risk backtest --rules FILE.yaml [--since 30d] [--until now] [--issuer ID] [--html FILE] [--json]")
	var sf riskStoreFlags
	sf.register(fs)
	rules := fs.String("rules", "", "the new rule file (the risk policy format); each issuer's live policy in it is replayed")
	since := fs.String("since", "30d", "start of the window: a span back from now (30d, 12h), a date (2026-11-01, UTC) or an RFC 3339 time")
	until := fs.String("until", "", "end of the window, in the same forms (default now)")
	issuer := fs.String("issuer", "", "replay one issuer's transactions only")
	html := fs.String("html", "", "also write the report as a self-contained HTML page to this file")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of a table")
	pos, err := parseRiskFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("risk backtest takes no arguments, got %q", strings.Join(pos, " "))
	}
	if *rules == "" {
		return usageError("risk backtest: --rules is required: the rule file to replay")
	}
	now := riskNow()
	o := backtest.Options{RulesName: filepath.Base(*rules), Issuer: *issuer, Until: now}
	if o.Since, err = backtest.ParseWhen(*since, now); err != nil {
		return usageError("risk backtest: --since %v", err)
	}
	if *until != "" {
		if o.Until, err = backtest.ParseWhen(*until, now); err != nil {
			return usageError("risk backtest: --until %v", err)
		}
	}
	if !o.Until.After(o.Since) {
		return usageError("risk backtest: --until (%s) must be after --since (%s)", o.Until.Format(time.RFC3339), o.Since.Format(time.RFC3339))
	}
	if o.Rules, err = risk.LoadSet(*rules); err != nil {
		return usageError("risk backtest: --rules %v", err)
	}
	st, closeStore, err := sf.open(ctx, e, "risk backtest")
	if err != nil {
		return err
	}
	defer closeStore()
	rep, err := backtest.Run(ctx, st, o, now)
	if errors.Is(err, backtest.ErrUnknownIssuer) {
		return usageError("risk backtest: --issuer: %v", err)
	}
	if err != nil {
		return exitError{code: 1, msg: err.Error()}
	}
	if *html != "" {
		if err := writeFileWith(*html, func(f *os.File) error { return backtest.WriteHTML(f, rep) }); err != nil {
			return fmt.Errorf("risk backtest: --html: %w", err)
		}
		fmt.Fprintf(e.stderr, "HTML report written to %s\n", *html)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return backtest.WriteTable(e.stdout, rep)
}

// writeFileWith writes a file through fn, closing it and reporting the first error.
func writeFileWith(path string, fn func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func runRiskFraud(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return usageError("risk fraud needs: import FILE.csv")
	}
	fs := newRiskFlags(e, "risk fraud import", "risk fraud import [--dsn DSN | --demo DIR] FILE.csv")
	var sf riskStoreFlags
	sf.register(fs)
	pos, err := parseRiskFlags(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("risk fraud import needs one FILE.csv")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return usageError("risk fraud import: %v", err)
	}
	defer f.Close()
	reports, bad, err := backtest.ParseFraudCSV(f)
	if err != nil {
		return exitError{code: 1, msg: fmt.Sprintf("risk fraud import: %s: %v (nothing imported)", pos[0], err)}
	}
	st, closeStore, err := sf.open(ctx, e, "risk fraud import")
	if err != nil {
		return err
	}
	defer closeStore()
	sum, err := st.ImportFraudReports(ctx, reports)
	if err != nil {
		return err
	}
	for _, b := range bad {
		fmt.Fprintf(e.stderr, "%s: rejected: %v\n", pos[0], b)
	}
	fmt.Fprintf(e.stdout, "%d reports read: %d imported (%d matched a transaction, %d unmatched), %d imported before (%d of them matched now), %d rejected\n",
		len(reports)+len(bad), sum.New, sum.Matched, sum.Unmatched, sum.Duplicates, sum.Rematched, len(bad))
	if len(bad) > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("risk fraud import: %d rows rejected; the others were imported", len(bad))}
	}
	return nil
}

// runRiskPrune deletes the risk inputs (sealed card and personal data kept for backtests) older
// than the issuer's retention period, in batches so that the AReq path is never held up for long.
// The transactions stay. Run it from a scheduler; any instance may, and two at once do no harm.
func runRiskPrune(ctx context.Context, e env, args []string) error {
	fs := newRiskFlags(e, "risk prune", "risk prune --older-than 90d [--dsn DSN | --demo DIR]")
	var sf riskStoreFlags
	sf.register(fs)
	older := fs.String("older-than", "", "delete risk inputs recorded before this: a span back from now (90d), a date or an RFC 3339 time")
	pos, err := parseRiskFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("risk prune takes no arguments, got %q", strings.Join(pos, " "))
	}
	if *older == "" {
		return usageError("risk prune: --older-than is required, e.g. 90d")
	}
	cutoff, err := backtest.ParseWhen(*older, riskNow())
	if err != nil {
		return usageError("risk prune: --older-than %v", err)
	}
	st, closeStore, err := sf.open(ctx, e, "risk prune")
	if err != nil {
		return err
	}
	defer closeStore()
	total := 0
	for {
		n, err := st.PruneRiskInputs(ctx, cutoff, 1000)
		if err != nil {
			return err
		}
		total += n
		if n == 0 {
			break
		}
	}
	fmt.Fprintf(e.stdout, "%d risk inputs recorded before %s deleted\n", total, cutoff.UTC().Format(time.RFC3339))
	return nil
}
