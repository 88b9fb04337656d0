package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/retention"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

// The retention job (docs/operations.md, Retention): each `serve` runs it on an interval when
// retention_max_age is set, and `open3ds retention run` runs it once by hand.

var retentionGroup = &group{name: "retention", what: "command", summary: "remove or archive old transactions (`open3ds retention -h`)"}

func init() {
	retentionGroup.add(command{name: "run", summary: "run one role's retention now and print what it removed as JSON", run: runRetention})
}

// retentionSpecs are the roles' retention specs, by the name --role takes.
var retentionSpecs = map[string]func() retention.Spec{
	"ds":   ds.RetentionSpec,
	"acs":  acs.RetentionSpec,
	"3dss": threedsserver.RetentionSpec,
}

// minRetention is the shortest maximum age accepted: younger rows still count towards a card's
// lock and the risk engine's counts of the last day.
const minRetention = 24 * time.Hour

// defaultRetentionInterval is how often a role runs its retention when only the age is set.
const defaultRetentionInterval = 24 * time.Hour

// checkRetention adds the problems of a role's retention fields to its Validate. An empty or zero
// age leaves retention off and the other two fields unread.
func checkRetention(p *config.Problems, maxAge string, interval time.Duration, dir string) {
	age, err := retentionAge(maxAge)
	if err != nil {
		p.Add("retention_max_age", "%v", err)
		return
	}
	if age == 0 {
		return
	}
	if age < minRetention {
		p.Add("retention_max_age", "must be at least %s (e.g. 90d or 2160h), or 0 to keep everything", minRetention)
	}
	if interval <= 0 {
		p.Add("retention_interval", "must be positive (e.g. 24h)")
	}
	if dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			p.Add("retention_archive_dir", "must be an existing directory")
		}
	}
}

// retentionAge reads retention_max_age: empty is 0, retention off.
func retentionAge(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	return retention.ParseAge(s)
}

// startRetention runs the role's retention on its interval until the returned stop is called (stop
// waits for a run in progress to end, so that the store is not closed under it). With maxAge 0 it
// does nothing. The fields were checked by checkRetention.
func (rt *roleRuntime) startRetention(ctx context.Context, spec retention.Spec, age string, interval time.Duration, dir string) (stop func(), err error) {
	maxAge, err := retentionAge(age)
	if err != nil || maxAge == 0 {
		return func() {}, err
	}
	m, err := retention.NewMetrics(rt.reg)
	if err != nil {
		return nil, err
	}
	job, err := retention.New(rt.db, spec, retention.Options{MaxAge: maxAge, ArchiveDir: dir, Log: rt.log, Metrics: m})
	if err != nil {
		return nil, err
	}
	mode := "purge"
	if dir != "" {
		mode = "archive"
	}
	rt.log.Info("retention on", "role", spec.Role, "maxAge", maxAge.String(), "interval", interval.String(), "mode", mode)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		job.Loop(ctx, interval)
	}()
	return func() { cancel(); <-done }, nil
}

func runRetention(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("retention run", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	role := fs.String("role", "", "the role whose tables to clean: ds, acs or 3dss")
	dsnFlag := fs.String("dsn", "", "the role's store: postgres://… or sqlite:PATH (default $OPEN3DS_DSN)")
	olderThan := fs.String("older-than", "", "remove transactions begun longer ago than this: whole days (90d) or a duration (2160h); at least 24h")
	archive := fs.String("archive", "", "write the removed rows to a new JSON-lines file in this directory before removing them")
	dryRun := fs.Bool("dry-run", false, "count what would be removed and remove nothing")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: open3ds retention run --role ds|acs|3dss --dsn DSN --older-than 90d [--archive DIR] [--dry-run]\n\n"+
			"Removes the role's finished transactions and protocol messages older than AGE (never those of a\n"+
			"transaction still in progress), or archives them first, and prints the rows removed per table as\n"+
			"JSON. It waits for no schedule, but refuses to run while another instance runs the role's retention.\n\n")
		fs.PrintDefaults()
	}
	if ok, err := parseNoArgs(fs, args); !ok {
		return err
	}
	spec, ok := retentionSpecs[*role]
	if !ok {
		return usageError("--role must be ds, acs or 3dss")
	}
	dsn, err := storeDSN(e, *dsnFlag, "retention run")
	if err != nil {
		return err
	}
	if *olderThan == "" {
		return usageError("--older-than is required, e.g. 90d")
	}
	maxAge, err := retention.ParseAge(*olderThan)
	if err != nil {
		return usageError("--older-than %v", err)
	}
	if maxAge < minRetention {
		return usageError("--older-than must be at least %s, e.g. 90d", minRetention)
	}
	if *archive != "" {
		if fi, err := os.Stat(*archive); err != nil || !fi.IsDir() {
			return usageError("--archive must be an existing directory")
		}
		if *dryRun {
			return usageError("--archive and --dry-run do not go together: a dry run writes nothing")
		}
	}

	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	job, err := retention.New(db, spec(), retention.Options{MaxAge: maxAge, ArchiveDir: *archive, DryRun: *dryRun,
		Log: logx.New(e.stderr, slog.LevelInfo, "text")})
	if err != nil {
		return err
	}
	r, err := job.RunNow(ctx)
	if err != nil {
		if r.Total > 0 {
			// What was removed before the failure is gone all the same: say so.
			printJSON(e, r)
		}
		return err
	}
	return printJSON(e, r)
}

func printJSON(e env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
