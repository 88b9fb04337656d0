package ds

import (
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/emv"
)

var analyticsPage = console.ParsePage(consoleFiles, "console_templates/analytics.html")

// analyticsDays is the default span and analyticsMaxDays the longest one a page asks for.
const (
	analyticsDays    = 14
	analyticsMaxDays = 92
)

type analyticsData struct {
	Filter                                    AnalyticsFilter
	From, To                                  string
	Problems                                  []string
	ACSs                                      []string
	Servers                                   []string
	Versions                                  []string
	Channels                                  []channelName
	Days                                      []DayStats
	Totals                                    DayStats
	Erros                                     []ErroCount
	AReqs, Frictionless, Challenges, StandIns console.Chart
	FrictionlessRate, ChallengeRate           float64
}

const dayLayout = "2006-01-02"

func parseDay(s string) (time.Time, error) { return time.Parse(dayLayout, strings.TrimSpace(s)) }

type channelName struct{ Code, Name string }

var channels = []channelName{{emv.ChannelApp, "app"}, {emv.ChannelBrowser, "browser"}, {emv.Channel3RI, "3RI"}}

func (p *consolePages) analytics(r *console.Request) (console.View, error) {
	q := r.URL.Query()
	today := p.o.Now().UTC()
	d := analyticsData{Versions: emv.Versions, Channels: channels}
	f := AnalyticsFilter{To: today, From: today.AddDate(0, 0, 1-analyticsDays), ACS: strings.TrimSpace(q.Get("acs")),
		BIN: strings.TrimSpace(q.Get("bin")), Server: strings.TrimSpace(q.Get("server")),
		MessageVersion: strings.TrimSpace(q.Get("version")), Channel: q.Get("channel")}
	if v := q.Get("from"); v != "" {
		if t, err := parseDay(v); err != nil {
			d.Problems = append(d.Problems, "From is a day written 2006-01-02.")
		} else {
			f.From = t
		}
	}
	if v := q.Get("to"); v != "" {
		if t, err := parseDay(v); err != nil {
			d.Problems = append(d.Problems, "To is a day written 2006-01-02.")
		} else {
			f.To = t
		}
	}
	if f.To.Before(f.From) {
		d.Problems = append(d.Problems, "From comes after To: the last 14 days are shown.")
		f.To, f.From = today, today.AddDate(0, 0, 1-analyticsDays)
	}
	if f.To.Sub(f.From).Hours()/24 >= analyticsMaxDays {
		d.Problems = append(d.Problems, "A span is at most 92 days: the 92 days up to To are shown.")
		f.From = f.To.AddDate(0, 0, 1-analyticsMaxDays)
	}
	if strings.Trim(f.BIN, "0123456789") != "" || len(f.BIN) > 6 {
		d.Problems = append(d.Problems, "BIN is up to six digits, the most a masked card number keeps: it is not applied.")
		f.BIN = ""
	}
	d.Filter, d.From, d.To = f, f.From.Format(dayLayout), f.To.Format(dayLayout)

	acss, err := p.o.Store.ListACS(r.Context())
	if err != nil {
		return console.View{}, err
	}
	for _, a := range acss {
		d.ACSs = append(d.ACSs, a.Name)
	}
	servers, err := p.o.Store.ListThreeDSServers(r.Context())
	if err != nil {
		return console.View{}, err
	}
	for _, s := range servers {
		d.Servers = append(d.Servers, s.Name)
	}
	counted, err := p.a.Days(r.Context(), f)
	if err != nil {
		return console.View{}, err
	}
	if d.Erros, err = p.a.Erros(r.Context(), f); err != nil {
		return console.View{}, err
	}
	// Every day of the span has its row and its place on the charts, counted or not.
	byDay := map[string]DayStats{}
	for _, c := range counted {
		byDay[c.Day] = c
	}
	var labels []string
	var areqs, fr, ch, si []float64
	for day := f.From; !day.After(f.To); day = day.AddDate(0, 0, 1) {
		k := day.Format(dayLayout)
		s := byDay[k]
		s.Day = k
		d.Days = append(d.Days, s)
		d.Totals.AReqs += s.AReqs
		d.Totals.Frictionless += s.Frictionless
		d.Totals.Challenges += s.Challenges
		d.Totals.StandIns += s.StandIns
		labels = append(labels, k[5:])
		areqs = append(areqs, float64(s.AReqs))
		fr = append(fr, console.Rate(s.Frictionless, s.AReqs))
		ch = append(ch, console.Rate(s.Challenges, s.AReqs))
		si = append(si, float64(s.StandIns))
	}
	d.FrictionlessRate = console.Rate(d.Totals.Frictionless, d.Totals.AReqs)
	d.ChallengeRate = console.Rate(d.Totals.Challenges, d.Totals.AReqs)
	d.AReqs = console.Chart{ID: "areqs", Title: "AReqs per day", Labels: labels, Series: []console.Series{{Name: "AReqs", Values: areqs}}}
	d.Frictionless = console.Chart{ID: "frictionless-rate", Title: "Frictionless rate: ARes Y or A from the ACS, no challenge",
		Labels: labels, Series: []console.Series{{Name: "frictionless", Values: fr}}, Unit: "%"}
	d.Challenges = console.Chart{ID: "challenge-rate", Title: "Challenge rate: ARes C or D", Labels: labels,
		Series: []console.Series{{Name: "challenge", Values: ch}}, Unit: "%"}
	d.StandIns = console.Chart{ID: "stand-ins", Title: "Stand-ins: the DS answered for the ACS", Labels: labels,
		Series: []console.Series{{Name: "stand-ins", Values: si}}}
	return console.View{Title: "Analytics", Template: analyticsPage, Data: d}, nil
}
