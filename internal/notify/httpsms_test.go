package notify_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/notify"
)

var webhookSecret = []byte("webhook-shared-secret-0123456789")

// gateway is an httptest SMS gateway that answers with the given statuses in turn (200 once they
// run out) and records each request that passed its authentication check.
type gateway struct {
	mu       sync.Mutex
	statuses []int
	calls    int
	accepted []map[string]string
	srv      *httptest.Server
}

func startGateway(t *testing.T, check func(r *http.Request, body []byte) (map[string]string, bool), statuses ...int) *gateway {
	g := &gateway{statuses: statuses}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		defer g.mu.Unlock()
		g.calls++
		fields, ok := check(r, body)
		if !ok {
			http.Error(w, `{"message":"authentication failed"}`, http.StatusUnauthorized)
			return
		}
		if len(g.statuses) > 0 {
			st := g.statuses[0]
			g.statuses = g.statuses[1:]
			if st != 200 {
				http.Error(w, `{"message":"failed for +81 90 1234 5678"}`, st)
				return
			}
		}
		g.accepted = append(g.accepted, fields)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"gw-1","sid":"SM123"}`)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) result() (int, []map[string]string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls, g.accepted
}

// checkWebhook verifies the signature the way a gateway would: the timestamp must be recent and
// the HMAC must match.
func checkWebhook(r *http.Request, body []byte) (map[string]string, bool) {
	sig := r.Header.Get(notify.SignatureHeader)
	ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute || r.Method != http.MethodPost ||
		r.Header.Get("Content-Type") != "application/json" {
		return nil, false
	}
	if !hmac.Equal([]byte(sig), []byte(notify.Sign(webhookSecret, body, time.Unix(sec, 0)))) {
		return nil, false
	}
	var f map[string]string
	return f, json.Unmarshal(body, &f) == nil
}

func checkMessagesAPI(r *http.Request, body []byte) (map[string]string, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != "AC42" || pass != "auth-token" || r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/AC42/Messages.json" {
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		return nil, false
	}
	return map[string]string{"To": form.Get("To"), "From": form.Get("From"), "Body": form.Get("Body")}, true
}

type smsCase struct {
	name      string
	statuses  []int
	wrongAuth bool
	wantCalls int
	wantErr   bool
	permanent bool
}

var smsCases = []smsCase{
	{"a 200 answer sends the message", nil, false, 1, false, false},
	{"a 503 then a 200 is retried and sent", []int{503, 200}, false, 2, false, false},
	{"three 500 answers fail after two retries", []int{500, 500, 500}, false, 3, true, false},
	{"a 400 answer fails at once without a retry", []int{400}, false, 1, true, true},
	{"a wrong credential is refused without a retry", nil, true, 1, true, true},
}

func runSMSCase(t *testing.T, tc smsCase, g *gateway, s notify.Sender, provider string) []map[string]string {
	t.Helper()
	rc, err := s.Send(context.Background(), message(notify.SMS, "+81 90 1234 5678"))
	calls, accepted := g.result()
	if calls != tc.wantCalls {
		t.Fatalf("gateway called %d times, want %d", calls, tc.wantCalls)
	}
	if (err != nil) != tc.wantErr {
		t.Fatalf("err = %v", err)
	}
	var pe *notify.PermanentError
	if err != nil && errors.As(err, &pe) != tc.permanent {
		t.Fatalf("err %v: permanent = %v", err, !tc.permanent)
	}
	if err != nil && (strings.Contains(err.Error(), "1234") || strings.Contains(err.Error(), "482913")) {
		t.Fatalf("error reveals the destination or the code: %v", err)
	}
	if err == nil && (rc.Provider != provider || rc.To != "•••• 5678" || rc.ProviderID == "") {
		t.Fatalf("receipt = %+v", rc)
	}
	return accepted
}

func TestWebhookSender(t *testing.T) {
	for _, tc := range smsCases {
		t.Run(tc.name, func(t *testing.T) {
			g := startGateway(t, checkWebhook, tc.statuses...)
			secret := webhookSecret
			if tc.wrongAuth {
				secret = []byte("not-the-shared-secret-at-all-000")
			}
			s, err := notify.NewWebhookSender(notify.WebhookConfig{URL: g.srv.URL + "/sms", Secret: secret,
				Retry: notify.HTTPRetry{Backoff: time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			accepted := runSMSCase(t, tc, g, s, "webhook")
			if !tc.wantErr {
				f := accepted[0]
				if f["to"] != "+81 90 1234 5678" || !strings.Contains(f["text"], "482913") || !strings.Contains(f["text"], "Demo Bank") {
					t.Fatalf("fields = %v", f)
				}
			}
		})
	}
}

func TestMessagesAPISender(t *testing.T) {
	for _, tc := range smsCases {
		t.Run(tc.name, func(t *testing.T) {
			g := startGateway(t, checkMessagesAPI, tc.statuses...)
			token := "auth-token"
			if tc.wrongAuth {
				token = "wrong"
			}
			s, err := notify.NewMessagesAPISender(notify.MessagesAPIConfig{BaseURL: g.srv.URL + "/2010-04-01",
				AccountID: "AC42", AuthToken: token, From: "+15005550006", Retry: notify.HTTPRetry{Backoff: time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			accepted := runSMSCase(t, tc, g, s, "messages-api")
			if !tc.wantErr {
				f := accepted[0]
				if f["To"] != "+81 90 1234 5678" || f["From"] != "+15005550006" || !strings.Contains(f["Body"], "482913") {
					t.Fatalf("fields = %v", f)
				}
			}
		})
	}
}

func TestHTTPSendersRejectBadConfiguration(t *testing.T) {
	if _, err := notify.NewWebhookSender(notify.WebhookConfig{URL: "ftp://x", Secret: webhookSecret}); err == nil {
		t.Error("webhook accepted an ftp URL")
	}
	if _, err := notify.NewWebhookSender(notify.WebhookConfig{URL: "https://gw.example/sms", Secret: []byte("short")}); err == nil {
		t.Error("webhook accepted a short secret")
	}
	if _, err := notify.NewMessagesAPISender(notify.MessagesAPIConfig{BaseURL: "https://api.example", AccountID: "AC1"}); err == nil {
		t.Error("messages API accepted a missing token")
	}
}
