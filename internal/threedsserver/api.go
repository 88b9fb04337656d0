package threedsserver

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/ids"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/vault"
)

// MerchantRoutes are the routes of MerchantHandler, as api/openapi.yaml describes them.
var MerchantRoutes = []string{
	"POST /v1/authentications",
	"POST /v1/authentications/{id}/authenticate",
	"GET /v1/authentications/{id}",
}

// MerchantHandler is the merchant REST API: merchants' back ends call it with their API key.
func (s *Server) MerchantHandler() http.Handler {
	mux := http.NewServeMux()
	handlers := []func(http.ResponseWriter, *http.Request, Merchant) error{s.start, s.authenticate, s.get}
	for i, pattern := range MerchantRoutes {
		h := handlers[i]
		mux.Handle(pattern, httpx.API(func(w http.ResponseWriter, r *http.Request) error {
			m, err := s.merchantOf(r)
			if err != nil {
				return err
			}
			return h(w, r, m)
		}))
	}
	return mux
}

// merchantOf finds the merchant by the API key in the Authorization header; the store holds only
// the key's digest.
func (s *Server) merchantOf(r *http.Request) (Merchant, error) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok && key != "" {
		m, err := s.cfg.Store.MerchantByKey(r.Context(), HashAPIKey(key))
		if err == nil {
			return m, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return Merchant{}, err
		}
	}
	return Merchant{}, httpx.NewProblem(http.StatusUnauthorized, "a valid merchant API key is required (Authorization: Bearer)")
}

// StartRequest starts an authentication. A browser one (channel "browser", the default) carries
// only the card number: the 3DS Method runs next and authenticate sends the AReq. An app one (channel
// "app") carries the purchase and the 3DS SDK's parameters too and is sent at once, since an app has
// no 3DS Method to wait for.
type StartRequest struct {
	CardNumber string `json:"cardNumber"`
	Channel    string `json:"channel,omitempty"`
	// MessageCategory is "payment" (01, the default) or "non-payment" (02), in every channel.
	MessageCategory string `json:"messageCategory,omitempty"`

	// The 3RI channel only (threeri.go): what the requestor authenticates without the cardholder,
	// and the earlier authentication of this merchant it stands on.
	ThreeRIInd          string     `json:"threeRIInd,omitempty"`
	PriorAuthentication *PriorAuth `json:"priorAuthentication,omitempty"`
	Recurring           *Recurring `json:"recurring,omitempty"`
	Instalments         *int       `json:"instalments,omitempty"`

	// The app and 3RI channels (a browser sends them with authenticate).
	Amount         string         `json:"amount,omitempty"`   // minor units
	Currency       string         `json:"currency,omitempty"` // ISO 4217 numeric
	Exponent       *int           `json:"exponent,omitempty"` // default 2
	CardExpiryDate string         `json:"cardExpiryDate,omitempty"`
	CardholderName string         `json:"cardholderName,omitempty"`
	Email          string         `json:"email,omitempty"`
	SDK            *SDKParameters `json:"sdk,omitempty"`
	// Decoupled allows decoupled authentication as on a browser authenticate. The ACS here offers
	// its fallback to browser challenges only, so for an app "only" (F) gets a challenge.
	Decoupled *DecoupledRequest `json:"decoupled,omitempty"`
	// The requestor's login and the 2.3.1 data (requestor.go): app and 3RI; a browser sends them
	// with authenticate.
	RequestorData
}

// MethodForm is what the checkout script posts into the hidden 3DS Method iframe.
type MethodForm struct {
	URL               string `json:"url"`
	ThreeDSMethodData string `json:"threeDSMethodData"`
}

// StartResponse says whether the card is enrolled and how to go on.
type StartResponse struct {
	ID             string      `json:"id"`
	Enrolled       bool        `json:"enrolled"`
	ShowLogo       bool        `json:"showLogo"`
	MessageVersion string      `json:"messageVersion"`
	MaskedPAN      string      `json:"maskedPan"`
	ThreeDSMethod  *MethodForm `json:"threeDSMethod,omitempty"`
}

func (s *Server) start(w http.ResponseWriter, r *http.Request, m Merchant) error {
	var req StartRequest
	// An app authentication carries sdkEncData, which may be 64,000 characters.
	if err := httpx.DecodeJSON(r, 96<<10, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	pan := strings.ReplaceAll(req.CardNumber, " ", "")
	ctx := r.Context()
	t := Transaction{ID: ids.New(), MerchantID: m.ID, MaskedPAN: maskPAN(pan), State: StateStarted, CreatedAt: s.cfg.Now(),
		DeviceChannel: emv.ChannelBrowser}
	out := StartResponse{ID: t.ID, MaskedPAN: t.MaskedPAN}
	rng, err := s.cfg.Store.FindRange(ctx, pan)
	switch {
	case err == nil:
		cs, _ := s.cfg.Store.CacheState(ctx)
		t.MessageVersion = PickVersion(rng, cs.DSStart, cs.DSEnd)
		out.Enrolled = t.MessageVersion != ""
		t.MethodURL = rng.MethodURL
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if t.MessageVersion == "" {
		// No range, or none we can speak to: the DS still answers (a stand-in), at our main version.
		t.MessageVersion = emv.Version220
	}
	t.MessageCategory = req.category()
	switch req.Channel {
	case ChannelApp:
		return s.startApp(w, r, m, t, &req, pan)
	case Channel3RI:
		return s.start3RI(w, r, m, t, &req, pan)
	}
	out.ShowLogo, out.MessageVersion = out.Enrolled, t.MessageVersion
	if t.PANSealed, err = s.seal(pan, t.ID); err != nil {
		return err
	}
	if out.Enrolled && t.MethodURL != "" {
		data := `{"threeDSServerTransID":"` + t.ID + `","threeDSMethodNotificationURL":"` + s.cfg.PublicURL + `/3ds/method"}`
		out.ThreeDSMethod = &MethodForm{URL: t.MethodURL, ThreeDSMethodData: emv.EncodeBase64URL([]byte(data))}
	}
	if err := s.cfg.Store.CreateTransaction(ctx, t); err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusCreated, out)
}

// panAD binds a sealed PAN to its transaction row.
func panAD(id string) vault.AD {
	return vault.AD{Table: "tdss_transactions", Column: "pan_sealed", Row: id}
}

func (s *Server) seal(pan, id string) (string, error) {
	if s.cfg.Vault == nil {
		return "", errors.New("3DS Server has no vault keys: cannot hold the PAN until the AReq")
	}
	return s.cfg.Vault.Seal([]byte(pan), panAD(id))
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, m Merchant) error {
	t, err := s.merchantTransaction(r.Context(), m, r.PathValue("id"))
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, resultOf(t))
}

// merchantTransaction finds a transaction of m; another merchant's is as unknown as a missing one.
func (s *Server) merchantTransaction(ctx context.Context, m Merchant, id string) (Transaction, error) {
	t, err := s.cfg.Store.Transaction(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.MerchantID != m.ID) {
		return t, httpx.NewProblem(http.StatusNotFound, "no such authentication")
	}
	return t, err
}

// Result is an authentication as the merchant reads it. For a challenge, the outcome comes from the
// RReq the ACS sent through the DS, never from the browser.
type Result struct {
	ID                  string     `json:"id"`
	State               string     `json:"state"`
	Final               bool       `json:"final"`
	MessageVersion      string     `json:"messageVersion"`
	MaskedPAN           string     `json:"maskedPan"`
	ThreeDSCompInd      string     `json:"threeDSCompInd,omitempty"`
	TransStatus         string     `json:"transStatus,omitempty"`
	TransStatusReason   string     `json:"transStatusReason,omitempty"`
	AuthenticationValue string     `json:"authenticationValue,omitempty"`
	ECI                 string     `json:"eci,omitempty"`
	ChallengeCancel     string     `json:"challengeCancel,omitempty"`
	DSTransID           string     `json:"dsTransID,omitempty"`
	ACSTransID          string     `json:"acsTransID,omitempty"`
	ErrorCode           string     `json:"errorCode,omitempty"`
	ErrorDetail         string     `json:"errorDetail,omitempty"`
	Challenge           *Challenge `json:"challenge,omitempty"`
	// CardholderInfo is the ACS's text for the cardholder; with transStatus D (state "challenge",
	// not final) it says where to approve the payment, until the RReq brings the final result.
	CardholderInfo string `json:"cardholderInfo,omitempty"`
	// Channel is "browser", "app" or "3ri"; an app authentication has the SDK's transaction id too,
	// and after a C the parameters its SDK starts the challenge with; a 3RI one its threeRIInd.
	Channel         string        `json:"channel"`
	MessageCategory string        `json:"messageCategory"`
	ThreeRIInd      string        `json:"threeRIInd,omitempty"`
	SDKTransID      string        `json:"sdkTransID,omitempty"`
	AppChallenge    *AppChallenge `json:"appChallenge,omitempty"`
	Timings         Timings       `json:"timings"`
}

// Timings are milliseconds from the start of the authentication.
type Timings struct {
	AResMillis   int64 `json:"aresMs,omitempty"`
	ResultMillis int64 `json:"resultMs,omitempty"`
}

func resultOf(t Transaction) Result {
	return Result{ID: t.ID, State: t.State, Final: t.State == StateFrictionless || t.State == StateFinal || t.State == StateError,
		MessageVersion: t.MessageVersion, MaskedPAN: t.MaskedPAN, ThreeDSCompInd: t.CompInd, TransStatus: t.TransStatus,
		TransStatusReason: t.TransStatusReason, AuthenticationValue: t.AuthenticationValue, ECI: t.ECI,
		ChallengeCancel: t.ChallengeCancel, DSTransID: t.DSTransID, ACSTransID: t.ACSTransID, ErrorCode: t.ErrorCode,
		ErrorDetail: t.ErrorDetail, Channel: channelName(t.DeviceChannel), SDKTransID: t.SDKTransID, CardholderInfo: t.CardholderInfo,
		MessageCategory: categoryName(t.MessageCategory), ThreeRIInd: t.ThreeRIInd,
		Timings: Timings{AResMillis: since(t.CreatedAt, t.AResAt), ResultMillis: since(t.CreatedAt, t.ResultAt)}}
}
