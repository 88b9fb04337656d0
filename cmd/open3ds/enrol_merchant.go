package main

import (
	"context"
	"fmt"
	"time"

	"github.com/open3ds/open3ds/internal/threedsserver"
)

func init() {
	enrolGroup.add(command{name: "merchant", summary: "the 3DS Server's merchants and their API keys: add | change | list | remove", run: runEnrolMerchant})
}

// runEnrolMerchant administers the 3DS Server's merchants. add prints the merchant with its API
// key, the only time the key is shown; change --new-key replaces the key the same way.
func runEnrolMerchant(ctx context.Context, e env, args []string) error {
	c, args, err := newEnrolCmd(e, "merchant", args, "add", "change", "list", "remove")
	if err != nil {
		return err
	}
	id := c.fs.String("id", "", "the merchant's id in this 3DS Server")
	name := c.fs.String("name", "", "merchantName (at most 40 characters)")
	reqID := c.fs.String("requestor-id", "", "threeDSRequestorID, as the DS assigned it")
	reqName := c.fs.String("requestor-name", "", "threeDSRequestorName")
	reqURL := c.fs.String("requestor-url", "", "threeDSRequestorURL")
	bin := c.fs.String("acquirer-bin", "", "acquirerBIN")
	mid := c.fs.String("acquirer-merchant-id", "", "acquirerMerchantID")
	mcc := c.fs.String("mcc", "", "merchant category code (4 digits)")
	country := c.fs.String("country", "", "merchantCountryCode (ISO 3166-1 numeric)")
	webhook := c.fs.String("webhook-url", "", "where final results are posted (optional)")
	newKey := c.fs.Bool("new-key", false, "change: replace the API key and print the new one")
	st, done, err := tdssOpen(ctx, c, args)
	if err != nil {
		return err
	}
	defer done()
	switch c.verb {
	case "list":
		list, err := st.ListMerchants(ctx)
		if err != nil {
			return err
		}
		return c.print(list)
	case "remove":
		return st.RemoveMerchant(ctx, *id)
	}
	m := threedsserver.Merchant{ID: *id}
	if c.verb == "change" {
		if m, err = st.Merchant(ctx, *id); err != nil {
			return fmt.Errorf("merchant %q: %w", *id, err)
		}
	}
	for _, f := range []struct {
		dst  *string
		name string
		v    *string
	}{{&m.Name, "name", name}, {&m.RequestorID, "requestor-id", reqID}, {&m.RequestorName, "requestor-name", reqName},
		{&m.RequestorURL, "requestor-url", reqURL}, {&m.AcquirerBIN, "acquirer-bin", bin}, {&m.AcquirerMerchantID, "acquirer-merchant-id", mid},
		{&m.MCC, "mcc", mcc}, {&m.Country, "country", country}, {&m.WebhookURL, "webhook-url", webhook}} {
		c.set(f.dst, f.name, f.v)
	}
	if c.verb == "add" {
		out, err := threedsserver.AddMerchant(ctx, st, m, time.Now())
		if err != nil {
			return err
		}
		return c.print(out)
	}
	if err := m.Validate(); err != nil {
		return err
	}
	hash := ""
	var key string
	if *newKey {
		key, hash = threedsserver.NewAPIKey()
	}
	if err := st.ChangeMerchant(ctx, m, hash); err != nil {
		return err
	}
	if key != "" {
		return c.print(threedsserver.CreatedMerchant{Merchant: m, APIKey: key})
	}
	return c.print(m)
}

// tdssOpen reads the flags and opens the 3DS Server's store.
func tdssOpen(ctx context.Context, c *enrolCmd, args []string) (*threedsserver.SQLStore, func(), error) {
	db, err := c.open(ctx, args)
	if err != nil {
		return nil, nil, err
	}
	return threedsserver.NewSQLStore(db), func() { db.Close() }, nil
}
