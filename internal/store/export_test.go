package store

import "context"

// MigrateTo applies the migrations up to version v only, so that the migration test can stop at
// each version and seed rows as they looked then.
func MigrateTo(ctx context.Context, dsn string, v int) ([]Migration, error) {
	db, err := openRaw(ctx, dsn, Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.migrate(ctx, v)
}

// ExecRaw runs SQL on the database a DSN names without looking at its schema version, for seeding.
func ExecRaw(ctx context.Context, dsn, query string) error {
	db, err := openRaw(ctx, dsn, Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.write.ExecContext(ctx, query)
	return err
}
