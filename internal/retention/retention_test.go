package retention_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/open3ds/open3ds/internal/retention"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

var backends = []struct {
	name string
	open func(testing.TB) *store.DB
}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}}

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// exchangesSpec removes exchanges by age alone: the engine's own behaviour, without a role's rules.
var exchangesSpec = retention.Spec{Role: "test", Tables: []retention.Table{{Name: "exchanges", Key: []string{"id"},
	Where: `r.started_at < ?`, Args: func(c retention.Cutoff) []any { return []any{store.Time(c.Before)} }}}}

func record(t *testing.T, db *store.DB, n int, at time.Time, prefix string) {
	t.Helper()
	for i := range n {
		err := db.RecordExchange(context.Background(), store.Exchange{ID: fmt.Sprintf("%s-%03d", prefix, i), Role: store.RoleDS,
			Direction: store.In, Peer: "p", MessageType: "AReq", Outcome: "Y", StartedAt: at.Add(time.Duration(i) * time.Second),
			MaskedPAN: "400000******7891"})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestAnArchivedRunWritesEachRemovedRowOnceAcrossBatches(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t)
			record(t, db, 23, now.Add(-48*time.Hour), "old")
			record(t, db, 5, now.Add(-time.Hour), "young")
			reg := prometheus.NewRegistry()
			m, err := retention.NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			job, err := retention.New(db, exchangesSpec, retention.Options{MaxAge: 24 * time.Hour, ArchiveDir: dir, BatchSize: 4,
				Now: func() time.Time { return now }, Metrics: m})
			if err != nil {
				t.Fatal(err)
			}
			r, err := job.RunNow(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != 23 || r.Rows["exchanges"] != 23 || r.Mode != "archive" || !r.Cutoff.Equal(now.Add(-24*time.Hour)) {
				t.Errorf("report %+v", r)
			}
			f, err := os.Open(r.Archive)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			seen := map[string]bool{}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var l struct {
					Table string         `json:"table"`
					Row   map[string]any `json:"row"`
				}
				if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
					t.Fatal(err)
				}
				id, _ := l.Row["id"].(string)
				if l.Table != "exchanges" || !strings.HasPrefix(id, "old-") || seen[id] || l.Row["masked_pan"] != "400000******7891" {
					t.Errorf("archive line %s", sc.Bytes())
				}
				if at, _ := l.Row["started_at"].(string); !strings.HasPrefix(at, "2026-05-30T12:00:") {
					t.Errorf("started_at archived as %q", at)
				}
				seen[id] = true
			}
			if len(seen) != 23 {
				t.Errorf("archive holds %d rows, want 23", len(seen))
			}
			left, err := db.RecentExchanges(context.Background(), store.MaxRecent)
			if err != nil || len(left) != 5 {
				t.Fatalf("%d exchanges left (%v), want the 5 young ones", len(left), err)
			}
			if got := metric(t, reg, "open3ds_retention_rows_total", "archive"); got != 23 {
				t.Errorf("rows counter = %v, want 23", got)
			}
			if got := metric(t, reg, "open3ds_retention_last_success_timestamp_seconds", ""); got != float64(now.Unix()) {
				t.Errorf("last success = %v, want %d", got, now.Unix())
			}
			// A second run in the same second gets a file of its own.
			r2, err := job.RunNow(context.Background())
			if err != nil || r2.Archive == r.Archive || r2.Total != 0 {
				t.Errorf("second run: %+v, %v", r2, err)
			}
		})
	}
}

func TestARunByHandWaitsForAnotherInstancesRun(t *testing.T) {
	db := storetest.OpenSQLite(t)
	if ok, err := db.ClaimJob(context.Background(), "retention:test", "someone-else", now, time.Hour, false); !ok || err != nil {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	job, err := retention.New(db, exchangesSpec, retention.Options{MaxAge: 24 * time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.RunNow(context.Background()); err != retention.ErrBusy {
		t.Errorf("run while another holds the lease: %v, want ErrBusy", err)
	}
}

func TestNewRefusesOptionsItCannotRunWith(t *testing.T) {
	db := storetest.OpenSQLite(t)
	file := t.TempDir() + "/file"
	os.WriteFile(file, nil, 0o600)
	for name, opt := range map[string]retention.Options{
		"no maximum age":             {},
		"an archive that is a file":  {MaxAge: time.Hour, ArchiveDir: file},
		"an archive that is missing": {MaxAge: time.Hour, ArchiveDir: t.TempDir() + "/missing"},
		"a negative batch":           {MaxAge: time.Hour, BatchSize: -1},
	} {
		if _, err := retention.New(db, exchangesSpec, opt); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseAgeTakesDaysOrDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "2160h": 2160 * time.Hour, " 1d ": 24 * time.Hour} {
		if got, err := retention.ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "90 days", "-1h", "1.5d", "d"} {
		if _, err := retention.ParseAge(in); err == nil {
			t.Errorf("ParseAge(%q) took it", in)
		}
	}
}

// metric reads one sample of the registry: of the named family, the one with a label of value
// label ("" for a family without labels).
func metric(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				match = match || l.GetValue() == label
			}
			if !match {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s{%s} in the registry", name, label)
	return 0
}

// A run whose lease ran out (its instance stalled past the lease) stops at the next batch, as
// another instance may have taken the run over, and says so.
func TestARunThatLostItsLeaseStops(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t)
			record(t, db, 3, now.Add(-48*time.Hour), "old")
			clock := now
			job, err := retention.New(db, exchangesSpec, retention.Options{MaxAge: 24 * time.Hour, BatchSize: 1,
				LeaseTTL: time.Minute, Now: func() time.Time { clock = clock.Add(2 * time.Minute); return clock }})
			if err != nil {
				t.Fatal(err)
			}
			r, ran, err := job.RunDue(context.Background(), time.Hour)
			if !ran || !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("ran %v, err %v; want a run stopped by its lost lease", ran, err)
			}
			if r.Total != 1 {
				t.Errorf("%d rows removed after the lease was lost, want the first batch's 1", r.Total)
			}
			// The run stays due: the next claim, by anyone, takes it.
			if ok, err := db.ClaimJob(context.Background(), "retention:test", "other", clock.Add(time.Minute), time.Minute, false); !ok || err != nil {
				t.Errorf("the run was not due again after a lost lease: %v, %v", ok, err)
			}
		})
	}
}

// The log line of a run gives the counts per table and nothing of the rows themselves.
func TestARunLogsItsCountsAndNoCardData(t *testing.T) {
	db := storetest.OpenSQLite(t)
	record(t, db, 3, now.Add(-48*time.Hour), "old")
	var buf bytes.Buffer
	job, err := retention.New(db, exchangesSpec, retention.Options{MaxAge: 24 * time.Hour, Now: func() time.Time { return now },
		Log: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.RunNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("one JSON log line expected: %v\n%s", err, buf.String())
	}
	if line["msg"] != "retention run" || line["role"] != "test" || line["removed"] != float64(3) || line["rows"] != "exchanges 3" {
		t.Errorf("log line %s", buf.String())
	}
	if strings.Contains(buf.String(), "400000") || strings.Contains(buf.String(), "old-0") {
		t.Errorf("the log line carries row data: %s", buf.String())
	}
}
