package shop

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
)

// maxOrders bounds the order book: a demo left running must not grow without end. The oldest
// orders go first; their result pages still show the authentication, without the product.
const maxOrders = 10000

// orderBook remembers, per authentication, what the shopper bought. The product is chosen only at
// Buy, after the authentication started.
type orderBook struct {
	mu     sync.Mutex
	max    int
	orders map[string]*order
	queue  []string // ids, oldest first
}

type order struct {
	product *Product
	created time.Time
	// pan is the card on file: the number the shopper typed, which a subscription charges later
	// without them. It stays in this process's memory only, as long as the order, and is never
	// shown or logged (a real shop would keep its acquirer's token instead).
	pan string
	// saveOnly marks a non-payment authentication (the card saved, nothing bought); prior, a
	// subscription payment (3RI), names the purchase it stands on.
	saveOnly bool
	prior    string
}

func newOrderBook(max int) *orderBook {
	return &orderBook{max: max, orders: map[string]*order{}}
}

func (b *orderBook) add(id string, o order) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.queue) >= b.max {
		delete(b.orders, b.queue[0])
		b.queue = b.queue[1:]
	}
	b.orders[id] = &o
	b.queue = append(b.queue, id)
}

// get is a copy of the order under id.
func (b *orderBook) get(id string) (order, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if o := b.orders[id]; o != nil {
		return *o, true
	}
	return order{}, false
}

func (b *orderBook) has(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.orders[id] != nil
}

// choose records what the shopper chose at Buy: the product, or nil when they only save the card.
func (b *orderBook) choose(id string, p *Product) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if o := b.orders[id]; o != nil {
		o.product, o.saveOnly = p, p == nil
	}
}

// product is what was bought under id, if the book still holds it.
func (b *orderBook) product(id string) (Product, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if o := b.orders[id]; o != nil && o.product != nil {
		return *o.product, true
	}
	return Product{}, false
}

// orderReturn is where the 3DS Server sends the browser after a challenge shown full-page (the
// checkout script's fallback when it cannot frame the ACS).
func (s *Shop) orderReturn(w http.ResponseWriter, r *http.Request) error {
	id := r.URL.Query().Get("id")
	if !isUUID(id) {
		return httpx.NewProblem(http.StatusNotFound, "the return address names no order")
	}
	http.Redirect(w, r, "/orders/"+strings.ToLower(id), http.StatusSeeOther)
	return nil
}

// orderData is what the result page shows.
type orderData struct {
	Shop, Title string
	Refresh     bool
	Outcome     string // "ok", "failed" or "pending": the page's colour
	Heading     string
	Reason      string
	CheckAgain  string // a link to the result without ?cancelled, while the result is not final
	Product     *productView
	Result      result
	Timings     string
	// SaveOnly is a card saved without payment; Subscribe offers a monthly subscription on this
	// order's card (the form posts to it), Renew the next payment of a subscription at once.
	SaveOnly  bool
	Subscribe string
	Renew     bool
}

// order shows the result of an order as the 3DS Server holds it. After a challenge the RReq may
// still be on its way when the browser arrives, so the page waits for it a little before it shows a
// page that reloads itself.
func (s *Shop) order(w http.ResponseWriter, r *http.Request) error {
	id := strings.ToLower(r.PathValue("id"))
	if !isUUID(id) {
		return httpx.NewProblem(http.StatusNotFound, "not an order id")
	}
	cancelled := r.URL.Query().Get("cancelled") == "1"
	res, err := s.api.authentication(r.Context(), id)
	if err == nil && !res.Final && !cancelled && res.State != "started" {
		res, err = s.awaitFinal(r.Context(), id, res)
	}
	if err != nil {
		return err
	}
	d := orderData{Shop: s.cfg.Name, Result: res, Timings: timings(res)}
	o, known := s.orders.get(id)
	if known && o.product != nil {
		d.Product = &productView{*o.product, s.money.format(o.product.Amount)}
	}
	d.SaveOnly = known && o.saveOnly
	d.Outcome, d.Heading, d.Reason = outcome(res)
	// A purchase the bank authenticated may become a subscription, charged monthly with no one
	// present (3RI); a subscription's page offers its next payment at once, which the bank refuses
	// as too soon.
	if known && o.pan != "" && d.Product != nil && res.Final {
		if o.prior == "" && res.TransStatus == "Y" {
			d.Subscribe = "/orders/" + url.PathEscape(id) + "/subscribe"
		} else if o.prior != "" {
			d.Subscribe, d.Renew = "/orders/"+url.PathEscape(id)+"/subscribe", true
		}
	}
	switch {
	case res.Final || res.State == "started":
	case cancelled:
		d.Outcome, d.Heading = "failed", "You closed the verification — no payment taken"
		d.Reason = "Your bank has not sent its final answer yet; no payment is taken without it."
		d.CheckAgain = "/orders/" + url.PathEscape(id)
	default:
		d.Refresh = true
	}
	d.Title = d.Heading + " · " + s.cfg.Name
	return render(w, orderPage, d)
}

// awaitFinal polls the 3DS Server until the result is final or the wait is over, and returns the
// last result read.
func (s *Shop) awaitFinal(ctx context.Context, id string, res result) (result, error) {
	deadline := time.Now().Add(s.cfg.ResultWait)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !res.Final && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-tick.C:
		}
		var err error
		if res, err = s.api.authentication(ctx, id); err != nil {
			return res, err
		}
	}
	return res, nil
}

// outcome says in words what a result means for the shopper: the page's tone, its heading, and why
// there was no payment.
func outcome(r result) (tone, heading, reason string) {
	const failed = "Not authenticated — no payment taken"
	switch {
	case r.State == "started":
		return "failed", failed, "The checkout did not finish: the card was never sent for authentication."
	case !r.Final:
		return "pending", "Waiting for your bank's answer…", "This page reloads by itself until your bank answers."
	case r.ErrorCode != "" || r.State == "error":
		why := "The authentication could not be completed (error " + orDash(r.ErrorCode) + ")"
		if r.ErrorDetail != "" {
			why += ": " + r.ErrorDetail
		}
		return "failed", failed, why + "."
	case r.TransStatus == "Y" && r.Channel == "3ri":
		return "ok", "Subscription payment authenticated",
			"Your bank accepted this month's payment on the strength of the purchase you confirmed; you were not asked again."
	case r.TransStatus == "Y" && r.MessageCategory == "non-payment":
		return "ok", "Card saved — verified by your bank", "Your bank confirmed the card is yours; nothing was charged."
	case r.TransStatus == "Y":
		return "ok", "Authenticated — payment complete", "Your bank confirmed it was you."
	case r.TransStatus == "A":
		return "ok", "Payment complete (attempted authentication)",
			"Your bank could not authenticate you, but it proved the attempt; the payment went through."
	}
	if why, ok := cancelReasons[r.ChallengeCancel]; ok {
		return "failed", failed, why
	}
	if why, ok := statusReasons[r.TransStatusReason]; ok {
		return "failed", failed, "Your bank said: " + why + "."
	}
	if why, ok := statuses[r.TransStatus]; ok {
		return "failed", failed, why
	}
	return "failed", failed, "Your bank did not authenticate the payment (status " + orDash(r.TransStatus) + ")."
}

// cancelReasons say what the RReq's challengeCancel means for the shopper.
var cancelReasons = map[string]string{
	"01": "You cancelled the verification.",
	"03": "The verification in your banking app timed out.",
	"04": "The verification timed out.",
	"05": "The verification timed out before it started.",
	"06": "The verification failed with an error at your bank.",
	"07": "The verification ended for a reason your bank did not give.",
	"08": "The verification timed out.",
}

// statusReasons are the transStatusReason codes a shopper can understand, in short words.
var statusReasons = map[string]string{
	"01": "card authentication failed",
	"02": "unknown device",
	"03": "unsupported device",
	"04": "too many authentications in a short time",
	"05": "the card has expired",
	"06": "the card number is not valid",
	"07": "the transaction is not valid",
	"08": "there is no record of this card",
	"09": "security failure",
	"10": "the card is reported stolen",
	"11": "suspected fraud",
	"12": "this card may not be used for this purchase",
	"13": "the card is not enrolled in secure checkout",
	"14": "the verification timed out",
	"15": "low confidence",
	"16": "medium confidence",
	"17": "high confidence",
	"18": "very high confidence",
	"19": "too many verification attempts",
	"20": "this kind of transaction is not supported",
	"21": "this kind of transaction is not supported",
	"22": "a technical problem at the bank",
	"23": "the bank wanted to verify you in its app, which this shop did not ask for",
	"24": "the verification in your banking app took too long",
	"25": "there was too little time to verify you in your banking app",
	"26": "authentication was attempted but not performed",
}

// statuses explain a final transStatus that came without a reason.
var statuses = map[string]string{
	"N": "Your bank did not authenticate the payment.",
	"U": "Your bank could not authenticate the payment just now.",
	"R": "Your bank rejected the payment.",
	"I": "Your bank took note of the payment but did not authenticate it.",
}

// timings puts the API's milliseconds in words.
func timings(r result) string {
	var parts []string
	if r.Timings.AResMillis > 0 {
		parts = append(parts, "first answer after "+strconv.FormatInt(r.Timings.AResMillis, 10)+" ms")
	}
	if r.Timings.ResultMillis > 0 && r.Timings.ResultMillis != r.Timings.AResMillis {
		parts = append(parts, "final result after "+strconv.FormatInt(r.Timings.ResultMillis, 10)+" ms")
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
