package console

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Chart is a bar chart drawn as SVG in the page: one group of bars per label (a day, a BIN, a
// provider), one bar per series. Values are NaN where there is no data, which draws no bar and says
// "no data" rather than 0. The chart is followed by its numbers as a table, for screen readers and
// for copying.
type Chart struct {
	ID     string // the figure's id, for links and tests
	Title  string
	Labels []string
	Series []Series
	// Unit is "%" for rates (the axis runs 0–100) or a unit written after each value ("ms").
	Unit string
}

// Series is one set of bars.
type Series struct {
	Name   string
	Values []float64 // one per label
}

// NoData marks a value that was not measured.
var NoData = math.NaN()

// Rate is part/whole as a percentage, or NoData when whole is 0.
func Rate(part, whole int64) float64 {
	if whole == 0 {
		return NoData
	}
	return 100 * float64(part) / float64(whole)
}

func formatPct(v float64) string {
	if math.IsNaN(v) {
		return "no data"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "%"
}

// FormatValue writes v in the chart's unit.
func (c Chart) FormatValue(v float64) string {
	if math.IsNaN(v) {
		return "no data"
	}
	if c.Unit == "%" {
		return formatPct(v)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if v != math.Trunc(v) {
		s = strconv.FormatFloat(v, 'f', 1, 64)
	}
	if c.Unit != "" {
		s += " " + c.Unit
	}
	return s
}

// geometry of the drawing, in SVG units; the SVG scales to its box.
const (
	chartW, chartH         = 720.0, 300.0
	padL, padR, padT, padB = 56.0, 12.0, 16.0, 64.0
	maxLabelRunes          = 14
	seriesClasses          = 4
)

// top is the axis maximum: 100 for rates, else a round number above the largest value.
func (c Chart) top() float64 {
	if c.Unit == "%" {
		return 100
	}
	m := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) && v > m {
				m = v
			}
		}
	}
	if m <= 0 {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(m)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		if f*mag >= m {
			return f * mag
		}
	}
	return 10 * mag
}

// SVG draws the chart.
func (c Chart) SVG() template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	top := c.top()
	plotW, plotH := chartW-padL-padR, chartH-padT-padB
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-label="%s" preserveAspectRatio="xMidYMid meet">`,
		chartW, chartH, esc(c.Title))
	// Grid lines and the value axis, in fifths.
	for i := 0; i <= 5; i++ {
		v := top * float64(i) / 5
		y := padT + plotH - plotH*float64(i)/5
		fmt.Fprintf(&b, `<line class="grid" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, padL, y, chartW-padR, y)
		fmt.Fprintf(&b, `<text class="axis" x="%g" y="%.1f" text-anchor="end">%s</text>`, padL-6, y+4, esc(c.axisValue(v)))
	}
	n := len(c.Labels)
	if n > 0 && len(c.Series) > 0 {
		groupW := plotW / float64(n)
		// Bars are at most 48 units wide, so that a chart of one day does not draw a wall.
		barW := math.Min(groupW*0.8/float64(len(c.Series)), 48)
		for i, label := range c.Labels {
			gx := padL + groupW*float64(i) + (groupW-barW*float64(len(c.Series)))/2
			for j, s := range c.Series {
				if i >= len(s.Values) || math.IsNaN(s.Values[i]) {
					continue
				}
				v := math.Max(0, s.Values[i])
				h := plotH * math.Min(v, top) / top
				x := gx + barW*float64(j)
				fmt.Fprintf(&b, `<rect class="bar s%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f" data-label="%s" data-series="%s" data-value="%s"><title>%s, %s: %s</title></rect>`,
					j%seriesClasses, x, padT+plotH-h, math.Max(barW-1, 1), h, esc(label), esc(s.Name),
					strconv.FormatFloat(s.Values[i], 'f', 2, 64), esc(label), esc(s.Name), esc(c.FormatValue(s.Values[i])))
			}
			// Labels are slanted so that a month of days fits; long ones are cut.
			lx, ly := gx+barW*float64(len(c.Series))/2, padT+plotH+14
			fmt.Fprintf(&b, `<text class="axis label" x="%.1f" y="%.1f" text-anchor="end" transform="rotate(-40 %.1f %.1f)">%s</text>`,
				lx, ly, lx, ly, esc(shorten(label, maxLabelRunes)))
		}
	} else {
		fmt.Fprintf(&b, `<text class="empty" x="%g" y="%g" text-anchor="middle">No data for this period</text>`, chartW/2, chartH/2)
	}
	fmt.Fprintf(&b, `<line class="axisline" x1="%g" y1="%g" x2="%g" y2="%g"/>`, padL, padT+plotH, chartW-padR, padT+plotH)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func (c Chart) axisValue(v float64) string {
	if c.Unit == "%" {
		return strconv.FormatFloat(v, 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Legend lists the series with their colour classes, for the template.
func (c Chart) Legend() []LegendItem {
	out := make([]LegendItem, len(c.Series))
	for i, s := range c.Series {
		out[i] = LegendItem{Name: s.Name, Class: fmt.Sprintf("s%d", i%seriesClasses)}
	}
	return out
}

// LegendItem is one entry of a chart's legend.
type LegendItem struct{ Name, Class string }

// Rows gives the chart's numbers as table rows: the label, then one formatted value per series.
func (c Chart) Rows() [][]string {
	rows := make([][]string, len(c.Labels))
	for i, l := range c.Labels {
		row := []string{l}
		for _, s := range c.Series {
			v := NoData
			if i < len(s.Values) {
				v = s.Values[i]
			}
			row = append(row, c.FormatValue(v))
		}
		rows[i] = row
	}
	return rows
}
