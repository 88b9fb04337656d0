package bench

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/ids"
)

// AReqConfig says what the generated AReqs carry of the parties: the 3DS Server that sends them
// and, when they go straight to an ACS, the DS that would have stamped them.
type AReqConfig struct {
	Cards []string // card numbers, used in turn; they must be enrolled for frictionless answers
	// Versions are the protocol versions used in turn; empty means 2.2.0 and 2.3.1.
	Versions           []string
	RequestorID        string // must belong to the 3DS Server's certificate when the DS checks it
	RequestorName      string
	ThreeDSServerURL   string // where the DS would send an RReq; https
	ThreeDSServerRef   string
	AcquirerBIN        string
	AcquirerMerchantID string
	MerchantName       string
	NotificationURL    string
	StampAsDS          bool      // add dsTransID and dsReferenceNumber, as the DS does before the ACS
	DSReferenceNumber  string    // with StampAsDS
	Now                time.Time // when the purchases are dated; zero means now
}

// Amounts are the purchase amounts (minor units) the generated requests take in turn. The largest is
// under four times the smallest, so that the risk engine's "amount many times the card's usual"
// rule never fires between them, and all are far below its large-amount rule.
var Amounts = []string{"1250", "1999", "2490", "2999", "3450", "3990", "4500", "4890"}

// BrowserProfile is one shopper's browser as the AReq describes it.
type BrowserProfile struct {
	UserAgent, Accept, Language, ColorDepth, Height, Width, TZ, IP string
	Java                                                           bool
}

// Browsers are the browsers the generated requests come from in turn: desktop and mobile, several
// languages. Their time zones stay within an hour of the billing country's (France), as shoppers'
// do, so that the risk engine's time-zone rule does not fire.
var Browsers = []BrowserProfile{
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", "fr-FR", "24", "1080", "1920", "-60", "203.0.113.10", false},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "en-GB", "24", "900", "1440", "0", "198.51.100.24", false},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "fr", "32", "844", "390", "-120", "192.0.2.77", false},
	{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", "de-DE", "24", "915", "412", "-60", "203.0.113.201", false},
	{"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "es-ES", "24", "1440", "2560", "-120", "198.51.100.130", true},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
		"text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8", "it-IT", "24", "768", "1366", "-60", "192.0.2.5", false},
}

// The placeholders a template is cut at. They are marshalled as JSON strings and never occur in a
// real element's value.
const (
	holeTransID   = "@@threeDSServerTransID@@"
	holeDSTransID = "@@dsTransID@@"
	holePAN       = "@@acctNumber@@"
)

// template is a marshalled AReq cut at its placeholders: the request is the parts with the values
// of the holes between them. Filling it costs a few copies, so the client spends its CPU on sending.
type template struct {
	parts [][]byte
	holes []string // the placeholder after each part but the last
}

func cut(body []byte) template {
	var t template
	for {
		at, which := -1, ""
		for _, h := range []string{holeTransID, holeDSTransID, holePAN} {
			if i := bytes.Index(body, []byte(h)); i >= 0 && (at < 0 || i < at) {
				at, which = i, h
			}
		}
		if at < 0 {
			t.parts = append(t.parts, body)
			return t
		}
		t.parts = append(t.parts, body[:at])
		t.holes = append(t.holes, which)
		body = body[at+len(which):]
	}
}

// AReqs makes realistic, varied browser AReqs: each card in turn, with one of many combinations of
// version, browser and amount, and fresh transaction ids.
type AReqs struct {
	cards     []string
	templates []template
	// Transaction ids are a random prefix per run and the operation number, so that they are
	// unique across runs and cost no randomness per request.
	serverPrefix, dsPrefix [8]byte
}

// NewAReqs builds the templates of every combination once.
func NewAReqs(cfg AReqConfig) (*AReqs, error) {
	if len(cfg.Cards) == 0 {
		return nil, errors.New("bench: no cards to send AReqs for")
	}
	versions := cfg.Versions
	if len(versions) == 0 {
		versions = []string{emv.Version220, emv.Version231}
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	cfg.Now = cfg.Now.UTC()
	a := &AReqs{cards: cfg.Cards}
	rand.Read(a.serverPrefix[:])
	rand.Read(a.dsPrefix[:])
	for _, v := range versions {
		for bi := range Browsers {
			for _, amount := range Amounts {
				body, err := json.Marshal(buildAReq(cfg, v, Browsers[bi], amount))
				if err != nil {
					return nil, fmt.Errorf("bench: building an AReq: %w", err)
				}
				a.templates = append(a.templates, cut(body))
			}
		}
	}
	return a, nil
}

// buildAReq is a browser payment AReq of version v with placeholders for the ids and the card.
func buildAReq(cfg AReqConfig, v string, b BrowserProfile, amount string) *emv.AReq {
	now := cfg.Now
	m := &emv.AReq{MessageType: emv.TypeAReq, MessageVersion: v, MessageCategory: emv.CategoryPayment,
		DeviceChannel: emv.ChannelBrowser, ThreeDSServerTransID: holeTransID, ThreeDSCompInd: "U",
		ThreeDSServerRefNumber: cfg.ThreeDSServerRef, ThreeDSServerURL: cfg.ThreeDSServerURL,
		ThreeDSRequestorID: cfg.RequestorID, ThreeDSRequestorName: cfg.RequestorName,
		ThreeDSRequestorURL: "https://shop.example.com", ThreeDSRequestorAuthenticationInd: "01",
		AcquirerBIN: cfg.AcquirerBIN, AcquirerMerchantID: cfg.AcquirerMerchantID, MCC: "5732",
		MerchantCountryCode: "250", MerchantName: cfg.MerchantName,
		AcctNumber: holePAN, AcctType: "02", CardExpiryDate: now.AddDate(3, 0, 0).Format("0601"),
		CardholderName: "Camille Martin", Email: "camille.martin@example.fr",
		BillAddrLine1: "12 rue de la République", BillAddrCity: "Lyon", BillAddrPostCode: "69002", BillAddrCountry: "250",
		ShipAddrLine1: "12 rue de la République", ShipAddrCity: "Lyon", ShipAddrPostCode: "69002", ShipAddrCountry: "250",
		AddrMatch: "Y",
		// An account older than 60 days that has bought before: the ordinary shopper.
		AcctInfo:              &emv.AcctInfo{ChAccAgeInd: "05", ChAccDate: now.AddDate(-4, 0, 0).Format("20060102"), NbPurchaseAccount: "3", TxnActivityDay: "1", TxnActivityYear: "7"},
		MerchantRiskIndicator: &emv.MerchantRisk{ShipIndicator: "01", DeliveryTimeframe: "03", ReorderItemsInd: "01", PreOrderPurchaseInd: "01"},
		PurchaseAmount:        amount, PurchaseCurrency: "978", PurchaseExponent: "2",
		PurchaseDate: now.Format("20060102150405"), TransType: "01",
		NotificationURL: cfg.NotificationURL, BrowserAcceptHeader: b.Accept, BrowserIP: b.IP, BrowserJavaEnabled: &b.Java,
		BrowserLanguage: b.Language, BrowserColorDepth: b.ColorDepth, BrowserScreenHeight: b.Height,
		BrowserScreenWidth: b.Width, BrowserTZ: b.TZ, BrowserUserAgent: b.UserAgent,
	}
	js := true
	if v != emv.Version210 {
		m.BrowserJavascriptEnabled = &js
	}
	if v == emv.Version231 {
		m.ThreeDSRequestorChallengeInd = emv.Many("01")
		m.AcceptLanguage = []string{b.Language, "en"}
	} else {
		m.ThreeDSRequestorChallengeInd = emv.One("01")
	}
	if cfg.StampAsDS {
		m.DSTransID, m.DSReferenceNumber = holeDSTransID, cfg.DSReferenceNumber
	}
	return m
}

// Body is request i: its card, its combination, and its threeDSServerTransID, which it also returns
// for checking the answer.
func (a *AReqs) Body(i int64) (body []byte, transID string) {
	t := &a.templates[mix(i)%uint64(len(a.templates))]
	transID = uuidFrom(a.serverPrefix, i)
	pan := a.cards[i%int64(len(a.cards))]
	n := len(transID) * 2
	for _, p := range t.parts {
		n += len(p)
	}
	body = make([]byte, 0, n+len(pan))
	for k, p := range t.parts {
		body = append(body, p...)
		if k == len(t.holes) {
			break
		}
		switch t.holes[k] {
		case holeTransID:
			body = append(body, transID...)
		case holeDSTransID:
			body = append(body, uuidFrom(a.dsPrefix, i)...)
		case holePAN:
			body = append(body, pan...)
		}
	}
	return body, transID
}

// mix spreads consecutive operation numbers over the combinations (a Fibonacci hash), so that one
// card does not always meet the same browser and amount.
func mix(i int64) uint64 { return (uint64(i) * 0x9E3779B97F4A7C15) >> 17 }

// uuidFrom is a version-4-shaped UUID made of a run's random prefix and an operation number.
func uuidFrom(prefix [8]byte, i int64) string {
	var b [16]byte
	copy(b[:8], prefix[:])
	binary.BigEndian.PutUint64(b[8:], uint64(i))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return ids.Format(b)
}
