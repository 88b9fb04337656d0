package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

func TestEnrolMerchantShowsTheKeyOnceAndStoresOnlyItsDigest(t *testing.T) {
	for _, b := range dsStores {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			out := mustEnrol(t, dsn, "merchant", "add", "--id", "shop", "--name", "Shop Demo", "--requestor-id", "R*1",
				"--requestor-name", "Shop", "--requestor-url", "https://shop.example", "--acquirer-bin", "412345",
				"--acquirer-merchant-id", "M1", "--mcc", "5732", "--country", "250")
			var created threedsserver.CreatedMerchant
			if err := json.Unmarshal([]byte(out), &created); err != nil || created.APIKey == "" {
				t.Fatalf("add printed %s; want the merchant with its API key", out)
			}
			db, err := store.Open(context.Background(), dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			st := threedsserver.NewSQLStore(db)
			if m, err := st.MerchantByKey(context.Background(), threedsserver.HashAPIKey(created.APIKey)); err != nil || m.ID != "shop" {
				t.Fatalf("the key does not find the merchant: %v", err)
			}
			var stored int
			db.Reader().QueryRow(db.Rebind(`SELECT COUNT(*) FROM tdss_merchants WHERE api_key_hash = ?`), created.APIKey).Scan(&stored)
			if stored != 0 {
				t.Fatal("the API key is stored in clear")
			}

			mustEnrol(t, dsn, "merchant", "change", "--id", "shop", "--mcc", "5411")
			if list := mustEnrol(t, dsn, "merchant", "list"); !strings.Contains(list, `"mcc": "5411"`) || strings.Contains(list, created.APIKey) {
				t.Fatalf("list = %s; want the changed MCC and no key", list)
			}
			rotated := mustEnrol(t, dsn, "merchant", "change", "--id", "shop", "--new-key")
			if _, err := st.MerchantByKey(context.Background(), threedsserver.HashAPIKey(created.APIKey)); err == nil || strings.Contains(rotated, created.APIKey) {
				t.Fatal("the old key still works after --new-key")
			}
			if _, err := enrol(t, dsn, "merchant", "add", "--id", "bad id", "--mcc", "57"); err == nil ||
				!strings.Contains(err.Error(), "mcc") || !strings.Contains(err.Error(), "id") {
				t.Fatalf("a bad merchant got %v; want an error naming id and mcc", err)
			}
			mustEnrol(t, dsn, "merchant", "remove", "--id", "shop")
			if list := mustEnrol(t, dsn, "merchant", "list"); strings.TrimSpace(list) != "[]" {
				t.Fatalf("after remove, list = %s", list)
			}
		})
	}
}
