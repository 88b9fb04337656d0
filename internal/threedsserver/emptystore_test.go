package threedsserver_test

import (
	"context"
	"fmt"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

// emptyStore knows no transaction: the fuzz target needs no database to reach "unknown".
type emptyStore struct{ threedsserver.Store }

func (emptyStore) Transaction(context.Context, string) (threedsserver.Transaction, error) {
	return threedsserver.Transaction{}, fmt.Errorf("transaction: %w", store.ErrNotFound)
}

func (emptyStore) MerchantByKey(context.Context, string) (threedsserver.Merchant, error) {
	return threedsserver.Merchant{}, fmt.Errorf("merchant: %w", store.ErrNotFound)
}
