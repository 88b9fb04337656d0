package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

func TestEnsureSchemaMakesDropsOnlyItsOwnAndPointsADSNAtIt(t *testing.T) {
	base := storetest.SkipWithoutPostgres(t)
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	mine, theirs := "open3ds_schema_test_"+hex.EncodeToString(b[:]), "open3ds_schema_other_"+hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA IF EXISTS " + mine + " CASCADE")
		admin.Exec("DROP SCHEMA IF EXISTS " + theirs + " CASCADE")
		admin.Close()
	})

	if st, err := store.EnsureSchema(ctx, base, mine, "owner's", false); err != nil || st != store.SchemaCreated {
		t.Fatalf("first EnsureSchema: %v %v", st, err)
	}
	dsn, err := store.SchemaDSN(base, mine)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, dsn, store.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	var n int
	if err := admin.QueryRow("SELECT count(*) FROM " + mine + ".schema_migrations").Scan(&n); err != nil || n == 0 {
		t.Fatalf("the store did not migrate into the schema: %d %v", n, err)
	}
	if st, err := store.EnsureSchema(ctx, base, mine, "owner's", false); err != nil || st != store.SchemaExisting {
		t.Errorf("again: %v %v", st, err)
	}
	// Fresh drops what was in it.
	if _, err := store.EnsureSchema(ctx, base, mine, "owner's", true); err != nil {
		t.Fatal(err)
	}
	if err := admin.QueryRow("SELECT count(*) FROM " + mine + ".schema_migrations").Scan(&n); err == nil {
		t.Errorf("a fresh schema still holds the migrations table")
	}

	if _, err := admin.Exec("CREATE SCHEMA " + theirs + "; CREATE TABLE " + theirs + ".kept (v int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.EnsureSchema(ctx, base, theirs, "owner's", true); !errors.Is(err, store.ErrSchemaNotOurs) {
		t.Errorf("a schema made by someone else: %v, want ErrSchemaNotOurs", err)
	}
	if err := admin.QueryRow("SELECT count(*) FROM " + theirs + ".kept").Scan(&n); err != nil {
		t.Errorf("someone else's table is gone: %v", err)
	}

	for _, bad := range []string{"Upper", "semi;colon", "1digit", ""} {
		if _, err := store.SchemaDSN(base, bad); err == nil || !strings.Contains(err.Error(), "schema name") {
			t.Errorf("SchemaDSN(%q): %v", bad, err)
		}
	}
	if _, err := store.SchemaDSN("sqlite:x.db", mine); err == nil {
		t.Errorf("SchemaDSN took a SQLite DSN")
	}
}
