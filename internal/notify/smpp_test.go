package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/notify/smpp"
	"github.com/open3ds/open3ds/internal/notify/smsctest"
)

func TestSMPPSenderDeliversLocalisedCodes(t *testing.T) {
	smsc := smsctest.Start(t)
	c, err := smpp.Dial(context.Background(), smpp.Config{Addr: smsc.Addr, SystemID: "open3ds", Password: "secret",
		Source: "DemoBank", SourceTON: 5, ResponseTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := notify.NewSMPPSender(c)
	cases := []struct {
		name, locale, to string
		coding           int
		has              string
	}{
		{"an English code goes in the GSM alphabet", "en", "+81 90 1234 5678", 0, "482913 is your code"},
		{"a Japanese code goes in UCS-2", "ja-JP", "+81 90 1234 5678", 8, "認証コードは482913です"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := message(notify.SMS, tc.to)
			m.Locale = tc.locale
			rc, err := s.Send(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			if rc.Provider != "smpp" || rc.ProviderID == "" || rc.To != "•••• 5678" {
				t.Fatalf("receipt = %+v", rc)
			}
			e, ok := smsc.WaitFor("submit_sm", i, 5*time.Second)
			if !ok || e.DataCoding != tc.coding || !strings.Contains(e.Text, tc.has) || e.DestinationAddr != "819012345678" {
				t.Fatalf("SMSC got %+v", e)
			}
		})
	}
	_, err = s.Send(context.Background(), message(notify.SMS, "+999 1234 5678"))
	var pe *notify.PermanentError
	if !errors.As(err, &pe) {
		t.Fatalf("a refused destination gave %v, want a permanent error", err)
	}
}
