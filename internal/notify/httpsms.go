package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTPRetry says how often an HTTP gateway is tried again after a 5xx answer. A 4xx answer is
// never retried: the gateway has judged the request, and sending it again would at best fail
// again and at worst send the code twice.
type HTTPRetry struct {
	Retries int           // extra attempts after a 5xx, 2 when zero, none when negative
	Backoff time.Duration // wait before the first retry, doubled each time; 200 ms when zero
}

func (r HTTPRetry) withDefaults() HTTPRetry {
	if r.Retries == 0 {
		r.Retries = 2
	} else if r.Retries < 0 {
		r.Retries = 0
	}
	if r.Backoff <= 0 {
		r.Backoff = 200 * time.Millisecond
	}
	return r
}

// post sends the request build makes, again after each 5xx, and returns the body of the first
// 2xx answer. The error names the status only: gateways echo destinations in their error bodies.
func post(ctx context.Context, client *http.Client, retry HTTPRetry, build func() (*http.Request, error)) ([]byte, error) {
	wait := retry.Backoff
	for attempt := 0; ; attempt++ {
		req, err := build()
		if err != nil {
			return nil, err
		}
		res, err := client.Do(req.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("notify: sms gateway: %w", err)
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		switch {
		case res.StatusCode >= 200 && res.StatusCode < 300:
			return body, nil
		case res.StatusCode >= 500 && attempt < retry.Retries:
			select {
			case <-time.After(wait):
				wait *= 2
			case <-ctx.Done():
				return nil, fmt.Errorf("notify: sms gateway answered %d, then %w", res.StatusCode, ctx.Err())
			}
		case res.StatusCode >= 500:
			return nil, fmt.Errorf("notify: sms gateway answered %d after %d attempts", res.StatusCode, attempt+1)
		default:
			return nil, &PermanentError{Err: fmt.Errorf("notify: sms gateway refused the message: %d", res.StatusCode)}
		}
	}
}

// WebhookConfig configures a WebhookSender.
type WebhookConfig struct {
	URL string
	// Secret signs each request; the gateway checks it. From configuration, never the repository.
	Secret []byte
	Client *http.Client // http.DefaultClient when nil
	Retry  HTTPRetry
}

// WebhookSender posts each SMS as JSON {"to", "text", "reference"} to a gateway of the issuer's
// own. The header Open3DS-Signature carries "t=<unix seconds>,v1=<hex HMAC-SHA-256 of
// "<t>.<body>">", so the gateway can check who sent the request and refuse replays.
type WebhookSender struct {
	cfg WebhookConfig
	now func() time.Time
}

// SignatureHeader is the request header carrying the webhook signature.
const SignatureHeader = "Open3DS-Signature"

// NewWebhookSender checks cfg and returns a sender.
func NewWebhookSender(cfg WebhookConfig) (*WebhookSender, error) {
	if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("notify: webhook url %q is not an http(s) URL", cfg.URL)
	}
	if len(cfg.Secret) < 16 {
		return nil, errors.New("notify: webhook secret must be at least 16 bytes")
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	cfg.Retry = cfg.Retry.withDefaults()
	return &WebhookSender{cfg: cfg, now: time.Now}, nil
}

// Sign computes the signature header value for body at time t; gateways and tests use it to check
// a request.
func Sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Send implements Sender for SMS.
func (s *WebhookSender) Send(ctx context.Context, m Message) (Receipt, error) {
	rc := Receipt{Channel: SMS, Provider: "webhook", To: Mask(SMS, m.To)}
	if m.Channel != SMS {
		return rc, ErrUnsupportedChannel
	}
	r, err := Render(m)
	if err != nil {
		return rc, err
	}
	body, err := json.Marshal(map[string]string{"to": m.To, "text": r.SMS, "reference": m.ID})
	if err != nil {
		return rc, err
	}
	resp, err := post(ctx, s.cfg.Client, s.cfg.Retry, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, s.cfg.URL, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(SignatureHeader, Sign(s.cfg.Secret, body, s.now()))
		return req, nil
	})
	if err != nil {
		return rc, err
	}
	var ack struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(resp, &ack) == nil {
		rc.ProviderID = ack.ID
	}
	return rc, nil
}

// MessagesAPIConfig configures a MessagesAPISender.
type MessagesAPIConfig struct {
	// BaseURL is the API root, e.g. https://api.twilio.com/2010-04-01.
	BaseURL   string
	AccountID string
	AuthToken string // from configuration, never the repository
	From      string // the sender number or alphanumeric id
	Client    *http.Client
	Retry     HTTPRetry
}

// MessagesAPISender speaks the widely used form-encoded "Messages" API: POST
// {BaseURL}/Accounts/{AccountID}/Messages.json with To, From and Body, authenticated with HTTP
// basic auth, answered with JSON carrying the message "sid".
type MessagesAPISender struct {
	cfg      MessagesAPIConfig
	endpoint string
}

// NewMessagesAPISender checks cfg and returns a sender.
func NewMessagesAPISender(cfg MessagesAPIConfig) (*MessagesAPISender, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("notify: messages API base url %q is not an http(s) URL", cfg.BaseURL)
	}
	if cfg.AccountID == "" || cfg.AuthToken == "" || cfg.From == "" {
		return nil, errors.New("notify: messages API needs an account id, an auth token and a from number")
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	cfg.Retry = cfg.Retry.withDefaults()
	endpoint := strings.TrimSuffix(cfg.BaseURL, "/") + "/Accounts/" + url.PathEscape(cfg.AccountID) + "/Messages.json"
	return &MessagesAPISender{cfg: cfg, endpoint: endpoint}, nil
}

// Send implements Sender for SMS.
func (s *MessagesAPISender) Send(ctx context.Context, m Message) (Receipt, error) {
	rc := Receipt{Channel: SMS, Provider: "messages-api", To: Mask(SMS, m.To)}
	if m.Channel != SMS {
		return rc, ErrUnsupportedChannel
	}
	r, err := Render(m)
	if err != nil {
		return rc, err
	}
	form := url.Values{"To": {m.To}, "From": {s.cfg.From}, "Body": {r.SMS}}.Encode()
	resp, err := post(ctx, s.cfg.Client, s.cfg.Retry, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, s.endpoint, strings.NewReader(form))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.SetBasicAuth(s.cfg.AccountID, s.cfg.AuthToken)
		return req, nil
	})
	if err != nil {
		return rc, err
	}
	var ack struct {
		SID string `json:"sid"`
	}
	if json.Unmarshal(resp, &ack) == nil {
		rc.ProviderID = ack.SID
	}
	return rc, nil
}
