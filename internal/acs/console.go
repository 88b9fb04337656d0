package acs

import (
	"embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/store"
)

// The issuer's pages of the ACS console: cardholders (and unlocking a locked card), transactions,
// the issuers and a preview of their challenge pages (console_preview.go), the delivery of one-time
// codes per provider, and the analytics of frictionless and challenged authentications. Every page
// shows PANs masked and contact details masked; nothing here opens a sealed PAN.

//go:embed console_templates/*.html
var consoleFiles embed.FS

var (
	cardholdersPage  = console.ParsePage(consoleFiles, "console_templates/cardholders.html")
	cardholderPage   = console.ParsePage(consoleFiles, "console_templates/cardholder.html")
	transactionsPage = console.ParsePage(consoleFiles, "console_templates/transactions.html")
	transactionPage  = console.ParsePage(consoleFiles, "console_templates/transaction.html")
	analyticsPage    = console.ParsePage(consoleFiles, "console_templates/analytics.html")
	deliveryPage     = console.ParsePage(consoleFiles, "console_templates/delivery.html")
)

type consolePages struct {
	st   *SQLStore
	lock otp.Policy
	now  func() time.Time
}

// AddConsole adds the issuer's pages to the ACS console. lock is the code policy the challenge
// runs under (its CardLockFailures and CardLockWindow say when a card is locked); zero fields take
// otp's defaults, as the challenge does.
func AddConsole(c *console.Console, st *SQLStore, lock otp.Policy) {
	p := &consolePages{st: st, lock: lock.WithDefaults(), now: st.now}
	c.Page(console.NavItem{Path: "/cardholders", Label: "Cardholders", Group: "Issuer"}, console.ReadOnly, p.cardholders)
	c.Page(console.NavItem{Path: "/cardholders/{id}"}, console.ReadOnly, p.cardholder)
	c.Action("/cardholders/{id}/unlock", console.Operator, p.unlock)
	c.Page(console.NavItem{Path: "/transactions", Label: "Transactions", Group: "Issuer"}, console.ReadOnly, p.transactions)
	c.Page(console.NavItem{Path: "/transactions/{id}"}, console.ReadOnly, p.transaction)
	c.Page(console.NavItem{Path: "/issuers", Label: "Issuers", Group: "Issuer"}, console.ReadOnly, p.issuers)
	c.Page(console.NavItem{Path: "/delivery", Label: "Delivery", Group: "Issuer"}, console.ReadOnly, p.delivery)
	c.Page(console.NavItem{Path: previewPath, Label: "Challenge preview", Group: "Issuer"}, console.ReadOnly, p.challengePreview)
	c.Page(console.NavItem{Path: previewPath + "/frame"}, console.ReadOnly, p.challengePreviewFrame)
	c.Page(console.NavItem{Path: previewPath + "/static/{file}"}, console.ReadOnly, p.challengePreviewStatic)
	c.Page(console.NavItem{Path: previewPath + "/preview.css"}, console.ReadOnly, p.challengePreviewStyle)
	c.Page(console.NavItem{Path: "/analytics", Label: "Analytics", Group: "Analytics"}, console.ReadOnly, p.analytics)
}

// spanText writes a lock window as operators configure it: "24h", "90m".
func spanText(d time.Duration) string {
	switch {
	case d > 0 && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d > 0 && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

func digitsOf(s string, n int) bool { return len(s) == n && digits(s) }

type cardholderItem struct {
	CardholderRow
	Locked bool
}

type cardholdersData struct {
	Find    CardholderFind
	Issuers []Issuer
	Items   []cardholderItem
	Lock    otp.Policy
	Window  string
	Asked   bool
	Problem string // the operator's mistake in the search, shown above the form
}

func (p *consolePages) locked(failures int) bool { return failures >= p.lock.CardLockFailures }

func (p *consolePages) cardholders(r *console.Request) (console.View, error) {
	q := r.URL.Query()
	f := CardholderFind{Issuer: q.Get("issuer"), First6: strings.TrimSpace(q.Get("first6")), Last4: strings.TrimSpace(q.Get("last4")),
		Ref: strings.TrimSpace(q.Get("ref")), LockFrom: p.now().Add(-p.lock.CardLockWindow)}
	issuers, err := p.st.Issuers(r.Context())
	if err != nil {
		return console.View{}, err
	}
	d := cardholdersData{Find: f, Issuers: issuers, Lock: p.lock, Window: spanText(p.lock.CardLockWindow), Asked: len(q) > 0}
	switch {
	case f.First6 != "" && !digitsOf(f.First6, 6):
		d.Problem = "First six: must be the first 6 digits of the card number."
	case f.Last4 != "" && !digitsOf(f.Last4, 4):
		d.Problem = "Last four: must be the last 4 digits of the card number."
	}
	if d.Problem != "" {
		return console.View{Title: "Cardholders", Template: cardholdersPage, Data: d}, nil
	}
	rows, err := p.st.FindCardholders(r.Context(), f)
	if err != nil {
		return console.View{}, err
	}
	for _, c := range rows {
		d.Items = append(d.Items, cardholderItem{c, p.locked(c.Failures)})
	}
	return console.View{Title: "Cardholders", Template: cardholdersPage, Data: d}, nil
}

type cardholderData struct {
	C            CardholderRow
	Issuer       string
	Mobiles      []string
	Emails       []string
	Locked       bool
	Lock         otp.Policy
	Window       string
	Devices      []CardDevice
	Transactions []Transaction
}

func (p *consolePages) cardholderRow(r *console.Request, id string) (CardholderRow, error) {
	rows, err := p.st.FindCardholders(r.Context(), CardholderFind{Ref: id, Limit: 1, LockFrom: p.now().Add(-p.lock.CardLockWindow)})
	if err != nil {
		return CardholderRow{}, err
	}
	if len(rows) == 0 {
		return CardholderRow{}, &httpx.Problem{Status: http.StatusNotFound, Title: "There is no such cardholder."}
	}
	return rows[0], nil
}

func (p *consolePages) cardholder(r *console.Request) (console.View, error) {
	c, err := p.cardholderRow(r, r.PathValue("id"))
	if err != nil {
		return console.View{}, err
	}
	d := cardholderData{C: c, Issuer: c.IssuerID, Locked: p.locked(c.Failures), Lock: p.lock,
		Window: spanText(p.lock.CardLockWindow)}
	if is, err := p.st.Issuer(r.Context(), c.IssuerID); err == nil {
		d.Issuer = is.Name + " (" + is.ID + ")"
	}
	for _, m := range c.Mobiles {
		d.Mobiles = append(d.Mobiles, notify.Mask(notify.SMS, m))
	}
	for _, e := range c.Emails {
		d.Emails = append(d.Emails, notify.Mask(notify.Email, e))
	}
	if d.Devices, err = p.st.CardholderDevices(r.Context(), c.ID, 10); err != nil {
		return console.View{}, err
	}
	for i := range d.Devices {
		d.Devices[i].Channel = channelName(d.Devices[i].Channel)
	}
	if d.Transactions, err = p.st.FindTransactions(r.Context(), TransactionFind{Cardholder: c.ID, Limit: 10}); err != nil {
		return console.View{}, err
	}
	return console.View{Title: "Card " + c.MaskedPAN, Template: cardholderPage, Data: d}, nil
}

// unlock does what POST /v1/cardholders/{id}/unlock does: it clears the card's failed entries.
func (p *consolePages) unlock(r *console.Request) (console.Change, error) {
	id := r.PathValue("id")
	n, err := p.st.ClearOTPFailures(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return console.Change{}, &console.FieldError{Field: "cardholder", Problem: "does not exist"}
	}
	if err != nil {
		return console.Change{}, err
	}
	back := "/cardholders/" + url.PathEscape(id)
	if n == 0 {
		return console.Change{Unchanged: true, Notice: "The card had no failed code entries to clear.", Redirect: back}, nil
	}
	return console.Change{Action: "cardholder.unlock", Target: id, Detail: fmt.Sprintf("cleared %d failed code entries", n),
		Notice: fmt.Sprintf("Card unlocked: %d failed code entries cleared.", n), Redirect: back}, nil
}

// channels names the deviceChannel values as operators say them.
var channels = []struct{ Code, Name string }{{"02", "browser"}, {"01", "app"}, {"03", "3RI"}}

func channelName(code string) string {
	for _, c := range channels {
		if c.Code == code {
			return c.Name
		}
	}
	return code
}

// channelCode accepts a channel by its name or its code.
func channelCode(s string) (string, bool) {
	for _, c := range channels {
		if s == c.Code || strings.EqualFold(s, c.Name) {
			return c.Code, true
		}
	}
	return "", s == ""
}

type txItem struct {
	Transaction
	Channel string
	Amount  string
}

func txItemOf(t Transaction) txItem {
	return txItem{Transaction: t, Channel: channelName(t.DeviceChannel), Amount: fmt.Sprintf("%d %s", t.Amount, t.Currency)}
}

type transactionsData struct {
	Find     TransactionFind
	Day      string
	Channel  string
	Issuers  []Issuer
	Channels []struct{ Code, Name string }
	Statuses []string
	Items    []txItem
	Problem  string
}

func (p *consolePages) transactions(r *console.Request) (console.View, error) {
	q := r.URL.Query()
	f := TransactionFind{ID: strings.TrimSpace(q.Get("id")), Issuer: q.Get("issuer"), TransStatus: q.Get("status"), Limit: 50}
	issuers, err := p.st.Issuers(r.Context())
	if err != nil {
		return console.View{}, err
	}
	d := transactionsData{Day: q.Get("day"), Issuers: issuers, Channels: channels,
		Statuses: []string{"Y", "A", "N", "U", "R", "C", "D", "I"}}
	ch, ok := channelCode(q.Get("channel"))
	if !ok {
		d.Problem = "Channel: must be browser, app or 3RI."
	}
	f.Channel, d.Channel = ch, ch
	if day := strings.TrimSpace(q.Get("day")); day != "" {
		if f.Day, err = time.Parse(time.DateOnly, day); err != nil {
			d.Problem = "Day: must be a date, YYYY-MM-DD."
		}
	}
	d.Find = f
	if d.Problem != "" {
		return console.View{Title: "Transactions", Template: transactionsPage, Data: d}, nil
	}
	txs, err := p.st.FindTransactions(r.Context(), f)
	if err != nil {
		return console.View{}, err
	}
	for _, t := range txs {
		d.Items = append(d.Items, txItemOf(t))
	}
	return console.View{Title: "Transactions", Template: transactionsPage, Data: d}, nil
}

type transactionData struct {
	T         txItem
	Challenge *challengeView
}

type challengeView struct {
	Step, Channel, Outcome string
	CodesSent, Wrong       int
	Interactions           int
	AResAt, LastActivity   time.Time
}

func (p *consolePages) transaction(r *console.Request) (console.View, error) {
	id := r.PathValue("id")
	t, err := p.st.Transaction(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return console.View{}, &httpx.Problem{Status: http.StatusNotFound, Title: "There is no such transaction."}
	}
	if err != nil {
		return console.View{}, err
	}
	d := transactionData{T: txItemOf(t)}
	c, err := p.st.ChallengeOf(r.Context(), id)
	switch {
	case err == nil:
		d.Challenge = &challengeView{Step: c.Step, Channel: c.Channel, CodesSent: c.OTP.Sequence, Wrong: c.OTP.Wrong,
			Interactions: c.OTP.Interactions, AResAt: c.AResAt, LastActivity: c.LastActivity, Outcome: challengeOutcome(t)}
	case !errors.Is(err, store.ErrNotFound):
		return console.View{}, err
	}
	return console.View{Title: "Transaction " + id, Template: transactionPage, Data: d}, nil
}

// challengeOutcome says in words how a challenge ended.
func challengeOutcome(t Transaction) string {
	switch {
	case t.EndedAt.IsZero():
		return "in progress"
	case t.TransStatus == "Y":
		return "authenticated"
	case t.Reason == "14":
		return "timed out"
	case t.Reason == "19":
		return "card locked"
	case t.ChallengeFailed:
		return "wrong code"
	case t.TransStatus == "N" && t.Reason == "01":
		return "cancelled"
	}
	return "ended " + t.TransStatus
}
