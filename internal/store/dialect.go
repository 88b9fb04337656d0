package store

// dialectSQL holds the few statements whose text differs between the back ends. Everything else is
// written once, with ? placeholders that Rebind adapts.
type dialectSQL struct {
	// migrationsTableExists counts the schema_migrations tables visible to the connection (0 or 1).
	migrationsTableExists string
	createMigrationsTable string
	// migrationLock, run first in each migration's transaction, keeps two processes from applying
	// the same file at once; empty where the transaction's own lock does that already.
	migrationLock string
}

var dialectSQLs = map[Dialect]*dialectSQL{
	SQLite: {
		migrationsTableExists: `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`,
		createMigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TEXT NOT NULL
		) STRICT`,
		// Write transactions begin IMMEDIATE, which takes the database's write lock at once.
		migrationLock: "",
	},
	Postgres: {
		migrationsTableExists: `SELECT count(*) FROM pg_catalog.pg_tables
			WHERE schemaname = current_schema() AND tablename = 'schema_migrations'`,
		createMigrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL
		)`,
		// The lock is keyed by the schema as well, so that databases kept in different schemas of one
		// server (as the tests keep theirs) migrate without waiting for each other. The first key
		// spells "o3ds" in ASCII. Taken before creating schema_migrations, it also keeps two fresh
		// processes from racing to create that table.
		migrationLock: `SELECT pg_advisory_xact_lock(1865573491, hashtext(coalesce(current_schema(), '')))`,
	},
}
