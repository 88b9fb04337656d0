package threedsserver_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

// TestMerchantChangesReachEveryInstance checks the merchant cache: a change made through one 3DS
// Server instance shows there at once and on another instance sharing the database within its
// MerchantTTL, while a rotated API key stops working everywhere at once.
func TestMerchantChangesReachEveryInstance(t *testing.T) {
	ctx := context.Background()
	db := storetest.OpenSQLite(t)
	here, there := threedsserver.NewSQLStore(db), threedsserver.NewSQLStore(db)
	there.MerchantTTL = 300 * time.Millisecond
	m := testMerchant("shop")
	if err := here.AddMerchant(ctx, m, "hash-1"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*threedsserver.SQLStore{here, there} {
		if got, err := s.Merchant(ctx, "shop"); err != nil || got.WebhookURL != "" {
			t.Fatalf("before the change: %+v, %v", got, err)
		}
	}
	m.WebhookURL = "https://shop.example/hook"
	if err := here.ChangeMerchant(ctx, m, "hash-2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := here.Merchant(ctx, "shop"); got.WebhookURL != m.WebhookURL {
		t.Errorf("the instance that made the change does not see it: %+v", got)
	}
	if _, err := there.MerchantByKey(ctx, "hash-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the rotated key still finds the merchant on another instance: %v", err)
	}
	deadline := time.Now().Add(there.MerchantTTL + 5*time.Second)
	for {
		if got, _ := there.Merchant(ctx, "shop"); got.WebhookURL == m.WebhookURL {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("another instance still misses the webhook well after its MerchantTTL")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := here.RemoveMerchant(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := here.Merchant(ctx, "shop"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a removed merchant is still found by the instance that removed it: %v", err)
	}
}
