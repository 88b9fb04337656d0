package zzdeps

import (
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/prometheus/client_golang/prometheus/testutil"
	_ "go.yaml.in/yaml/v3"
	_ "modernc.org/sqlite"
)

// Package zzdeps holds the project's dependencies in go.mod while the packages that use them are being
// written; it is removed once each dependency has a real importer.
