package acs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/console"
)

// deliveryDays is the default window of the delivery page, today included; maxDeliveryDays the
// longest it takes.
const (
	deliveryDays    = 7
	maxDeliveryDays = 366
)

type deliveryRow struct {
	ProviderStats
	Rate     float64 // failures as a percentage of tries
	P50, P95 string
}

type deliveryData struct {
	Days     string
	Issuer   string
	Issuers  []Issuer
	From, To string // the window's first and last UTC days
	Rows     []deliveryRow
	Totals   ProviderStats
	Rate     float64
	Problem  string
}

// delivery shows, per provider and channel, how the one-time codes of the last days went: how many
// the provider took and how many failed, its latencies and its latest failure.
func (p *consolePages) delivery(r *console.Request) (console.View, error) {
	q := r.URL.Query()
	issuers, err := p.st.Issuers(r.Context())
	if err != nil {
		return console.View{}, err
	}
	d := deliveryData{Days: strings.TrimSpace(q.Get("days")), Issuer: q.Get("issuer"), Issuers: issuers}
	days := deliveryDays
	if d.Days == "" {
		d.Days = strconv.Itoa(days)
	} else if n, err := strconv.Atoi(d.Days); err != nil || n < 1 || n > maxDeliveryDays {
		d.Problem = fmt.Sprintf("Days: must be a whole number of days from 1 to %d.", maxDeliveryDays)
	} else {
		days = n
	}
	if d.Issuer != "" && !knownIssuer(issuers, d.Issuer) {
		d.Problem = fmt.Sprintf("Issuer: there is no issuer %q.", d.Issuer)
	}
	today := p.now().UTC().Truncate(24 * time.Hour)
	f := DeliveryFind{From: today.AddDate(0, 0, -(days - 1)), To: today.AddDate(0, 0, 1), Issuer: d.Issuer}
	d.From, d.To = f.From.Format(time.DateOnly), today.Format(time.DateOnly)
	view := console.View{Title: "Delivery", Template: deliveryPage, Data: &d}
	if d.Problem != "" {
		return view, nil
	}
	stats, err := p.st.DeliveryStats(r.Context(), f)
	if err != nil {
		return console.View{}, err
	}
	for _, s := range stats {
		d.Rows = append(d.Rows, deliveryRow{ProviderStats: s, Rate: console.Rate(s.Failed, s.Tries()),
			P50: latencyText(s.P50, s.Sent), P95: latencyText(s.P95, s.Sent)})
		d.Totals.Sent += s.Sent
		d.Totals.Failed += s.Failed
	}
	d.Rate = console.Rate(d.Totals.Failed, d.Totals.Tries())
	return view, nil
}

func knownIssuer(issuers []Issuer, id string) bool {
	for _, is := range issuers {
		if is.ID == id {
			return true
		}
	}
	return false
}

// latencyText writes a latency as operators read it: "850 ms", "2.4 s"; a dash when nothing was
// sent to measure.
func latencyText(d time.Duration, sent int64) string {
	switch {
	case sent == 0:
		return "—"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}
