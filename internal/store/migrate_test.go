package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

// backends gives each test a fresh, empty database of either kind, as a DSN.
var backends = []struct {
	dialect store.Dialect
	dsn     func(testing.TB) string
}{
	{store.SQLite, storetest.SQLiteDSN},
	{store.Postgres, storetest.PostgresDSN},
}

func TestBothDialectsCarryTheSameMigrations(t *testing.T) {
	sq, pg := store.Migrations(store.SQLite), store.Migrations(store.Postgres)
	if len(sq) < 2 {
		t.Errorf("SQLite has %d migrations; the migration test needs at least two to cross a version", len(sq))
	}
	if !slices.Equal(sq, pg) {
		t.Errorf("migrations differ:\nsqlite   %v\npostgres %v", sq, pg)
	}
}

// TestMigrationsCarryOldRowsForward applies the migrations one version at a time. After version N it
// loads testdata/migrations/<dialect>/NNNN_seed.sql, when there is one, holding rows as a database
// at version N held them; at the newest version it reads every seeded row back through the store.
// A migration that loses or mangles existing data fails here.
func TestMigrationsCarryOldRowsForward(t *testing.T) {
	for _, b := range backends {
		t.Run(string(b.dialect), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := b.dsn(t)
			for _, m := range store.Migrations(b.dialect) {
				applied, err := store.MigrateTo(ctx, dsn, m.Version)
				if err != nil {
					t.Fatalf("migrate to %d: %v", m.Version, err)
				}
				if !slices.Equal(applied, []store.Migration{m}) {
					t.Fatalf("migrate to %d applied %v, want only %v", m.Version, applied, m)
				}
				seed, err := os.ReadFile(filepath.Join("testdata", "migrations", string(b.dialect), fmt.Sprintf("%04d_seed.sql", m.Version)))
				if errors.Is(err, os.ErrNotExist) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := store.ExecRaw(ctx, dsn, string(seed)); err != nil {
					t.Fatalf("seed version %d: %v", m.Version, err)
				}
			}
			db, err := store.Open(ctx, dsn, store.Options{})
			if err != nil {
				t.Fatalf("open after migrating: %v", err)
			}
			defer db.Close()
			for _, check := range seededChecks {
				check(t, db)
			}
		})
	}
}

// seededChecks read back what the seed files hold. An issue that adds a seed file adds its check.
var seededChecks = []func(t *testing.T, db *store.DB){
	func(t *testing.T, db *store.DB) {
		want := []store.Exchange{{
			ID: "seed-v1-areq", Role: store.RoleDS, Direction: store.In, Peer: "3dss-acme",
			MessageType: "AReq", ResponseType: "ARes",
			ThreeDSServerTransID: "8a880dc0-d2d2-4067-bcb1-b08d1690b26e", DSTransID: "f25084f0-5b16-4c0a-ae5d-b24808a95e4b",
			ACSTransID: "13c701a3-5a88-4c45-89e9-ef65e50a8bf9", MaskedPAN: "400000******1091", MessageVersion: "2.2.0",
			Outcome: "C", StartedAt: time.Date(2024, 11, 5, 8, 30, 0, 250001000, time.UTC), Duration: 18250 * time.Microsecond,
		}, {
			ID: "seed-v1-rreq", Role: store.RoleACS, Direction: store.Out, Peer: "ds",
			MessageType: "RReq", ResponseType: "Erro",
			ThreeDSServerTransID: "8a880dc0-d2d2-4067-bcb1-b08d1690b26e", DSTransID: "f25084f0-5b16-4c0a-ae5d-b24808a95e4b",
			ACSTransID: "13c701a3-5a88-4c45-89e9-ef65e50a8bf9",
			Outcome:    "Erro", ErrorCode: "305", StartedAt: time.Date(2024, 11, 5, 8, 31, 2, 0, time.UTC), Duration: 5000001 * time.Microsecond,
		}}
		got, err := db.ExchangesByTransID(context.Background(), "8a880dc0-d2d2-4067-bcb1-b08d1690b26e")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d seeded exchanges, want %d", len(got), len(want))
		}
		for i := range want {
			if d := storetest.DiffExchange(got[i], want[i]); d != "" {
				t.Errorf("seeded exchange %s differs:%s", want[i].ID, d)
			}
		}
	},
	// The Directory Server registry of migration 0003: scheme, ACS, 3DS Server, range, change log,
	// transaction and PReq pacing rows all read back with their values.
	func(t *testing.T, db *store.DB) {
		var got []string
		for _, q := range []string{
			`SELECT reference_number || ' ' || eci_y || eci_a || eci_n || ' ' || serial FROM ds_scheme WHERE id = 1`,
			`SELECT name || ' ' || reference_number || ' ' || url FROM ds_acs`,
			`SELECT s.name || ' ' || r.requestor_id FROM ds_3ds_servers s JOIN ds_requestors r ON r.server_name = s.name`,
			`SELECT start_pan || '-' || end_pan || ' ' || pan_len || ' ' || acs_end || ' ' || acs_info_ind FROM ds_ranges`,
			`SELECT serial || action || ' ' || start_pan FROM ds_range_changes`,
			`SELECT masked_pan || ' ' || three_ds_server_url || ' ' || outcome FROM ds_transactions`,
			`SELECT server_name || ' ' || owed_reload FROM ds_preq_pacing`,
		} {
			var v string
			if err := db.Reader().QueryRowContext(context.Background(), q).Scan(&v); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			got = append(got, v)
		}
		want := []string{"SEED-DS-REF 020100 3", "seed-bank SEED-ACS-REF https://acs.seed.example/areq", "seed-psp SEED*REQ",
			"4000000000000000-4000000000009999 16 2.2.0 01,02", "3A 4000000000000000",
			"400000******1091 https://3dss.seed.example/rreq C", "seed-psp 1"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("seeded DS rows read back as\n%q\nwant\n%q", got, want)
		}
		var at store.Time
		if err := db.Reader().QueryRowContext(context.Background(), `SELECT created_at FROM ds_transactions`).Scan(&at); err != nil ||
			!time.Time(at).Equal(time.Date(2024, 11, 5, 8, 30, 0, 250001000, time.UTC)) {
			t.Errorf("seeded transaction time = %v, %v", time.Time(at), err)
		}
	},
	// Version 4 (ACS): an issuer with its range and a cardholder, read without any vault key.
	func(t *testing.T, db *store.DB) {
		s := acs.NewSQLStore(db, nil)
		is, err := s.IssuerForPAN(context.Background(), "5100001234560008")
		if err != nil || is.ID != "seed-bank" || is.ECIStyle != "mastercard" || !is.Decoupled || is.NotEnrolledPolicy != "A" {
			t.Errorf("seeded issuer = %+v, %v", is, err)
		}
		list, err := s.Cardholders(context.Background(), "seed-bank")
		if err != nil || len(list) != 1 || list[0].MaskedPAN != "510000******0008" || list[0].Status != "blocked" ||
			list[0].Mobiles[0] != "+447700900123" || list[0].KeyID != 1 {
			t.Errorf("seeded cardholders = %+v, %v", list, err)
		}
	},
	// Version 6 (3DS Server): a merchant found by its key digest, a cached range and a final result.
	func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := threedsserver.NewSQLStore(db)
		if m, err := s.MerchantByKey(ctx, "c0ffee"); err != nil || m.ID != "seed-shop" || m.Country != "826" {
			t.Errorf("seeded merchant = %+v, %v", m, err)
		}
		if r, err := s.FindRange(ctx, "4000000000001091"); err != nil || r.MethodURL != "https://acs.example/method" || len(r.ACSInfoInd) != 2 {
			t.Errorf("seeded range = %+v, %v", r, err)
		}
		if c, err := s.CacheState(ctx); err != nil || c.Serial != "42" || c.Refresh != 12*time.Hour {
			t.Errorf("seeded cache state = %+v, %v", c, err)
		}
		tx, err := s.Transaction(ctx, "8a880dc0-d2d2-4067-bcb1-b08d1690b26e")
		// Migration 0010 reads every older transaction as a browser one.
		if err != nil || tx.State != "final" || tx.ECI != "05" || !tx.MethodDone || tx.DeviceChannel != "02" || tx.SDKTransID != "" ||
			!tx.ResultAt.Equal(time.Date(2024, 11, 5, 8, 31, 0, 0, time.UTC)) {
			t.Errorf("seeded transaction = %+v, %v", tx, err)
		}
	},
}

func TestTwoProcessesMigratingAtOnceApplyEachMigrationOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(string(b.dialect), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := b.dsn(t)
			var (
				wg      sync.WaitGroup
				applied [2][]store.Migration
				errs    [2]error
			)
			for i := range 2 {
				wg.Go(func() { applied[i], errs[i] = store.Migrate(ctx, dsn) })
			}
			wg.Wait()
			if err := errors.Join(errs[:]...); err != nil {
				t.Fatalf("migrating at once: %v", err)
			}
			all := append(slices.Clone(applied[0]), applied[1]...)
			slices.SortFunc(all, func(a, b store.Migration) int { return a.Version - b.Version })
			if want := store.Migrations(b.dialect); !slices.Equal(all, want) {
				t.Errorf("applied %v and %v between them, want each of %v once", applied[0], applied[1], want)
			}
			st, err := store.Status(ctx, dsn)
			if err != nil || st.Current != st.Latest || len(st.Pending) != 0 {
				t.Errorf("status after = %+v (err %v), want up to date", st, err)
			}
		})
	}
}

func TestPostgresOpenRefusesASchemaThatIsBehind(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	for _, v := range []int{0, 1} {
		if v > 0 {
			if _, err := store.MigrateTo(ctx, dsn, v); err != nil {
				t.Fatal(err)
			}
		}
		db, err := store.Open(ctx, dsn, store.Options{})
		if err == nil {
			db.Close()
			t.Fatalf("at version %d: Open succeeded, want it refused", v)
		}
		if !errors.Is(err, store.ErrSchemaBehind) || !strings.Contains(err.Error(), "open3ds migrate") {
			t.Errorf("at version %d: err = %v, want ErrSchemaBehind saying to run open3ds migrate", v, err)
		}
	}
	db, err := store.Open(ctx, dsn, store.Options{Migrate: true})
	if err != nil {
		t.Fatalf("Open with Migrate: %v", err)
	}
	defer db.Close()
	if st, err := db.MigrationStatus(ctx); err != nil || len(st.Pending) != 0 {
		t.Errorf("after Open with Migrate: status %+v (err %v), want nothing pending", st, err)
	}
}

func TestSQLiteMigratesItselfOnOpen(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.SQLiteDSN(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := db.MigrationStatus(ctx)
	if err != nil || st.Current != st.Latest || len(st.Pending) != 0 {
		t.Errorf("status = %+v (err %v), want the latest version", st, err)
	}
}

func TestStatusOfAMissingSQLiteFileIsVersionZeroAndCreatesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.db")
	st, err := store.Status(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current != 0 || len(st.Pending) != st.Latest || st.Latest == 0 {
		t.Errorf("status = %+v, want version 0 with every migration pending", st)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Status created the file (stat: %v)", err)
	}
}
