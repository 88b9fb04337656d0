package shop

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
)

// Subscriptions: a purchase the bank authenticated can become a monthly subscription. The shop
// charges the card on file with nobody present, a 3RI authentication (threeRIInd recurring) that
// names the purchase as its prior authentication; the bank checks it against that purchase and the
// agreement (a year of monthly payments). "Renew now" on a subscription's page asks for the next
// payment at once, which the bank refuses as too soon.

// subscriptionMonths is how long the agreement the shop asks for lasts; subscriptionDays is the
// least time between two payments.
const (
	subscriptionMonths = 12
	subscriptionDays   = 30
)

// threeRICall is the merchant API's StartRequest for a 3RI payment.
type threeRICall struct {
	Channel             string            `json:"channel"`
	CardNumber          string            `json:"cardNumber"`
	ThreeRIInd          string            `json:"threeRIInd"`
	Amount              string            `json:"amount"`
	Currency            string            `json:"currency"`
	Exponent            int               `json:"exponent"`
	PriorAuthentication map[string]string `json:"priorAuthentication"`
	Recurring           map[string]any    `json:"recurring"`
}

// subscribe starts the subscription's payment for the order in the path and shows its result.
func (s *Shop) subscribe(w http.ResponseWriter, r *http.Request) error {
	id := strings.ToLower(r.PathValue("id"))
	o, ok := s.orders.get(id)
	if !isUUID(id) || !ok || o.pan == "" || o.product == nil {
		return httpx.NewProblem(http.StatusNotFound, "the shop no longer remembers this order's card; buy again to subscribe")
	}
	prior := id
	if o.prior != "" {
		prior = o.prior // the next payment of a subscription stands on the same purchase
	}
	p := *o.product
	call := threeRICall{Channel: "3ri", CardNumber: o.pan, ThreeRIInd: "recurring", Amount: strconv.FormatInt(p.Amount, 10),
		Currency: s.cfg.Currency, Exponent: s.money.exponent, PriorAuthentication: map[string]string{"id": prior},
		Recurring: map[string]any{"expiry": time.Now().UTC().AddDate(0, subscriptionMonths, 0).Format("20060102"),
			"frequency": subscriptionDays}}
	ans, err := s.api.call(r.Context(), http.MethodPost, "/v1/authentications", call)
	if err != nil {
		return err
	}
	if !ans.ok() {
		httpx.Logger(r.Context()).Warn("the 3DS Server refused a subscription payment", "order", id, "status", ans.status)
		return &httpx.Problem{Status: http.StatusBadGateway, Detail: "the subscription could not be started; please try again later",
			Err: fmt.Errorf("POST /v1/authentications (3ri): answered %d: %s", ans.status, ans.body)}
	}
	var res result
	if err := json.Unmarshal(ans.body, &res); err != nil || !isUUID(res.ID) {
		return upstream(fmt.Errorf("POST /v1/authentications (3ri): an answer without a transaction id (%v)", err))
	}
	s.orders.add(res.ID, order{created: time.Now(), pan: o.pan, product: &p, prior: prior})
	http.Redirect(w, r, "/orders/"+url.PathEscape(res.ID), http.StatusSeeOther)
	return nil
}
