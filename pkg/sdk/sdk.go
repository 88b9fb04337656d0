// Package sdk is a reference 3DS SDK: the part of EMV 3-D Secure that runs inside a merchant's app.
// It behaves as a certified app SDK does, so that a merchant's back end, a 3DS Server and an ACS can
// be tested against it, and so that `open3ds sdk` can buy like an app.
//
// An SDK is built for one scheme from what an app bundles: the DS's encryption certificate, the DS
// id, the scheme's CA roots and the SDK's reference number. For each purchase the app calls
// CreateTransaction, which makes a fresh ephemeral key and sdkTransID and encrypts the device
// information to the DS; the app sends AuthenticationRequestParameters to its back end, which asks
// its 3DS Server to authenticate. When the ARes says C, the app passes what the back end got back
// to DoChallenge, which checks the ACS's signed content against the scheme's CA, derives the session
// key, and runs the challenge with the ACS directly, showing each screen through the app's UI.
//
// The wire formats follow docs/protocol.md and /work/shared/PROTOCOL.md §1.5, §2.4, §2.5 and §5.
package sdk

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/ids"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
)

// Version is the SDK's own version, which the device information carries.
const Version = "1.0.0"

// Config is what an app bundles for one scheme, and how the SDK behaves.
type Config struct {
	// DSCertificate is the scheme's DS encryption certificate; its RSA or EC P-256 key encrypts
	// sdkEncData. DSKeyID, when set, goes into the JWE as kid.
	DSCertificate *x509.Certificate
	DSKeyID       string
	// DSID is the scheme's RID (e.g. A000000003), which the EC key derivation of sdkEncData uses.
	DSID string
	// Roots are the scheme's CA certificates, which acsSignedContent must chain to.
	Roots *x509.CertPool
	// ReferenceNumber is the sdkReferenceNumber EMVCo gave the SDK; it is also the session key
	// derivation's PartyVInfo.
	ReferenceNumber string
	// AppID is the sdkAppID: a UUID the app makes once per installation.
	AppID string
	// MessageVersion is the protocol version the SDK speaks; default 2.2.0.
	MessageVersion string
	// MaxTimeout bounds a challenge, 5 to 99 minutes; default 5. It is sdkMaxTimeout.
	MaxTimeout time.Duration
	// Interface and UITypes are the deviceRenderOptions: default 03 (native and HTML) and every
	// UI type 01-05.
	Interface string
	UITypes   []string
	// Device overrides or adds to the device information the SDK gathers itself.
	Device DeviceInfo
	// Client carries CReqs to the ACS; default a client with RequestTimeout.
	Client *http.Client
	// RequestTimeout bounds each CReq's wait for its CRes; default 10 s, as production SDKs do.
	RequestTimeout time.Duration
	// Enc is the content encryption of CReqs, A128CBC-HS256 (default) or A128GCM.
	Enc string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// LoopbackHTTP lets the challenge run over plain HTTP to an acsURL on this machine (localhost,
	// 127.0.0.0/8, ::1), as `open3ds demo` serves its pages; every other acsURL must be https, as
	// the protocol requires. A production app never sets it.
	LoopbackHTTP bool
}

// SDK is a 3DS SDK initialised for one scheme. It is safe for concurrent use.
type SDK struct {
	cfg Config
}

// New checks cfg and returns the SDK. Its errors name the configuration that is missing or wrong.
func New(cfg Config) (*SDK, error) {
	if cfg.DSCertificate == nil {
		return nil, errors.New("sdk: the DS encryption certificate is required")
	}
	if cfg.DSID == "" || cfg.Roots == nil || cfg.ReferenceNumber == "" {
		return nil, errors.New("sdk: the DS id, the scheme's CA roots and the SDK reference number are required")
	}
	if len(cfg.ReferenceNumber) > 32 {
		return nil, errors.New("sdk: the SDK reference number is at most 32 characters")
	}
	if !isUUID(cfg.AppID) {
		return nil, fmt.Errorf("sdk: the app id %q is not a UUID", cfg.AppID)
	}
	if cfg.MessageVersion == "" {
		cfg.MessageVersion = emv.Version220
	}
	if !emv.IsSupportedVersion(cfg.MessageVersion) {
		return nil, fmt.Errorf("sdk: message version %q is not supported", cfg.MessageVersion)
	}
	if cfg.MaxTimeout == 0 {
		cfg.MaxTimeout = 5 * time.Minute
	}
	if cfg.MaxTimeout < 5*time.Minute || cfg.MaxTimeout > 99*time.Minute {
		return nil, errors.New("sdk: the maximum challenge time is 5 to 99 minutes")
	}
	if cfg.Interface == "" {
		cfg.Interface = "03"
	}
	if len(cfg.UITypes) == 0 {
		cfg.UITypes = []string{"01", "02", "03", "04", "05"}
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.RequestTimeout}
	}
	if cfg.Enc == "" {
		cfg.Enc = sdkcrypto.EncA128CBCHS256
	}
	if cfg.Enc != sdkcrypto.EncA128CBCHS256 && cfg.Enc != sdkcrypto.EncA128GCM {
		return nil, fmt.Errorf("sdk: content encryption %q is not supported", cfg.Enc)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Device = completeDevice(cfg.Device)
	// Encrypting once now finds a DS key of the wrong kind at start rather than at the first purchase.
	if _, err := sdkcrypto.EncryptSDKEncData([]byte("{}"), cfg.DSCertificate.PublicKey, cfg.DSKeyID, cfg.DSID, sdkcrypto.EncA128CBCHS256, ""); err != nil {
		return nil, fmt.Errorf("sdk: the DS encryption certificate: %w", err)
	}
	return &SDK{cfg: cfg}, nil
}

// AuthenticationRequestParameters are what the app sends its back end, which hands them to the 3DS
// Server for the AReq. The JSON is the `sdk` object of the open3ds merchant API.
type AuthenticationRequestParameters struct {
	SDKAppID            string              `json:"sdkAppID"`
	SDKTransID          string              `json:"sdkTransID"`
	SDKEncData          string              `json:"sdkEncData"`
	SDKEphemPubKey      json.RawMessage     `json:"sdkEphemPubKey"`
	SDKMaxTimeout       string              `json:"sdkMaxTimeout"`
	SDKReferenceNumber  string              `json:"sdkReferenceNumber"`
	DeviceRenderOptions DeviceRenderOptions `json:"deviceRenderOptions"`
	// MessageVersion is the version the SDK speaks, the highest the AReq may be in: each CReq
	// carries it, and the ACS answers in the AReq's.
	MessageVersion string `json:"messageVersion"`
}

// DeviceRenderOptions are the challenge interfaces and UI types the app can show.
type DeviceRenderOptions struct {
	SDKInterface string   `json:"sdkInterface"`
	SDKUiType    []string `json:"sdkUiType"`
}

// Transaction is one purchase's SDK transaction: its ephemeral key lives only here, in memory.
type Transaction struct {
	sdk    *SDK
	key    *ecdh.PrivateKey
	params AuthenticationRequestParameters

	mu      sync.Mutex
	started bool // DoChallenge runs once
}

// CreateTransaction starts an SDK transaction: a fresh P-256 key, a fresh sdkTransID, and the device
// information encrypted to the DS. Its errors are the random source's and the encryption's.
func (s *SDK) CreateTransaction() (*Transaction, error) {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	// A time-ordered UUID, as open3ds makes every transaction id: peers check the form, not the version.
	id := ids.New()
	device, err := json.Marshal(s.deviceData(id))
	if err != nil {
		return nil, err
	}
	enc, err := sdkcrypto.EncryptSDKEncData(device, s.cfg.DSCertificate.PublicKey, s.cfg.DSKeyID, s.cfg.DSID, sdkcrypto.EncA128CBCHS256, "")
	if err != nil {
		return nil, fmt.Errorf("sdk: encrypting the device data: %w", err)
	}
	jwk, err := json.Marshal(sdkcrypto.PublicJWK(key.PublicKey()))
	if err != nil {
		return nil, err
	}
	return &Transaction{sdk: s, key: key, params: AuthenticationRequestParameters{
		SDKAppID: s.cfg.AppID, SDKTransID: id, SDKEncData: enc, SDKEphemPubKey: jwk,
		SDKMaxTimeout: fmt.Sprintf("%02d", int(s.cfg.MaxTimeout/time.Minute)), SDKReferenceNumber: s.cfg.ReferenceNumber,
		DeviceRenderOptions: DeviceRenderOptions{SDKInterface: s.cfg.Interface, SDKUiType: s.cfg.UITypes},
		MessageVersion:      s.cfg.MessageVersion,
	}}, nil
}

// AuthenticationRequestParameters returns what the app sends its back end.
func (t *Transaction) AuthenticationRequestParameters() AuthenticationRequestParameters {
	return t.params
}

// isUUID reports whether s is a UUID in the 8-4-4-4-12 form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
