package notify_test

import (
	"context"
	"flag"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/notify/smsctest"
)

func load(t *testing.T, env map[string]string) (notify.Config, error) {
	t.Helper()
	var c notify.Config
	err := config.Load(&c, flag.NewFlagSet("test", flag.ContinueOnError), nil, func(k string) string { return env[k] })
	return c, err
}

func TestOpenWithoutConfigurationUsesTheOutbox(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := notify.Open(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, ch := range []notify.Channel{notify.SMS, notify.Email} {
		if _, err := s.Router.Send(context.Background(), message(ch, "+81 90 1234 5678")); err != nil {
			t.Fatal(err)
		}
	}
	if s.Outbox == nil || len(s.Outbox.Messages("")) != 2 {
		t.Fatal("the outbox did not get both messages")
	}
}

func TestOpenBindsAnSMPPProviderFromTheEnvironment(t *testing.T) {
	smsc := smsctest.Start(t)
	c, err := load(t, map[string]string{"OPEN3DS_SMS": "smpp", "OPEN3DS_SMPP_ADDR": smsc.Addr,
		"OPEN3DS_SMPP_SYSTEM_ID": "open3ds", "OPEN3DS_SMPP_PASSWORD": "secret", "OPEN3DS_SMPP_SOURCE": "DemoBank"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := notify.Open(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Router.Send(context.Background(), message(notify.SMS, "+81 90 1234 5678")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := smsc.WaitFor("unbind", 0, wait()); !ok {
		t.Fatal("Close did not unbind")
	}
}

func TestConfigProblemsNameTheField(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		field string
	}{
		{"an unknown SMS provider", map[string]string{"OPEN3DS_SMS": "pigeon"}, "sms"},
		{"a webhook without a secret", map[string]string{"OPEN3DS_SMS": "webhook", "OPEN3DS_WEBHOOK_URL": "https://gw.example/sms"}, "webhook"},
		{"SMTP without a server", map[string]string{"OPEN3DS_EMAIL": "smtp"}, "smtp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("err = %v, want a problem naming %s", err, tc.field)
			}
		})
	}
}
