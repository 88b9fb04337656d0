package backtest

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"time"
)

//go:embed report.html.tmpl
var reportHTML string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":  pct,
	"rate": func(c Counts, live bool) string { return pct(c.FrictionlessRate(live)) },
	"date": func(t time.Time) string { return t.Format("2 Jan 2006 15:04") },
}).Parse(reportHTML))

// The charts are drawn here, as inline SVG: the report is one file with no script, no font and no
// library to fetch, readable offline and safe to mail. Coordinates are in the SVG's own units; the
// page scales it to the screen's width.
const (
	chartW     = 640.0
	labelH     = 26.0 // the row's label above its bars
	barH       = 18.0
	barGap     = 4.0
	rowGap     = 16.0
	valueSpace = 150.0 // room right of the longest bar for its number
)

// bar is one bar of a chart: its row, which series, its length and the number it shows.
type bar struct {
	Series     string // "live" or "new"
	Y, W       float64
	Text, Name string
}

// barRow is one group of a bar chart: a label and its two bars.
type barRow struct {
	Label  string
	LabelY float64
	Bars   []bar
}

type barChart struct {
	ID, Title, Caption string
	Height             float64
	Rows               []barRow
}

// rowsChart draws two bars per group: live and new, each value scaled against max.
func rowsChart(id, title, caption string, groups []Group, value func(Counts, bool) float64, max float64, text func(Counts, bool) string) barChart {
	c := barChart{ID: id, Title: title, Caption: caption}
	y := 0.0
	span := chartW - valueSpace
	for _, g := range groups {
		r := barRow{Label: g.Key, LabelY: y + labelH - 8}
		y += labelH
		for _, live := range []bool{true, false} {
			series := "new"
			if live {
				series = "live"
			}
			w := 0.0
			if max > 0 {
				w = math.Round(value(g.Counts, live)/max*span*10) / 10
			}
			r.Bars = append(r.Bars, bar{Series: series, Y: y, W: w, Text: text(g.Counts, live), Name: g.Key})
			y += barH + barGap
		}
		y += rowGap
		c.Rows = append(c.Rows, r)
	}
	c.Height = y
	return c
}

// point is one day of the series.
type point struct {
	X, YLive, YNew float64
	Label          string
	Live, New      string
	ShowLabel      bool
}

type lineChart struct {
	Height         float64
	Points         []point
	LiveD, NewD    string // the SVG paths
	Top, Mid, Base float64
}

const lineH, linePad, lineBottom = 220.0, 80.0, 40.0

// dailyChart draws the frictionless rate of each day, live and new, on a 0–100 % scale.
func dailyChart(days []Group) lineChart {
	c := lineChart{Height: lineH + lineBottom, Top: 10, Mid: 10 + lineH/2 - 5, Base: lineH}
	n := len(days)
	step := 0.0
	if n > 1 {
		step = (chartW - 2*linePad) / float64(n-1)
	}
	every := max(1, n/6) // about six date labels, whatever the window
	y := func(f float64) float64 { return math.Round((10+(1-f)*(lineH-10))*10) / 10 }
	for i, d := range days {
		x := linePad + float64(i)*step
		if n == 1 {
			x = chartW / 2
		}
		p := point{X: math.Round(x*10) / 10, YLive: y(d.FrictionlessRate(true)), YNew: y(d.FrictionlessRate(false)),
			Label: d.Key[5:], Live: pct(d.FrictionlessRate(true)), New: pct(d.FrictionlessRate(false)), ShowLabel: i%every == 0 || i == n-1}
		c.Points = append(c.Points, p)
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		c.LiveD += fmt.Sprintf("%s%.1f %.1f ", cmd, p.X, p.YLive)
		c.NewD += fmt.Sprintf("%s%.1f %.1f ", cmd, p.X, p.YNew)
	}
	return c
}

// WriteHTML writes the report as one self-contained page.
func WriteHTML(w io.Writer, r *Report) error {
	maxFraud := 0.0
	for _, g := range r.BINs {
		maxFraud = math.Max(maxFraud, float64(g.Fraud))
	}
	rate := func(c Counts, live bool) float64 { return c.FrictionlessRate(live) }
	caught := func(c Counts, live bool) float64 {
		if live {
			return float64(c.CaughtLive)
		}
		return float64(c.CaughtNew)
	}
	var fraudBINs []Group
	for _, g := range r.BINs {
		if g.Fraud > 0 {
			fraudBINs = append(fraudBINs, g)
		}
	}
	type table struct {
		ID, Title, Key string
		Rows           []Group
	}
	data := struct {
		*Report
		Charts []barChart
		Tables []table
		Daily  lineChart
		ChartW float64
	}{
		Report: r,
		Charts: []barChart{rowsChart("frictionless", "Frictionless rate by issuer", "Share of AReqs that pass without a challenge.",
			r.Issuers, rate, 1, func(c Counts, live bool) string { return pct(c.FrictionlessRate(live)) }),
			rowsChart("caught", "Fraud caught by BIN", "Reported frauds that were (live) or would be (new) challenged or denied, of those reported.",
				fraudBINs, caught, maxFraud, func(c Counts, live bool) string {
					n := c.CaughtNew
					if live {
						n = c.CaughtLive
					}
					return fmt.Sprintf("%d of %d", n, c.Fraud)
				})},
		Tables: []table{{"issuers", "By issuer", "Issuer", r.Issuers}, {"bins", "By BIN", "BIN", r.BINs}},
		Daily:  dailyChart(r.Days),
		ChartW: chartW,
	}
	return reportTmpl.Execute(w, data)
}
