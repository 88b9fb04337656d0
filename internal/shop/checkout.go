package shop

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
)

// startRequest is what the page sends once the typed card number is complete.
type startRequest struct {
	CardNumber string `json:"cardNumber"`
}

// start begins an authentication as soon as the card number is complete, so that the page can show
// the logo and run the 3DS Method while the shopper fills in the rest.
func (s *Shop) start(w http.ResponseWriter, r *http.Request) error {
	var req startRequest
	if err := httpx.DecodeJSON(r, 1024, &req); err != nil {
		return err
	}
	pan := strings.ReplaceAll(req.CardNumber, " ", "")
	if !allDigits(pan) || len(pan) < 13 || len(pan) > 19 {
		return httpx.Invalid(httpx.FieldError{Field: "cardNumber", Detail: "must be 13 to 19 digits"})
	}
	if !luhn(pan) {
		return httpx.Invalid(httpx.FieldError{Field: "cardNumber", Detail: "is not valid; check it for a typo"})
	}
	ans, err := s.api.call(r.Context(), http.MethodPost, "/v1/authentications", startRequest{CardNumber: pan})
	if err != nil {
		return err
	}
	if !ans.ok() {
		httpx.Logger(r.Context()).Warn("the 3DS Server refused a start", "status", ans.status)
		return relay(w, ans)
	}
	var out startAnswer
	if err := json.Unmarshal(ans.body, &out); err != nil || !isUUID(out.ID) {
		return upstream(fmt.Errorf("POST /v1/authentications: an answer without a transaction id (%v)", err))
	}
	s.orders.add(out.ID, order{created: time.Now(), pan: pan})
	return httpx.WriteJSON(w, http.StatusCreated, out)
}

// checkoutRequest is what the page sends at Buy: the order and the card's other details from the
// form, and from the checkout script the 3DS Method's outcome, the browser data and the challenge
// window it can show.
type checkoutRequest struct {
	Product string `json:"product"`
	// SaveCard asks for a non-payment authentication: the card is checked and kept, nothing bought.
	SaveCard            bool   `json:"saveCard,omitempty"`
	Expiry              string `json:"expiry"` // MM/YY
	Name                string `json:"name"`
	Email               string `json:"email"`
	ThreeDSCompInd      string `json:"threeDSCompInd"`
	ChallengeWindowSize string `json:"challengeWindowSize"`
	// AcceptHeader is the Accept header the browser sent for the shop page, which the page echoes.
	// The EMV browserAcceptHeader is the header of the shopper's page loads, not of a script's fetch
	// (whose Accept the script chooses); when it is missing we use this request's own.
	AcceptHeader string `json:"acceptHeader"`
	// Browser is passed on as the script collected it, with ip and acceptHeader added; the 3DS
	// Server checks each field and names the bad ones.
	Browser map[string]json.RawMessage `json:"browser"`
}

// authenticateCall is the merchant API's AuthenticateRequest.
type authenticateCall struct {
	MessageCategory     string                     `json:"messageCategory,omitempty"`
	Amount              string                     `json:"amount,omitempty"`
	Currency            string                     `json:"currency,omitempty"`
	Exponent            *int                       `json:"exponent,omitempty"`
	ThreeDSCompInd      string                     `json:"threeDSCompInd"`
	ChallengeWindowSize string                     `json:"challengeWindowSize,omitempty"`
	CardExpiryDate      string                     `json:"cardExpiryDate"`
	CardholderName      string                     `json:"cardholderName"`
	Email               string                     `json:"email,omitempty"`
	ReturnURL           string                     `json:"returnUrl"`
	Browser             map[string]json.RawMessage `json:"browser"`
	Decoupled           *decoupledCall             `json:"decoupled,omitempty"`
	// RequestorAuthentication is the shopper's passkey sign-in (passkey.go), when recent.
	RequestorAuthentication *requestorAuthentication `json:"requestorAuthentication,omitempty"`
}

// requestorAuthentication is the merchant API's login: a FIDO one, with the assertion the shop checked.
type requestorAuthentication struct {
	Method string          `json:"method"`
	Time   string          `json:"time"`
	Data   json.RawMessage `json:"data"`
}

// decoupledCall is the merchant API's decoupled consent. The shop allows decoupled
// authentication: a shopper whose bank asks for approval in its app sees the checkout script say
// so, and the order completes when the bank's RReq comes.
type decoupledCall struct {
	Allowed    bool   `json:"allowed"`
	MaxMinutes int    `json:"maxMinutes,omitempty"`
	Fallback   string `json:"fallback,omitempty"`
}

// decoupledMinutes is how long the shop lets a bank take for an approval in its app.
const decoupledMinutes = 10

// pollAnswer is what the checkout script's result poll gets: enough to know whether to go on
// waiting, nothing the order page does not show anyway.
type pollAnswer struct {
	ID          string `json:"id"`
	Final       bool   `json:"final"`
	TransStatus string `json:"transStatus,omitempty"`
	ErrorCode   string `json:"errorCode,omitempty"`
}

// poll answers the checkout script's question while a decoupled authentication waits: is the result
// final yet? Only an order of this shop's is read.
func (s *Shop) poll(w http.ResponseWriter, r *http.Request) error {
	id := strings.ToLower(r.PathValue("id"))
	if !isUUID(id) || !s.orders.has(id) {
		return httpx.NewProblem(http.StatusNotFound, "no such order")
	}
	res, err := s.api.authentication(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return httpx.WriteJSON(w, http.StatusOK, pollAnswer{ID: res.ID, Final: res.Final, TransStatus: res.TransStatus, ErrorCode: res.ErrorCode})
}

// authenticate completes the order with the chosen product and asks the 3DS Server to authenticate.
// Its answer goes back to the checkout script as it came: a result, or a challenge to show.
func (s *Shop) authenticate(w http.ResponseWriter, r *http.Request) error {
	id := strings.ToLower(r.PathValue("id"))
	if !isUUID(id) || !s.orders.has(id) {
		return httpx.NewProblem(http.StatusNotFound, "this checkout has expired; enter your card number again")
	}
	var req checkoutRequest
	if err := httpx.DecodeJSON(r, 16<<10, &req); err != nil {
		return err
	}
	yymm, err := s.validate(&req, time.Now())
	if err != nil {
		return err
	}
	p := s.products[req.Product]
	if req.SaveCard {
		s.orders.choose(id, nil)
	} else {
		s.orders.choose(id, &p)
	}
	accept := req.AcceptHeader
	if !headerValue(accept) {
		accept = r.Header.Get("Accept")
	}
	req.Browser["acceptHeader"] = jsonString(accept)
	req.Browser["ip"] = jsonString(clientIP(r))
	exp := s.money.exponent
	call := authenticateCall{Amount: strconv.FormatInt(p.Amount, 10), Currency: s.cfg.Currency, Exponent: &exp,
		ThreeDSCompInd: req.ThreeDSCompInd, ChallengeWindowSize: req.ChallengeWindowSize, CardExpiryDate: yymm,
		CardholderName: strings.TrimSpace(req.Name), Email: strings.TrimSpace(req.Email),
		ReturnURL: s.origin(r) + "/orders/return", Browser: req.Browser,
		Decoupled: &decoupledCall{Allowed: true, MaxMinutes: decoupledMinutes}}
	if l, ok := s.login(r); ok {
		call.RequestorAuthentication = &requestorAuthentication{Method: "fido", Time: l.at.UTC().Format(time.RFC3339), Data: l.assertion}
	}
	if p.ChallengeFirst && !req.SaveCard {
		call.Decoupled.Fallback = "only"
	}
	if req.SaveCard {
		// Saving a card is a non-payment authentication: no amount goes with it.
		call.MessageCategory, call.Amount, call.Currency, call.Exponent = "non-payment", "", "", nil
	}
	ans, err := s.api.call(r.Context(), http.MethodPost, "/v1/authentications/"+id+"/authenticate", call)
	if err != nil {
		return err
	}
	if !ans.ok() {
		httpx.Logger(r.Context()).Warn("the 3DS Server refused an authentication", "id", id, "status", ans.status)
	}
	return relay(w, ans)
}

// validate checks the shop's own fields, naming every bad one, and returns the expiry as the AReq's
// cardExpiryDate (YYMM).
func (s *Shop) validate(req *checkoutRequest, now time.Time) (string, error) {
	var fe []httpx.FieldError
	bad := func(f, d string) { fe = append(fe, httpx.FieldError{Field: f, Detail: d}) }
	if _, ok := s.products[req.Product]; !ok && !req.SaveCard {
		bad("product", "is not one of the shop's products")
	}
	yymm, problem := expiry(req.Expiry, now)
	if problem != "" {
		bad("expiry", problem)
	}
	if n := len([]rune(strings.TrimSpace(req.Name))); n < 2 || n > 45 {
		bad("name", "is required: the name on the card, 2 to 45 characters")
	}
	if e := strings.TrimSpace(req.Email); e != "" {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e || len(e) > 254 {
			bad("email", "is not an e-mail address")
		}
	}
	switch req.ThreeDSCompInd {
	case "Y", "N", "U":
	default:
		bad("threeDSCompInd", "must be Y, N or U")
	}
	switch req.ChallengeWindowSize {
	case "", "01", "02", "03", "04", "05":
	default:
		bad("challengeWindowSize", "must be 01 to 05")
	}
	if req.Browser == nil {
		bad("browser", "is required: the browser data of the checkout script")
	}
	if fe != nil {
		return "", httpx.Invalid(fe...)
	}
	return yymm, nil
}

// expiry reads MM/YY (spaces allowed) and returns YYMM, or what is wrong with it. A card is good
// until the end of its expiry month.
func expiry(v string, now time.Time) (yymm, problem string) {
	mm, yy, ok := strings.Cut(strings.ReplaceAll(v, " ", ""), "/")
	if !ok || len(mm) != 2 || len(yy) != 2 || !allDigits(mm) || !allDigits(yy) {
		return "", "must be MM/YY, as printed on the card"
	}
	month, _ := strconv.Atoi(mm)
	year, _ := strconv.Atoi(yy)
	if month < 1 || month > 12 {
		return "", "has no such month; use MM/YY"
	}
	end := time.Date(2000+year, time.Month(month)+1, 1, 0, 0, 0, 0, time.UTC)
	if !now.Before(end) {
		return "", "is in the past: this card has expired"
	}
	return yy + mm, ""
}

// luhn reports whether a card number's check digit is right.
func luhn(pan string) bool {
	sum := 0
	for i := range len(pan) {
		d := int(pan[len(pan)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// headerValue reports whether s can be an HTTP header value of the AReq's 2048 characters.
func headerValue(s string) bool {
	if s == "" || len(s) > 2048 {
		return false
	}
	for _, c := range s {
		if c < ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// clientIP is the address the shopper's browser connected from. The demo runs on loopback with no
// proxy in front, so the connection's peer is the browser.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// origin is the shop's origin, where the 3DS Server sends the browser back: the configured one, or
// else the one this browser reached the shop at.
func (s *Shop) origin(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return origin(s.cfg.PublicURL)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
