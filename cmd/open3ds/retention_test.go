package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/store"
)

// seedDSTransactions opens the store at dsn and records an old and a young transaction the DS
// routed, each with its AReq exchange.
func seedDSTransactions(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := ds.NewSQLStore(db)
	for id, age := range map[string]time.Duration{"old": 100 * 24 * time.Hour, "young": 10 * 24 * time.Hour} {
		at := time.Now().Add(-age)
		if err := st.CreateTransaction(ctx, ds.Transaction{DSTransID: id, ThreeDSServerTransID: "3ds-" + id, ACSTransID: "acs-" + id,
			ACS: "bank", ThreeDSServer: "shop", ThreeDSServerURL: "https://shop.example/", MessageVersion: "2.2.0",
			MessageCategory: "01", DeviceChannel: "02", MaskedPAN: "400000******7891", Outcome: "Y", CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordExchange(ctx, store.Exchange{ID: "ex-" + id, Role: store.RoleDS, Direction: store.In, Peer: "3dss:shop",
			MessageType: "AReq", ResponseType: "ARes", ThreeDSServerTransID: "3ds-" + id, DSTransID: id, Outcome: "Y", StartedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
}

type retentionOutput struct {
	Role    string           `json:"role"`
	Mode    string           `json:"mode"`
	Archive string           `json:"archive"`
	Rows    map[string]int64 `json:"rows"`
	Total   int64            `json:"total"`
}

func TestRetentionRunPrintsTheRowsItRemovedPerTable(t *testing.T) {
	for _, b := range migrateBackends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			seedDSTransactions(t, dsn)

			out, _, err := runArgs(t, "retention", "run", "--role", "ds", "--dsn", dsn, "--older-than", "90d", "--dry-run")
			var dry retentionOutput
			if err != nil || json.Unmarshal([]byte(out), &dry) != nil || dry.Mode != "dry-run" || dry.Total != 2 {
				t.Fatalf("dry run: %v\n%s", err, out)
			}

			dir := t.TempDir()
			out, _, err = runArgs(t, "retention", "run", "--role", "ds", "--dsn", dsn, "--older-than", "2160h", "--archive", dir)
			if err != nil {
				t.Fatal(err)
			}
			var got retentionOutput
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if got.Role != "ds" || got.Mode != "archive" || got.Rows["ds_transactions"] != 1 || got.Rows["exchanges"] != 1 || got.Total != 2 {
				t.Errorf("output %s", out)
			}
			if filepath.Dir(got.Archive) != dir {
				t.Fatalf("archive %q is not in %s", got.Archive, dir)
			}
			raw, err := os.ReadFile(got.Archive)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
			if len(lines) != 2 || !strings.Contains(lines[0], `"ds_trans_id":"old"`) || !strings.Contains(lines[1], `"id":"ex-old"`) {
				t.Errorf("archive:\n%s", raw)
			}

			// The young transaction stays: a second run finds nothing.
			out, _, err = runArgs(t, "retention", "run", "--role", "ds", "--dsn", dsn, "--older-than", "2160h")
			if err = json.Unmarshal([]byte(out), &got); err != nil || got.Total != 0 || got.Mode != "purge" {
				t.Errorf("second run: %v\n%s", err, out)
			}
			out, _, err = runArgs(t, "retention", "run", "--role", "ds", "--dsn", dsn, "--older-than", "24h")
			if err = json.Unmarshal([]byte(out), &got); err != nil || got.Rows["ds_transactions"] != 1 {
				t.Errorf("a shorter age did not take the young transaction: %v\n%s", err, out)
			}
		})
	}
}

func TestRetentionRunRefusesBadFlagsNamingThem(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "s.db")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no role", []string{"--dsn", dsn, "--older-than", "2160h"}, "--role"},
		{"an unknown role", []string{"--role", "bank", "--dsn", dsn, "--older-than", "2160h"}, "--role must be ds, acs or 3dss"},
		{"no store", []string{"--role", "ds", "--older-than", "2160h"}, "--dsn"},
		{"no age", []string{"--role", "ds", "--dsn", dsn}, "--older-than"},
		{"an age under a day", []string{"--role", "ds", "--dsn", dsn, "--older-than", "1h"}, "--older-than must be at least 24h"},
		{"an age that is no duration", []string{"--role", "ds", "--dsn", dsn, "--older-than", "90 days"}, `--older-than "90 days": give an age`},
		{"an age of days under a day", []string{"--role", "ds", "--dsn", dsn, "--older-than", "0d"}, "at least 24h"},
		{"a missing archive directory", []string{"--role", "ds", "--dsn", dsn, "--older-than", "2160h", "--archive", "/nonexistent/dir"}, "--archive"},
		{"an archive in a dry run", []string{"--role", "ds", "--dsn", dsn, "--older-than", "2160h", "--archive", t.TempDir(), "--dry-run"}, "--dry-run"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, err := runArgs(t, append([]string{"retention", "run"}, c.args...)...)
			if exitCode(err) != 2 {
				t.Fatalf("got %v, want a usage error", err)
			}
			msg := stderr
			if err.Error() != "" {
				msg = err.Error()
			}
			if !strings.Contains(msg, c.want) || out != "" {
				t.Errorf("error %q (stderr %q) does not name %s, or something was printed: %q", err, stderr, c.want, out)
			}
		})
	}
}

func TestServeRolesNameTheirBadRetentionSettings(t *testing.T) {
	_, _, err := runArgs(t, "serve", "ds", "--retention-max-age", "ninety days")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), `retention_max_age: "ninety days": give an age such as 90d or 2160h`) {
		t.Errorf("an age that does not parse: %v", err)
	}
	for _, role := range []string{"ds", "acs", "3dss"} {
		t.Run(role, func(t *testing.T) {
			_, _, err := runArgs(t, "serve", role, "--retention-max-age", "1h", "--retention-interval", "0s",
				"--retention-archive-dir", "/nonexistent/dir")
			if exitCode(err) != 2 {
				t.Fatalf("got %v, want a usage error", err)
			}
			for _, want := range []string{"retention_max_age", "retention_interval", "retention_archive_dir"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not name %s: %v", want, err)
				}
			}
		})
	}
}

// A DS served with a retention age removes the old transaction by itself soon after it starts, and
// its /metrics say how many rows of which table went and when the run ended.
func TestServeDSRunsItsRetentionAndCountsItInMetrics(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "ds.db")
	seedDSTransactions(t, dsn)
	_, _, admin := startDS(t, dsn, "--retention-max-age", "90d", "--retention-interval", "1h")
	var metrics string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, metrics = adminCall(t, admin, "", "GET", "/metrics", "")
		if strings.Contains(metrics, `open3ds_retention_rows_total{mode="purge",table="ds_transactions"} 1`) &&
			!strings.Contains(metrics, "open3ds_retention_last_success_timestamp_seconds 0\n") {
			break
		}
	}
	for _, want := range []string{`open3ds_retention_rows_total{mode="purge",table="ds_transactions"} 1`,
		`open3ds_retention_rows_total{mode="purge",table="exchanges"} 1`, "open3ds_retention_last_success_timestamp_seconds 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, metrics)
		}
	}
	db, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := ds.NewSQLStore(db)
	if _, err := st.Transaction(context.Background(), "old"); err == nil {
		t.Error("the old transaction is still there")
	}
	if _, err := st.Transaction(context.Background(), "young"); err != nil {
		t.Errorf("the young transaction: %v", err)
	}
}
