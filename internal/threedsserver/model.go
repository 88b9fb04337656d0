package threedsserver

import (
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
)

// Merchant is a 3DS Requestor the 3DS Server acts for, with what every AReq needs of it. Its API key
// is never stored; only its digest is, and the key is shown once.
type Merchant struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name"`
	RequestorID        string    `json:"requestorId"`
	RequestorName      string    `json:"requestorName"`
	RequestorURL       string    `json:"requestorUrl"`
	AcquirerBIN        string    `json:"acquirerBin"`
	AcquirerMerchantID string    `json:"acquirerMerchantId"`
	MCC                string    `json:"mcc"`
	Country            string    `json:"country"`
	WebhookURL         string    `json:"webhookUrl,omitempty"`
	CreatedAt          time.Time `json:"createdAt,omitzero"`
}

// Validate checks a merchant before it is stored, naming every bad field.
func (m Merchant) Validate() error {
	var fe []httpx.FieldError
	bad := func(field, detail string) { fe = append(fe, httpx.FieldError{Field: field, Detail: detail}) }
	if !validID(m.ID) {
		bad("id", "must be 1-64 letters, digits, '-' or '_'")
	}
	if m.Name == "" || len(m.Name) > 40 {
		bad("name", "is required, at most 40 characters")
	}
	if m.RequestorID == "" || len(m.RequestorID) > 35 {
		bad("requestorId", "is required, at most 35 characters")
	}
	if m.RequestorName == "" || len(m.RequestorName) > 40 {
		bad("requestorName", "is required, at most 40 characters")
	}
	if !httpsURL(m.RequestorURL, 2048) {
		bad("requestorUrl", "must be an http(s) URL of at most 2048 characters")
	}
	if !digits(m.AcquirerBIN, 1, 11) {
		bad("acquirerBin", "must be 1-11 digits")
	}
	if m.AcquirerMerchantID == "" || len(m.AcquirerMerchantID) > 35 {
		bad("acquirerMerchantId", "is required, at most 35 characters")
	}
	if !digits(m.MCC, 4, 4) {
		bad("mcc", "must be 4 digits")
	}
	if !digits(m.Country, 3, 3) {
		bad("country", "must be a 3-digit ISO 3166-1 numeric code")
	}
	if m.WebhookURL != "" && !httpsURL(m.WebhookURL, 2048) {
		bad("webhookUrl", "must be an http(s) URL")
	}
	if fe != nil {
		return httpx.Invalid(fe...)
	}
	return nil
}

// Range is one card range of the DS as the cache holds it.
type Range struct {
	Start      string   `json:"startRange"`
	End        string   `json:"endRange"`
	ACSStart   string   `json:"acsStartProtocolVersion"`
	ACSEnd     string   `json:"acsEndProtocolVersion"`
	DSStart    string   `json:"dsStartProtocolVersion"`
	DSEnd      string   `json:"dsEndProtocolVersion"`
	MethodURL  string   `json:"threeDSMethodURL,omitempty"`
	ACSInfoInd []string `json:"acsInfoInd,omitempty"`
}

// CacheState is the card-range cache's bookkeeping, shared by every instance through the store.
type CacheState struct {
	Serial         string
	DSStart, DSEnd string
	Refresh        time.Duration
	LoadedAt       time.Time
	NextAt         time.Time
}

// Transaction states.
const (
	StateStarted      = "started"      // created; 3DS Method may be running
	StateSending      = "sending"      // the AReq is on its way
	StateFrictionless = "frictionless" // the ARes was final
	StateChallenge    = "challenge"    // the ARes said C (or D); the RReq brings the result
	StateFinal        = "final"        // the RReq came
	StateError        = "error"        // the AReq failed: Erro, timeout, invalid ARes
)

// Transaction is one authentication as the 3DS Server keeps it. PANSealed holds the vault-sealed
// PAN only until the AReq is sent.
type Transaction struct {
	ID         string
	MerchantID string
	// DeviceChannel is emv.ChannelBrowser, emv.ChannelApp or emv.Channel3RI; SDKTransID is set for an
	// app, ThreeRIInd for a 3RI. MessageCategory is emv.CategoryPayment or emv.CategoryNonPayment.
	DeviceChannel       string
	MessageCategory     string
	ThreeRIInd          string
	SDKTransID          string
	MaskedPAN           string
	PANSealed           string
	MessageVersion      string
	MethodURL           string
	MethodDone          bool
	CompInd             string
	State               string
	DSTransID           string
	ACSTransID          string
	ACSURL              string
	TransStatus         string
	TransStatusReason   string
	AuthenticationValue string
	ECI                 string
	ChallengeCancel     string
	ErrorCode           string
	ErrorDetail         string
	CreatedAt           time.Time
	AResAt              time.Time
	ResultAt            time.Time
	// ReturnURL is where a challenge run at top level (the script's redirect fallback) ends.
	ReturnURL string
	// CardholderInfo is the ACS's text for the cardholder from the ARes ("Approve this payment in
	// your bank's app" for a decoupled authentication).
	CardholderInfo string
}

func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func digits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func httpsURL(s string, max int) bool {
	return len(s) <= max && (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) && len(s) > 8
}
