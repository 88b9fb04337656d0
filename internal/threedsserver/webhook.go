package threedsserver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/open3ds/open3ds/internal/tracing"
)

// SignatureHeader carries a webhook's signature: "t=<unix seconds>,v1=<hex HMAC-SHA256>" over
// "<t>.<body>". The key is the hex SHA-256 digest of the merchant's API key (HashAPIKey), which the
// merchant can compute and the 3DS Server keeps anyway, so no second secret has to be handed out.
// The timestamp lets the merchant refuse replays.
const SignatureHeader = "X-Open3ds-Signature"

// Sign computes the v1 signature of body at t with key.
func Sign(key string, t time.Time, body []byte) string {
	mac := hmac.New(sha256.New, []byte(key))
	ts := strconv.FormatInt(t.Unix(), 10)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// notify posts the final result of t to its merchant's webhook, if it has one, in the background:
// a few attempts with back-off, then it gives up (the merchant can always GET the result).
func (s *Server) notify(ctx context.Context, t Transaction) {
	// Most merchants have no webhook: the (cached) merchant says so without reading its key.
	if m, err := s.cfg.Store.Merchant(ctx, t.MerchantID); err != nil || m.WebhookURL == "" {
		return
	}
	m, keyHash, err := s.cfg.Store.MerchantKeyHash(ctx, t.MerchantID)
	if err != nil || m.WebhookURL == "" {
		return
	}
	body, err := json.Marshal(resultOf(t))
	if err != nil {
		return
	}
	// The deliveries are tracked by the drain, so that a shutdown lets them finish (or logs them cut
	// off) rather than dropping them unseen; they outlive the request that ended the transaction,
	// but stay in its trace.
	s.cfg.Drain.Go(tracing.Sending(ctx, "webhook"), "webhook", func(ctx context.Context) {
		delay := 500 * time.Millisecond
		for attempt := 1; attempt <= 4; attempt++ {
			if s.postWebhook(ctx, m.WebhookURL, keyHash, body) {
				return
			}
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				attempt = 4
			}
			delay *= 4
		}
		s.cfg.Log.WarnContext(ctx, "webhook not delivered", "merchant", m.ID, "id", t.ID)
	})
}

func (s *Server) postWebhook(ctx context.Context, url, key string, body []byte) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(key, s.cfg.Now(), body))
	resp, err := s.webhooks.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}
