package threedsserver

import (
	"cmp"
	"embed"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/store"
)

// The 3DS Server's pages in the operations console: the merchants and their API keys, the
// transactions with the exchanges recorded for each, and the analytics of their outcomes.

//go:embed console_templates/*.html
var consoleFiles embed.FS

var (
	merchantsPage    = console.ParsePage(consoleFiles, "console_templates/merchants.html")
	merchantNewPage  = console.ParsePage(consoleFiles, "console_templates/merchant_new.html")
	keyShownPage     = console.ParsePage(consoleFiles, "console_templates/key_shown.html")
	transactionsPage = console.ParsePage(consoleFiles, "console_templates/transactions.html")
	transactionPage  = console.ParsePage(consoleFiles, "console_templates/transaction.html")
	analyticsPage    = console.ParsePage(consoleFiles, "console_templates/analytics.html")
)

// AddConsole adds the 3DS Server's pages to its console.
func AddConsole(c *console.Console, st *SQLStore) {
	p := &consolePages{st: st, now: time.Now}
	c.Page(console.NavItem{Path: "/merchants", Label: "Merchants", Group: "3DS Server"}, console.ReadOnly, p.merchants)
	// Adding a merchant is for admins, as adding a console account is: it hands a new party a
	// credential with which it may send card numbers to the directory servers under a requestor id.
	// Operators keep rotating and revoking the keys of merchants already there, which is what an
	// incident needs at any hour.
	c.Page(console.NavItem{Path: "/merchants/new"}, console.Admin, p.newMerchant)
	c.Action("/merchants", console.Admin, p.addMerchant)
	c.Action("/merchants/{id}/key", console.Operator, p.rotateKey)
	c.Action("/merchants/{id}/revoke", console.Operator, p.revokeKey)
	c.Page(console.NavItem{Path: "/transactions", Label: "Transactions", Group: "3DS Server"}, console.ReadOnly, p.transactions)
	c.Page(console.NavItem{Path: "/transactions/{id}"}, console.ReadOnly, p.transaction)
	c.Page(console.NavItem{Path: "/analytics", Label: "Analytics", Group: "Analytics"}, console.ReadOnly, p.analytics)
}

type consolePages struct {
	st  *SQLStore
	now func() time.Time
}

func (p *consolePages) merchants(r *console.Request) (console.View, error) {
	ms, err := p.st.MerchantKeyStates(r.Context())
	if err != nil {
		return console.View{}, err
	}
	return console.View{Title: "Merchants", Template: merchantsPage, Data: ms}, nil
}

func merchantProblem(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &console.FieldError{Field: "merchant", Problem: "does not exist"}
	}
	return err
}

// shownKey is a new API key, shown once in the answer to the form that made it.
type shownKey struct {
	Merchant Merchant
	Key      string
	// Added says the key is the first of a merchant just added, not one replacing another.
	Added bool
}

// merchantField is one field of the form that adds a merchant. Name is the field's name in the admin
// API's JSON, which its validation reports, and the form's input name.
type merchantField struct {
	Name, Label, Hint string
	Value             string
	Problem           string
	Optional          bool
	Max               int
	Numeric, URL      bool
	dst               func(*Merchant) *string
}

func merchantFields() []merchantField {
	return []merchantField{
		{Name: "id", Label: "Id", Hint: "how this 3DS Server and its console name the merchant: letters, digits, - or _", Max: 64,
			dst: func(m *Merchant) *string { return &m.ID }},
		{Name: "name", Label: "Merchant name", Hint: "merchantName, as the cardholder sees it", Max: 40,
			dst: func(m *Merchant) *string { return &m.Name }},
		{Name: "requestorId", Label: "Requestor id", Hint: "threeDSRequestorID, as the directory server assigned it", Max: 35,
			dst: func(m *Merchant) *string { return &m.RequestorID }},
		{Name: "requestorName", Label: "Requestor name", Hint: "threeDSRequestorName", Max: 40,
			dst: func(m *Merchant) *string { return &m.RequestorName }},
		{Name: "requestorUrl", Label: "Requestor URL", Hint: "threeDSRequestorURL", Max: 2048, URL: true,
			dst: func(m *Merchant) *string { return &m.RequestorURL }},
		{Name: "acquirerBin", Label: "Acquirer BIN", Hint: "acquirerBIN, 1 to 11 digits", Max: 11, Numeric: true,
			dst: func(m *Merchant) *string { return &m.AcquirerBIN }},
		{Name: "acquirerMerchantId", Label: "Acquirer merchant id", Hint: "acquirerMerchantID", Max: 35,
			dst: func(m *Merchant) *string { return &m.AcquirerMerchantID }},
		{Name: "mcc", Label: "Merchant category code", Hint: "mcc, 4 digits", Max: 4, Numeric: true,
			dst: func(m *Merchant) *string { return &m.MCC }},
		{Name: "country", Label: "Country", Hint: "merchantCountryCode, ISO 3166-1 numeric (250 is France)", Max: 3, Numeric: true,
			dst: func(m *Merchant) *string { return &m.Country }},
		{Name: "webhookUrl", Label: "Webhook URL", Hint: "where final results are posted; empty for none", Max: 2048, URL: true, Optional: true,
			dst: func(m *Merchant) *string { return &m.WebhookURL }},
	}
}

// merchantForm is the form that adds a merchant, with what was typed and what is wrong with it.
type merchantForm struct {
	Fields []merchantField
	// Problems are the bad fields in the form's order; Problem is a mistake of no one field.
	Problems []merchantField
	Problem  string
}

func (p *consolePages) newMerchant(r *console.Request) (console.View, error) {
	return console.View{Title: "Add a merchant", Template: merchantNewPage, Data: merchantForm{Fields: merchantFields()}}, nil
}

// addMerchant adds a merchant with its first API key, as the admin API's POST /v1/merchants does
// and through the same AddMerchant. A mistake is shown above the form with what was typed kept,
// rather than through the console's redirect, which would lose it; the key is shown once.
func (p *consolePages) addMerchant(r *console.Request) (console.Change, error) {
	f := merchantForm{Fields: merchantFields()}
	var m Merchant
	for i := range f.Fields {
		fd := &f.Fields[i]
		fd.Value = strings.TrimSpace(r.PostFormValue(fd.Name))
		*fd.dst(&m) = fd.Value
	}
	out, err := AddMerchant(r.Context(), p.st, m, p.now())
	if err != nil {
		bad := map[string]string{}
		var pr *httpx.Problem
		switch {
		case errors.Is(err, store.ErrConflict):
			bad["id"] = "is taken: a merchant with this id exists already"
		case errors.As(err, &pr) && pr.Status >= 400 && pr.Status < 500:
			for _, fe := range pr.Errors {
				bad[fe.Field] = fe.Detail
			}
			if len(bad) == 0 {
				f.Problem = cmp.Or(pr.Detail, pr.Title, http.StatusText(pr.Status))
			}
		default:
			return console.Change{}, err
		}
		for i := range f.Fields {
			if d, ok := bad[f.Fields[i].Name]; ok {
				f.Fields[i].Problem = d
				f.Problems = append(f.Problems, f.Fields[i])
				delete(bad, f.Fields[i].Name)
			}
		}
		// A field the form does not have (should validation come to name one) is still named.
		for name, d := range bad {
			f.Problem = strings.TrimSpace(f.Problem + " " + name + ": " + d + ".")
		}
		return console.Change{Unchanged: true, Show: &console.View{Title: "Add a merchant", Template: merchantNewPage, Data: f}}, nil
	}
	detail := "name " + m.Name + ", requestor " + m.RequestorID + ", acquirer BIN " + m.AcquirerBIN + ", MCC " + m.MCC +
		", country " + m.Country + "; first API key shown once"
	return console.Change{Action: "merchant.create", Target: m.ID, Detail: detail,
		Show: &console.View{Title: "Merchant added", Template: keyShownPage, Data: shownKey{out.Merchant, out.APIKey, true}}}, nil
}

// rotateKey gives the merchant a new API key (the admin API's POST /v1/merchants/{id}/key); the old
// one, or a revoked one, stops working at once.
func (p *consolePages) rotateKey(r *console.Request) (console.Change, error) {
	m, _, err := p.st.MerchantKeyHash(r.Context(), r.PathValue("id"))
	if err != nil {
		return console.Change{}, merchantProblem(err)
	}
	key, hash := NewAPIKey()
	if err := p.st.ChangeMerchant(r.Context(), m, hash); err != nil {
		return console.Change{}, merchantProblem(err)
	}
	return console.Change{Action: "merchant.key.rotate", Target: m.ID, Detail: "new API key; the previous one stopped working",
		Show: &console.View{Title: "New API key", Template: keyShownPage, Data: shownKey{Merchant: m, Key: key}}}, nil
}

func (p *consolePages) revokeKey(r *console.Request) (console.Change, error) {
	id := r.PathValue("id")
	if err := p.st.RevokeMerchantKey(r.Context(), id); err != nil {
		return console.Change{}, merchantProblem(err)
	}
	return console.Change{Action: "merchant.key.revoke", Target: id, Detail: "API key revoked; the merchant's calls are refused",
		Notice: "The API key of " + id + " is revoked.", Redirect: "/merchants"}, nil
}

type transactionsData struct {
	Filter       TxFilter
	Day          string
	States       []string
	Merchants    []MerchantKeyState
	Transactions []Transaction
}

var txStates = []string{StateStarted, StateSending, StateFrictionless, StateChallenge, StateFinal, StateError}

func (p *consolePages) transactions(r *console.Request) (console.View, error) {
	q := r.URL.Query()
	f := TxFilter{MerchantID: strings.TrimSpace(q.Get("merchant")), State: q.Get("status"), Find: strings.TrimSpace(q.Get("find")), Limit: 100}
	d := transactionsData{Day: strings.TrimSpace(q.Get("day")), States: txStates}
	if d.Day != "" {
		day, err := time.Parse(time.DateOnly, d.Day)
		if err != nil {
			return console.View{}, badQuery("day", "must be a date such as 2026-12-06")
		}
		f.Day = day
	}
	if f.State != "" && !validState(f.State) {
		return console.View{}, badQuery("status", "is not a transaction state")
	}
	var err error
	if d.Transactions, err = p.st.ConsoleTransactions(r.Context(), f); err != nil {
		return console.View{}, err
	}
	// One transaction found by an id goes straight to its page.
	if f.Find != "" && len(d.Transactions) == 1 {
		http.Redirect(r.Writer(), r.Request, "/console/transactions/"+url.PathEscape(d.Transactions[0].ID), http.StatusSeeOther)
		return console.View{Written: true}, nil
	}
	if d.Merchants, err = p.st.MerchantKeyStates(r.Context()); err != nil {
		return console.View{}, err
	}
	d.Filter = f
	return console.View{Title: "Transactions", Template: transactionsPage, Data: d}, nil
}

func validState(s string) bool {
	for _, v := range txStates {
		if v == s {
			return true
		}
	}
	return false
}

type transactionData struct {
	T         Transaction
	Exchanges []shownExchange
}

type shownExchange struct {
	store.Exchange
	JSON string
}

// transaction shows one transaction and its recorded exchanges. The stored record holds the PAN
// masked already; the authentication value is masked here, and the sealed PAN never leaves the store.
func (p *consolePages) transaction(r *console.Request) (console.View, error) {
	t, err := p.st.Transaction(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return console.View{}, &httpx.Problem{Status: http.StatusNotFound, Title: "No such transaction"}
	}
	if err != nil {
		return console.View{}, err
	}
	t.PANSealed = ""
	t.MaskedPAN = maskShownPAN(t.MaskedPAN)
	t.AuthenticationValue = maskSecret(t.AuthenticationValue)
	xs, err := p.st.db.ExchangesByTransID(r.Context(), t.ID)
	if err != nil {
		return console.View{}, err
	}
	d := transactionData{T: t}
	for _, x := range xs {
		x.MaskedPAN = maskShownPAN(x.MaskedPAN)
		b, _ := json.MarshalIndent(exchangeJSON(x), "", "  ")
		d.Exchanges = append(d.Exchanges, shownExchange{Exchange: x, JSON: string(b)})
	}
	return console.View{Title: "Transaction " + t.ID, Template: transactionPage, Data: d}, nil
}

// exchangeJSON is an exchange as the protocol's fields name it.
func exchangeJSON(x store.Exchange) map[string]any {
	m := map[string]any{"role": x.Role, "direction": x.Direction, "peer": x.Peer, "messageType": x.MessageType,
		"startedAt": x.StartedAt.UTC().Format(time.RFC3339Nano), "durationMs": float64(x.Duration.Microseconds()) / 1000,
		"outcome": x.Outcome}
	for k, v := range map[string]string{"responseType": x.ResponseType, "threeDSServerTransID": x.ThreeDSServerTransID,
		"dsTransID": x.DSTransID, "acsTransID": x.ACSTransID, "sdkTransID": x.SDKTransID, "acctNumber": x.MaskedPAN,
		"messageVersion": x.MessageVersion, "errorCode": x.ErrorCode, "errorComponent": x.ErrorComponent} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// maskShownPAN shows at most the first six and the last four digits of a card number, whatever the
// store holds: a page never shows more, even of a record written wrongly.
func maskShownPAN(s string) string {
	digits := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	if digits <= 10 {
		return s
	}
	return logx.MaskPAN(s)
}

// maskSecret shows the first four characters of a cryptogram, enough to compare two of them by
// eye, and not the rest.
func maskSecret(s string) string {
	if len(s) <= 8 {
		return strings.Repeat("•", len(s))
	}
	return s[:4] + strings.Repeat("•", 8)
}

type analyticsData struct {
	From, To  string
	By        string
	Rows      []analyticsRow
	Frictions console.Chart
	Outcomes  console.Chart
}

type analyticsRow struct {
	DayCounts
	Frictionless, Success, Abandonment, ErrorRate float64
}

// analytics shows per UTC day and per merchant, message version or channel: the frictionless
// rate (of the transactions the ACS answered), the challenges' success and abandonment (of the
// challenges), and the errors (of all).
func (p *consolePages) analytics(r *console.Request) (console.View, error) {
	q := r.URL.Query()
	by := q.Get("by")
	if by == "" {
		by = "merchant"
	}
	if _, ok := analyticsDimensions[by]; !ok {
		return console.View{}, badQuery("by", "must be merchant, version or channel")
	}
	today := p.now().UTC().Truncate(24 * time.Hour)
	from, to := today.AddDate(0, 0, -13), today
	var err error
	if s := q.Get("from"); s != "" {
		if from, err = time.Parse(time.DateOnly, s); err != nil {
			return console.View{}, badQuery("from", "must be a date such as 2026-12-06")
		}
	}
	if s := q.Get("to"); s != "" {
		if to, err = time.Parse(time.DateOnly, s); err != nil {
			return console.View{}, badQuery("to", "must be a date such as 2026-12-06")
		}
	}
	if to.Before(from) || to.Sub(from) > 366*24*time.Hour {
		return console.View{}, badQuery("to", "must be on or after from, within a year of it")
	}
	counts, err := p.st.Analytics(r.Context(), by, from, to.AddDate(0, 0, 1))
	if err != nil {
		return console.View{}, err
	}
	d := analyticsData{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), By: by}
	var keys []string
	seen := map[string]bool{}
	for _, c := range counts {
		d.Rows = append(d.Rows, analyticsRow{DayCounts: c, Frictionless: console.Rate(c.Frictionless, c.Answered),
			Success: console.Rate(c.Succeeded, c.Challenged), Abandonment: console.Rate(c.Abandoned, c.Challenged),
			ErrorRate: console.Rate(c.Errors, c.Total)})
		if !seen[c.Key] {
			seen[c.Key] = true
			keys = append(keys, c.Key)
		}
	}
	var days []string
	for day := from; !day.After(to); day = day.AddDate(0, 0, 1) {
		days = append(days, day.Format(time.DateOnly))
	}
	d.Frictions = console.Chart{ID: "frictionless-rate", Title: "Frictionless rate per day, by " + by, Labels: days, Unit: "%"}
	for _, k := range keys {
		s := console.Series{Name: k, Values: make([]float64, len(days))}
		for i := range s.Values {
			s.Values[i] = console.NoData
		}
		for _, row := range d.Rows {
			if row.Key == k {
				if i := dayIndex(days, row.Day); i >= 0 {
					s.Values[i] = row.Frictionless
				}
			}
		}
		d.Frictions.Series = append(d.Frictions.Series, s)
	}
	// The outcomes of all the period's transactions together, per day.
	d.Outcomes = console.Chart{ID: "outcomes", Title: "Challenge success, abandonment and errors per day", Labels: days, Unit: "%"}
	succ, aband, errs := make([]float64, len(days)), make([]float64, len(days)), make([]float64, len(days))
	for i, day := range days {
		var t DayCounts
		for _, c := range counts {
			if c.Day == day {
				t.Total, t.Challenged, t.Succeeded, t.Abandoned, t.Errors = t.Total+c.Total, t.Challenged+c.Challenged,
					t.Succeeded+c.Succeeded, t.Abandoned+c.Abandoned, t.Errors+c.Errors
			}
		}
		succ[i], aband[i], errs[i] = console.Rate(t.Succeeded, t.Challenged), console.Rate(t.Abandoned, t.Challenged), console.Rate(t.Errors, t.Total)
	}
	d.Outcomes.Series = []console.Series{{Name: "challenge success", Values: succ}, {Name: "abandonment", Values: aband}, {Name: "errors", Values: errs}}
	return console.View{Title: "Analytics", Template: analyticsPage, Data: d}, nil
}

func dayIndex(days []string, day string) int {
	for i, d := range days {
		if d == day {
			return i
		}
	}
	return -1
}

// badQuery is an operator's mistake in a page's filters, shown as the page's answer (pages have no
// form to go back to, unlike actions).
func badQuery(field, problem string) error {
	return &httpx.Problem{Status: http.StatusBadRequest, Title: field + " " + problem}
}
