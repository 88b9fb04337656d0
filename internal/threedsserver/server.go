package threedsserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/vault"
)

// Recorder keeps the exchange log; *store.DB is one.
type Recorder interface {
	RecordExchange(ctx context.Context, e store.Exchange) error
}

// Config is what a Server is built from.
type Config struct {
	Store    Store
	Recorder Recorder // nil: exchanges are not recorded
	// Client calls the DS; it must present the 3DS Server's certificate (mutual TLS). Keep-alive
	// comes from its Transport.
	Client *http.Client
	// DSURL is the DS's protocol endpoint, for AReq, PReq and Erro.
	DSURL string
	// PublicURL is where browsers reach PublicHandler (checkout script, 3DS Method and challenge
	// notifications).
	PublicURL string
	// ProtocolURL is where the DS reaches ProtocolHandler; it goes into each AReq as threeDSServerURL.
	ProtocolURL string
	// ParentOrigin, when set, is the only origin the notification pages post to (a 3DS Server for
	// one merchant); when empty, each merchant's page origin is that of its threeDSRequestorURL.
	ParentOrigin string
	// RefNumber and OperatorID are threeDSServerRefNumber and threeDSServerOperatorID.
	RefNumber, OperatorID string
	// Vault seals the PAN between start and AReq.
	Vault *vault.Keyring
	// Timeout bounds each call to the DS; default 10 s.
	Timeout time.Duration
	// Refresh is how often the card ranges are reloaded, 1 h to 24 h; default 12 h.
	Refresh time.Duration
	// WebhookTransport carries the webhooks to merchants; nil is http.DefaultTransport. The role
	// gives one that traces each call.
	WebhookTransport http.RoundTripper

	Metrics *Metrics // nil: not counted
	Log     *slog.Logger
	Now     func() time.Time
	// Drain tracks the work that outlives its request (an AReq exchange, an RReq, a webhook), so
	// that a shutdown waits for it; nil detaches it untracked.
	Drain *httpx.Drain
}

// Server is the 3DS Server.
type Server struct {
	cfg      Config
	webhooks *http.Client
}

// NewServer fills in defaults and returns the server.
func NewServer(cfg Config) *Server {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	cfg.Refresh = min(max(cfg.Refresh, MinRefresh), MaxRefresh)
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefNumber == "" {
		cfg.RefNumber = "open3ds-3dss"
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	cfg.ProtocolURL = strings.TrimRight(cfg.ProtocolURL, "/")
	// A configured parent origin written as a URL ("https://shop.example/") is taken as its origin,
	// the form both postMessage and the returnUrl check compare with.
	if o, ok := originOf(cfg.ParentOrigin); ok {
		cfg.ParentOrigin = o
	}
	// Webhooks go to merchants' ordinary HTTPS endpoints, not over the scheme's mutual TLS.
	return &Server{cfg: cfg, webhooks: &http.Client{Timeout: 5 * time.Second, Transport: cfg.WebhookTransport}}
}

// The limits of the card-range refresh period (PROTOCOL.md §1.3).
const (
	MinRefresh     = time.Hour
	MaxRefresh     = 24 * time.Hour
	DefaultRefresh = 12 * time.Hour
)

// Our own supported span: we emit 2.2.0 and 2.3.1 and accept 2.1.0 (PROTOCOL.md, version strategy).
var (
	ourLowest  = emv.Version210
	ourHighest = emv.Version231
)

// NewAPIKey makes a merchant API key and the digest the store keeps of it. The key is 32 random
// bytes, so a fast digest is as safe as a slow one and lets the key be looked up directly.
func NewAPIKey() (key, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	key = "o3ds_" + base64.RawURLEncoding.EncodeToString(b)
	return key, HashAPIKey(key)
}

// HashAPIKey is the digest of a merchant API key as the store keeps it.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
