package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/audit"
	"github.com/open3ds/open3ds/internal/store"
)

func TestChangesFromTheCommandLineAreInTheAuditLogWithoutTheirValues(t *testing.T) {
	for _, b := range dsStores {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			mustEnrol(t, dsn, "merchant", "add", "--id", "shop", "--name", "Shop Demo", "--requestor-id", "R*1",
				"--requestor-name", "Shop", "--requestor-url", "https://shop.example", "--acquirer-bin", "412345",
				"--acquirer-merchant-id", "M1", "--mcc", "5732", "--country", "250")
			mustEnrol(t, dsn, "merchant", "list")
			var out, errb bytes.Buffer
			getenv := func(k string) string {
				return map[string]string{"OPEN3DS_DSN": dsn, "OPEN3DS_ACTOR": "alice"}[k]
			}
			if err := run(context.Background(), []string{"console", "account", "add", "--name", "olga", "--access", "read-only"},
				getenv, strings.NewReader(""), &out, &errb); err != nil {
				t.Fatalf("console account add: %v %s", err, errb.String())
			}
			var created map[string]string
			if json.Unmarshal(out.Bytes(), &created) != nil || len(created["password"]) < 12 || created["access"] != "read-only" {
				t.Fatalf("console account add printed %s", out.String())
			}
			if err := run(context.Background(), []string{"console", "account", "add", "--name", "olga"},
				getenv, strings.NewReader(""), &out, &errb); err == nil || !strings.Contains(err.Error(), "--name") {
				t.Fatalf("a second olga: %v", err)
			}

			db, err := store.Open(context.Background(), dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			es, err := audit.New(db).List(context.Background(), audit.Filter{Via: audit.ViaCLI})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != 2 {
				t.Fatalf("%d entries, want the merchant's and the account's (the list changes nothing): %+v", len(es), es)
			}
			acct, merch := es[0], es[1]
			if acct.Action != "account.add" || acct.Actor != "alice" || acct.Target != "olga" || acct.Detail != "access read-only" {
				t.Errorf("the account's entry: %+v", acct)
			}
			if merch.Action != "enrol.merchant.add" || merch.Target != "shop" || !strings.Contains(merch.Detail, "--mcc") ||
				strings.Contains(merch.Detail, "5732") || strings.Contains(merch.Detail, "Shop Demo") {
				t.Errorf("the merchant's entry: %+v", merch)
			}
		})
	}
}
