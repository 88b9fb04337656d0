package smpp_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/notify/smpp"
	"github.com/open3ds/open3ds/internal/notify/smsctest"
)

const wait = 5 * time.Second

func dial(t *testing.T, smsc *smsctest.SMSC, tune func(*smpp.Config)) *smpp.Client {
	t.Helper()
	cfg := smpp.Config{Addr: smsc.Addr, SystemID: "open3ds", Password: "secret", Source: "DemoBank",
		SourceTON: 5, ResponseTimeout: 2 * time.Second, ReconnectMin: 20 * time.Millisecond}
	if tune != nil {
		tune(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := smpp.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSubmitReachesAnIndependentSMSC(t *testing.T) {
	smsc := smsctest.Start(t)
	c := dial(t, smsc, nil)
	cases := []struct {
		name, dest, text string
		coding           int
		wantDest         string
		ton              int
	}{
		{"plain English goes in the GSM default alphabet", "+81 90 1234 5678", "Demo Bank: 482913 is your code.", 0, "819012345678", 1},
		{"GSM specials and the extension table survive", "+44 7700 900123", "Code 482913 @ £5 {ok} [x] ~ € Ünïcode? no: Üñ", -1, "447700900123", 1},
		{"Japanese goes in UCS-2 with data_coding 8", "+81 90 1234 5678", "デモ銀行：認証コードは482913です。", 8, "819012345678", 1},
		{"a national number is sent as given", "09012345678", "482913", 0, "09012345678", 0},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := c.Submit(context.Background(), tc.dest, tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if id == "" {
				t.Fatal("no message_id")
			}
			e, ok := smsc.WaitFor("submit_sm", i, wait)
			if !ok {
				t.Fatal("the SMSC saw no submit_sm")
			}
			if tc.coding == -1 {
				// "ï" is not in the GSM alphabet, so this text must go as UCS-2.
				tc.coding = 8
			}
			if e.Text != tc.text || e.DataCoding != tc.coding || e.DestinationAddr != tc.wantDest || e.DestAddrTON != tc.ton || e.SourceAddr != "DemoBank" {
				t.Fatalf("SMSC got %+v", e)
			}
		})
	}
}

func TestGSMTextDecodesAtTheSMSC(t *testing.T) {
	smsc := smsctest.Start(t)
	c := dial(t, smsc, nil)
	text := "Code 482913 @ £5 {ok} [x] ~ € é"
	if _, err := c.Submit(context.Background(), "+447700900123", text); err != nil {
		t.Fatal(err)
	}
	e, _ := smsc.WaitFor("submit_sm", 0, wait)
	if e.DataCoding != 0 || e.Text != text {
		t.Fatalf("SMSC got coding %d text %q", e.DataCoding, e.Text)
	}
}

func TestBindWithAWrongPasswordFails(t *testing.T) {
	smsc := smsctest.Start(t)
	_, err := smpp.Dial(context.Background(), smpp.Config{Addr: smsc.Addr, SystemID: "open3ds", Password: "wrong"})
	var se *smpp.StatusError
	if !errors.As(err, &se) || se.Status != smpp.ESME_RBINDFAIL {
		t.Fatalf("err = %v, want ESME_RBINDFAIL", err)
	}
}

func TestRefusalsBecomeStatusErrors(t *testing.T) {
	smsc := smsctest.Start(t)
	c := dial(t, smsc, nil)
	cases := []struct {
		name    string
		dest    string
		command smpp.CommandID
		status  smpp.Status
	}{
		{"an invalid destination is answered with ESME_RINVDSTADR", "+999 1234 5678", smpp.SubmitSMResp, smpp.ESME_RINVDSTADR},
		{"a generic_nack is matched to its request by sequence number", "+666 1234 5678", smpp.GenericNack, smpp.ESME_RINVCMDID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Submit(context.Background(), tc.dest, "482913")
			var se *smpp.StatusError
			if !errors.As(err, &se) || se.Command != tc.command || se.Status != tc.status || se.Temporary() {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// The session is still usable after refusals.
	if _, err := c.Submit(context.Background(), "+81 90 1234 5678", "482913"); err != nil {
		t.Fatal(err)
	}
}

func TestTheClientReconnectsAfterADroppedLink(t *testing.T) {
	smsc := smsctest.Start(t)
	c := dial(t, smsc, nil)
	_, err := c.Submit(context.Background(), "+555 1234 5678", "482913")
	if !errors.Is(err, smpp.ErrConnectionLost) {
		t.Fatalf("err = %v, want ErrConnectionLost", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := c.Submit(ctx, "+81 90 1234 5678", "482913"); err != nil {
		t.Fatalf("submit after the drop: %v", err)
	}
	if n := smsc.Count("bind_transmitter"); n != 2 {
		t.Fatalf("%d binds, want 2", n)
	}
}

func TestKeepAliveAndTheSMSCsOwnRequests(t *testing.T) {
	smsc := smsctest.Start(t)
	var mu sync.Mutex
	var receipts []smpp.DeliveryReceipt
	c := dial(t, smsc, func(cfg *smpp.Config) {
		cfg.EnquireLinkInterval = 30 * time.Millisecond
		cfg.RegisteredDelivery = true
		cfg.OnReceipt = func(r smpp.DeliveryReceipt) { mu.Lock(); receipts = append(receipts, r); mu.Unlock() }
	})
	if e, ok := smsc.WaitFor("enquire_link_resp", 0, wait); !ok || e.CommandStatus != 0 {
		t.Fatalf("the SMSC's enquire_link was not answered: %+v", e)
	}
	if _, ok := smsc.WaitFor("enquire_link", 1, wait); !ok {
		t.Fatal("the client sent no periodic enquire_link")
	}
	id, err := c.Submit(context.Background(), "+81 90 1234 5678", "482913")
	if err != nil {
		t.Fatal(err)
	}
	e, ok := smsc.WaitFor("deliver_sm_resp", 0, wait)
	if !ok || e.CommandStatus != 0 || e.MessageID != id {
		t.Fatalf("the receipt was not acknowledged: %+v", e)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(receipts) != 1 || receipts[0].MessageID != id || !receipts[0].Delivered() || receipts[0].Err != "000" {
		t.Fatalf("receipts = %+v", receipts)
	}
}

func TestCloseUnbinds(t *testing.T) {
	smsc := smsctest.Start(t)
	c := dial(t, smsc, nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := smsc.WaitFor("unbind", 0, wait); !ok {
		t.Fatal("the SMSC saw no unbind")
	}
	if _, err := c.Submit(context.Background(), "+81 90 1234 5678", "x"); !errors.Is(err, smpp.ErrClosed) {
		t.Fatalf("submit after close: %v", err)
	}
}
