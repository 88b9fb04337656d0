package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// runMigrateCmd runs `open3ds migrate args…` in-process with the given environment.
func runMigrateCmd(t *testing.T, environ map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return environ[k] }
	err = run(context.Background(), append([]string{"migrate"}, args...), getenv, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

var migrateBackends = []struct {
	name    string
	dialect store.Dialect
	dsn     func(testing.TB) string
}{
	{"sqlite", store.SQLite, storetest.SQLiteDSN},
	{"postgres", store.Postgres, storetest.PostgresDSN},
}

func TestMigrateAppliesWhatIsPendingOnceAndSaysSo(t *testing.T) {
	for _, b := range migrateBackends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			out, _, err := runMigrateCmd(t, nil, "--dsn", dsn)
			if err != nil {
				t.Fatal(err)
			}
			all := store.Migrations(b.dialect)
			for _, m := range all {
				if !strings.Contains(out, "applied: "+m.String()+"\n") {
					t.Errorf("first run's output does not list %s:\n%s", m, out)
				}
			}
			st, err := store.Status(context.Background(), dsn)
			if err != nil || st.Current != len(all) || len(st.Pending) != 0 {
				t.Errorf("status after migrate = %+v (err %v), want version %d", st, err, len(all))
			}

			out, _, err = runMigrateCmd(t, nil, "--dsn", dsn)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out, "applied:") || !strings.Contains(out, "nothing to apply") {
				t.Errorf("second run's output = %q, want nothing applied", out)
			}
		})
	}
}

func TestMigrateStatusReportsVersionsAndChangesNothing(t *testing.T) {
	for _, b := range migrateBackends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			all := store.Migrations(b.dialect)
			out, _, err := runMigrateCmd(t, nil, "--status", "--dsn", dsn)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "current version: 0\n") || !strings.Contains(out, "pending: "+all[0].String()) {
				t.Errorf("status of a fresh store = %q, want version 0 with %s pending", out, all[0])
			}
			if st, err := store.Status(context.Background(), dsn); err != nil || st.Current != 0 {
				t.Errorf("after --status the store is at %+v (err %v), want still version 0", st, err)
			}

			if _, _, err := runMigrateCmd(t, nil, "--dsn", dsn); err != nil {
				t.Fatal(err)
			}
			out, _, err = runMigrateCmd(t, nil, "--status", "--dsn", dsn)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"current version: " + strconv.Itoa(len(all)), "latest version:  " + strconv.Itoa(len(all))}
			for _, w := range want {
				if !strings.Contains(out, w) || strings.Contains(out, "pending") {
					t.Errorf("status after migrating = %q, want %q and nothing pending", out, w)
				}
			}
		})
	}
}

func TestMigrateTakesTheDSNFromTheEnvironmentWhenNoFlagGivesIt(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	out, _, err := runMigrateCmd(t, map[string]string{"OPEN3DS_DSN": dsn})
	if err != nil || !strings.Contains(out, "applied: ") {
		t.Fatalf("migrate with OPEN3DS_DSN: out %q, err %v; want migrations applied", out, err)
	}
	// The flag wins over the environment.
	flagged := storetest.SQLiteDSN(t)
	out, _, err = runMigrateCmd(t, map[string]string{"OPEN3DS_DSN": dsn}, "--dsn", flagged)
	if err != nil || !strings.Contains(out, "applied: ") {
		t.Errorf("migrate --dsn beside OPEN3DS_DSN: out %q, err %v; want the flag's store migrated", out, err)
	}
}

func TestMigrateUsageMistakesExitTwo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in the error or on stderr
	}{
		{"no DSN anywhere", nil, "OPEN3DS_DSN"},
		{"a stray argument", []string{"--dsn", "sqlite:x.db", "now"}, "no arguments"},
		{"an unknown flag", []string{"--force"}, "-force"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, err := runMigrateCmd(t, nil, tc.args...)
			if exitCode(err) != 2 {
				t.Errorf("exit code %d (err %v), want 2", exitCode(err), err)
			}
			if err == nil || !strings.Contains(err.Error()+stderr, tc.want) {
				t.Errorf("err %v, stderr %q: want them to mention %q", err, stderr, tc.want)
			}
		})
	}
}

func TestMigrateFailureNeverShowsTheDSNPassword(t *testing.T) {
	for _, args := range [][]string{
		{"--dsn", "postgres://app:hunter2@127.0.0.1:1/open3ds?connect_timeout=2"},
		{"--status", "--dsn", "postgres://app:hunter2@127.0.0.1:1/open3ds?connect_timeout=2"},
		{"--dsn", "postgres://app:hunter2@db.example:notaport/open3ds"},
	} {
		out, stderr, err := runMigrateCmd(t, nil, args...)
		if err == nil || exitCode(err) != 1 {
			t.Errorf("migrate %v: err %v, want a failure with exit code 1", args, err)
			continue
		}
		if strings.Contains(err.Error()+out+stderr, "hunter2") {
			t.Errorf("migrate %v shows the password: err %q, stdout %q, stderr %q", args, err, out, stderr)
		}
	}
}
