package store_test

import (
	"testing"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

func TestSQLiteContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB { return storetest.OpenSQLite(t) })
}

func TestPostgresContract(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	storetest.Run(t, func(t *testing.T) *store.DB { return storetest.OpenPostgres(t) })
}
