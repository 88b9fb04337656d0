package acs

import (
	"slices"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/console"
)

// analyticsDays is the default range of the analytics page, today included.
const analyticsDays = 14

type analyticsData struct {
	From, To     string
	Filter       AnalyticsFilter
	Channel      string
	Issuers      []Issuer
	Channels     []struct{ Code, Name string }
	Problem      string
	Totals       DayStats
	Frictionless console.Chart
	Challenges   console.Chart
	// DeliveryLatency and DeliveryFailures are the one-time codes' delivery: the daily 95th
	// percentile of the sent ones' latency in seconds, and the failed tries per provider.
	DeliveryLatency, DeliveryFailures console.Chart
	DeliverySent, DeliveryFailed      int64
	// FrictionlessRate, SuccessRate and AbandonRate are the range's, for the tiles.
	FrictionlessRate, SuccessRate, AbandonRate float64
}

func (p *consolePages) analytics(r *console.Request) (console.View, error) {
	q := r.URL.Query()
	today := p.now().UTC().Truncate(24 * time.Hour)
	f := AnalyticsFilter{From: today.AddDate(0, 0, -(analyticsDays - 1)), To: today, Issuer: q.Get("issuer"),
		BIN: strings.TrimSpace(q.Get("bin")), MessageVersion: strings.TrimSpace(q.Get("version"))}
	issuers, err := p.st.Issuers(r.Context())
	if err != nil {
		return console.View{}, err
	}
	d := analyticsData{Issuers: issuers, Channels: channels}
	for _, x := range []struct {
		name, v string
		to      *time.Time
	}{{"From", q.Get("from"), &f.From}, {"To", q.Get("to"), &f.To}} {
		if v := strings.TrimSpace(x.v); v != "" {
			day, err := time.Parse(time.DateOnly, v)
			if err != nil {
				d.Problem = x.name + ": must be a date, YYYY-MM-DD."
				continue
			}
			*x.to = day
		}
	}
	ch, ok := channelCode(q.Get("channel"))
	if !ok {
		d.Problem = "Channel: must be browser, app or 3RI."
	}
	f.Channel = ch
	switch {
	case f.BIN != "" && !digitsOf(f.BIN, 6):
		d.Problem = "BIN: must be the first 6 digits of the card number."
	case f.To.Before(f.From):
		d.Problem = "From: must not be after To."
	case f.To.Sub(f.From) > 366*24*time.Hour:
		d.Problem = "From: the range may span a year at most."
	}
	d.Filter, d.Channel = f, ch
	d.From, d.To = f.From.Format(time.DateOnly), f.To.Format(time.DateOnly)
	var stats []DayStats
	if d.Problem == "" {
		if stats, err = p.st.Analytics(r.Context(), f); err != nil {
			return console.View{}, err
		}
	}
	byDay := map[string]DayStats{}
	for _, s := range stats {
		byDay[s.Day] = s
		d.Totals.AReqs += s.AReqs
		d.Totals.Frictionless += s.Frictionless
		d.Totals.Challenges += s.Challenges
		d.Totals.Ended += s.Ended
		d.Totals.Succeeded += s.Succeeded
		d.Totals.Abandoned += s.Abandoned
	}
	var labels []string
	var fr, ok1, ab []float64
	if d.Problem == "" {
		for day := f.From; !day.After(f.To); day = day.AddDate(0, 0, 1) {
			s := byDay[day.Format(time.DateOnly)]
			labels = append(labels, day.Format(time.DateOnly))
			fr = append(fr, console.Rate(s.Frictionless, s.AReqs))
			ok1 = append(ok1, console.Rate(s.Succeeded, s.Ended))
			ab = append(ab, console.Rate(s.Abandoned, s.Ended))
		}
	}
	d.Frictionless = console.Chart{ID: "frictionless-rate", Title: "Frictionless rate: AReqs answered Y or A without a challenge",
		Labels: labels, Series: []console.Series{{Name: "frictionless", Values: fr}}, Unit: "%"}
	d.Challenges = console.Chart{ID: "challenge-outcomes", Title: "Challenges that ended: authenticated and abandoned",
		Labels: labels, Series: []console.Series{{Name: "authenticated", Values: ok1}, {Name: "abandoned", Values: ab}}, Unit: "%"}
	if d.Problem == "" {
		if err := p.deliveryCharts(r, f, &d); err != nil {
			return console.View{}, err
		}
	} else {
		d.DeliveryLatency, d.DeliveryFailures = deliveryLatencyChart(nil, nil), deliveryFailuresChart(nil, nil)
	}
	d.FrictionlessRate = console.Rate(d.Totals.Frictionless, d.Totals.AReqs)
	d.SuccessRate = console.Rate(d.Totals.Succeeded, d.Totals.Ended)
	d.AbandonRate = console.Rate(d.Totals.Abandoned, d.Totals.Ended)
	return console.View{Title: "Analytics", Template: analyticsPage, Data: d}, nil
}

// deliveryCharts draws the codes' delivery over f's days: a day without any try has no data, a
// provider without failures on a day with tries has 0.
func (p *consolePages) deliveryCharts(r *console.Request, f AnalyticsFilter, d *analyticsData) error {
	days, err := p.st.DeliveryAnalytics(r.Context(), f)
	if err != nil {
		return err
	}
	byDay := map[string]DeliveryDay{}
	var providers []string
	for _, dd := range days {
		byDay[dd.Day] = dd
		d.DeliverySent += dd.Sent
		for prov, n := range dd.Failures {
			d.DeliveryFailed += n
			if !slices.Contains(providers, prov) {
				providers = append(providers, prov)
			}
		}
	}
	slices.Sort(providers)
	var labels []string
	var p95 []float64
	failures := make([][]float64, len(providers))
	for day := f.From; !day.After(f.To); day = day.AddDate(0, 0, 1) {
		dd, ok := byDay[day.Format(time.DateOnly)]
		labels = append(labels, day.Format(time.DateOnly))
		v := console.NoData
		if dd.Sent > 0 {
			v = dd.P95.Seconds()
		}
		p95 = append(p95, v)
		for i, prov := range providers {
			n := console.NoData
			if ok {
				n = float64(dd.Failures[prov])
			}
			failures[i] = append(failures[i], n)
		}
	}
	var series []console.Series
	for i, prov := range providers {
		series = append(series, console.Series{Name: providerName(prov), Values: failures[i]})
	}
	d.DeliveryLatency, d.DeliveryFailures = deliveryLatencyChart(labels, p95), deliveryFailuresChart(labels, series)
	return nil
}

func deliveryLatencyChart(labels []string, p95 []float64) console.Chart {
	return console.Chart{ID: "delivery-latency", Title: "Code delivery latency: 95th percentile of the codes sent, queued to accepted",
		Labels: labels, Series: []console.Series{{Name: "p95", Values: p95}}, Unit: "s"}
}

func deliveryFailuresChart(labels []string, series []console.Series) console.Chart {
	return console.Chart{ID: "delivery-failures", Title: "Code delivery failures per provider", Labels: labels, Series: series}
}

// providerName names a provider on a page; a try that reached none has no name of its own.
func providerName(p string) string {
	if p == "" {
		return "none reached"
	}
	return p
}
