package backtest

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/risk"
)

// The ACS console's risk pages: the rules each issuer runs now, live beside shadow; how often the
// shadow policy would have decided otherwise; and a backtest of a candidate rule set against the
// stored AReqs and fraud reports. They live here rather than in internal/acs because the backtest
// does, and it imports acs.

//go:embed console_templates/*.html
var consoleFiles embed.FS

var (
	riskPage     = console.ParsePage(consoleFiles, "console_templates/risk.html")
	backtestPage = console.ParsePage(consoleFiles, "console_templates/backtest.html")
)

const (
	// compareDays is the shadow comparison's default window; compareMax its longest. The comparison
	// is one grouped query, so a year is affordable.
	compareDays = 7
	compareMax  = 366 * 24 * time.Hour
	// backtestMax bounds a backtest's window: a backtest opens and replays every stored AReq in
	// it, which a page request must not do for ever.
	backtestMax = 90 * 24 * time.Hour
)

// backtestTimeout bounds a backtest's running time; a variable so that a test can shorten it.
var backtestTimeout = 2 * time.Minute

type consolePages struct {
	st    *acs.SQLStore
	rules *risk.Set
	now   func() time.Time
	// busy holds a token while a backtest runs: one at a time per ACS instance, so that operators
	// pressing the button repeatedly cannot take every core of the admin host.
	busy chan struct{}
}

// AddConsole adds the "Risk rules" pages to the ACS console: rules is the set the ACS decides
// with (the one given to acs.Risk), read again on every request so that a reload shows at once.
// now is the clock; nil is time.Now.
//
// Looking at the rules and the shadow comparison needs read-only access. Running a backtest needs
// operator access although it changes nothing: it opens every sealed risk input of its window
// (card numbers and cardholder data, in memory only) and keeps a core busy for up to
// backtestTimeout, neither of which an auditor's read-only account should be able to cause. Each
// run is recorded in the audit log, as an access to sealed card data in bulk.
func AddConsole(c *console.Console, st *acs.SQLStore, rules *risk.Set, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	p := &consolePages{st: st, rules: rules, now: now, busy: make(chan struct{}, 1)}
	c.Page(console.NavItem{Path: "/risk", Label: "Risk rules", Group: "Issuer"}, console.ReadOnly, p.riskPage)
	c.Page(console.NavItem{Path: "/risk/backtest"}, console.ReadOnly, p.backtestForm)
	c.Action("/risk/backtest", console.Operator, p.backtest)
}

// ---- the rules ----

type ruleView struct {
	Name, Condition string
	Points          int
	Exemption       bool
}

type policyView struct {
	Kind, Name                   string // Kind is "live" or "shadow"
	FrictionlessBelow, DenyAbove int
	Rules                        []ruleView
}

func viewPolicy(kind string, p *risk.Policy) policyView {
	v := policyView{Kind: kind, Name: p.Name()}
	v.FrictionlessBelow, v.DenyAbove = p.Thresholds()
	for _, r := range p.Rules() {
		var cond []string
		if r.Param != "" {
			cond = append(cond, fmt.Sprintf("%s %d", r.Param, r.Value))
		}
		if r.ListName != "" {
			cond = append(cond, r.ListName+" "+strings.Join(r.List, ", "))
		}
		v.Rules = append(v.Rules, ruleView{Name: r.Name, Condition: strings.Join(cond, "; "), Points: r.Points, Exemption: r.Exemption})
	}
	return v
}

type issuerRules struct {
	acs.Issuer
	Policy string // the name the policy file knows the issuer by
	Live   policyView
	Shadow *policyView
	// Changed are the rules the shadow policy sets otherwise than the live one (on in one only, or
	// with other points or parameters), Same the rest: the page shows what the shadow changes first.
	Changed, Same []ruleRow
}

// RuleCount is how many rules are on in either policy.
func (r issuerRules) RuleCount() int { return len(r.Changed) + len(r.Same) }

// ruleRow is one rule beside itself in the two policies; a side is nil where the rule is off.
type ruleRow struct {
	Name         string
	Live, Shadow *ruleView
}

// compareRules lines up the rules of live and shadow (nil: no shadow policy, every rule the same).
func compareRules(live policyView, shadow *policyView) (changed, same []ruleRow) {
	rows := map[string]*ruleRow{}
	var names []string
	add := func(r ruleView, live bool) {
		row, ok := rows[r.Name]
		if !ok {
			row = &ruleRow{Name: r.Name}
			rows[r.Name] = row
			names = append(names, r.Name)
		}
		if live {
			row.Live = &r
		} else {
			row.Shadow = &r
		}
	}
	for _, r := range live.Rules {
		add(r, true)
	}
	if shadow == nil {
		for _, n := range names {
			same = append(same, *rows[n])
		}
		return nil, same
	}
	for _, r := range shadow.Rules {
		add(r, false)
	}
	for _, n := range names {
		row := *rows[n]
		if row.Live == nil || row.Shadow == nil || *row.Live != *row.Shadow {
			changed = append(changed, row)
		} else {
			same = append(same, row)
		}
	}
	return changed, same
}

func (p *consolePages) issuerRules(issuers []acs.Issuer) []issuerRules {
	out := make([]issuerRules, 0, len(issuers))
	for _, is := range issuers {
		name := is.RiskPolicy
		if name == "" {
			name = is.ID
		}
		live, shadow := p.rules.Policies(name)
		ir := issuerRules{Issuer: is, Policy: name, Live: viewPolicy("live", live)}
		if shadow != nil {
			sv := viewPolicy("shadow", shadow)
			ir.Shadow = &sv
		}
		ir.Changed, ir.Same = compareRules(ir.Live, ir.Shadow)
		out = append(out, ir)
	}
	return out
}

// ---- the shadow comparison ----

// outcomes are the risk engine's decisions in the order the page lists them.
var outcomes = []string{acs.Frictionless, acs.Challenge, acs.Deny}

func outcomeIndex(o string) int {
	for i, x := range outcomes {
		if x == o {
			return i
		}
	}
	return -1
}

// matrix is one issuer's live × shadow decisions over the window.
type matrix struct {
	Issuer, Name string
	// Cells[i][j] counts AReqs decided outcomes[i] live and outcomes[j] by the shadow policy.
	Cells [3][3]int64
	// Compared had a shadow decision; NoShadow were scored when the issuer had no shadow policy.
	Compared, NoShadow, Differs          int64
	LiveFrictionless, ShadowFrictionless int64
}

func (m *matrix) add(live, shadow string, n int64) {
	i, j := outcomeIndex(live), outcomeIndex(shadow)
	if i < 0 {
		return
	}
	if j < 0 {
		m.NoShadow += n
		return
	}
	m.Cells[i][j] += n
	m.Compared += n
	if i != j {
		m.Differs += n
	}
	if i == 0 {
		m.LiveFrictionless += n
	}
	if j == 0 {
		m.ShadowFrictionless += n
	}
}

// MatrixRow is one row of the matrix as the template reads it.
type MatrixRow struct {
	Live  string
	Cells []int64
	Total int64
}

// Rows lists the matrix by live outcome.
func (m matrix) Rows() []MatrixRow {
	rows := make([]MatrixRow, len(outcomes))
	for i, o := range outcomes {
		rows[i] = MatrixRow{Live: o, Cells: m.Cells[i][:]}
		for _, n := range m.Cells[i] {
			rows[i].Total += n
		}
	}
	return rows
}

// Columns are the totals by shadow outcome.
func (m matrix) Columns() []int64 {
	cols := make([]int64, len(outcomes))
	for i := range outcomes {
		for j := range outcomes {
			cols[j] += m.Cells[i][j]
		}
	}
	return cols
}

func (m matrix) DiffRate() float64 { return console.Rate(m.Differs, m.Compared) }
func (m matrix) LiveRate() float64 { return console.Rate(m.LiveFrictionless, m.Compared) }
func (m matrix) ShadowRate() float64 {
	return console.Rate(m.ShadowFrictionless, m.Compared)
}

type comparison struct {
	Since, Until, Issuer string // the form's fields as typed
	From, To             time.Time
	Problem              string
	Total                matrix
	Issuers              []matrix
	Chart                console.Chart
}

type riskData struct {
	Version  string
	Issuers  []acs.Issuer
	Rules    []issuerRules
	Compare  comparison
	CanRun   bool
	Outcomes []string
}

func (p *consolePages) riskPage(r *console.Request) (console.View, error) {
	issuers, err := p.st.Issuers(r.Context())
	if err != nil {
		return console.View{}, err
	}
	q := r.URL.Query()
	d := riskData{Version: p.rules.Version(), Issuers: issuers, Rules: p.issuerRules(issuers), Outcomes: outcomes,
		CanRun: r.Session.Access.Allows(console.Operator)}
	c := &d.Compare
	c.Since, c.Until, c.Issuer = strings.TrimSpace(q.Get("since")), strings.TrimSpace(q.Get("until")), q.Get("issuer")
	if c.Since == "" {
		c.Since = strconv.Itoa(compareDays) + "d"
	}
	now := p.now()
	c.From, c.To, c.Problem = window(c.Since, c.Until, now, compareMax)
	if c.Problem == "" {
		c.Problem = issuerProblem(issuers, c.Issuer)
	}
	if c.Problem != "" {
		return console.View{Title: "Risk rules", Template: riskPage, Data: d}, nil
	}
	counts, err := p.st.DecisionCounts(r.Context(), c.From, c.To, c.Issuer)
	if err != nil {
		return console.View{}, err
	}
	names := map[string]string{}
	for _, is := range issuers {
		names[is.ID] = is.Name
	}
	byIssuer := map[string]*matrix{}
	byDay := map[string]*matrix{}
	var order []string
	for _, n := range counts {
		m := byIssuer[n.Issuer]
		if m == nil {
			m = &matrix{Issuer: n.Issuer, Name: names[n.Issuer]}
			byIssuer[n.Issuer] = m
			order = append(order, n.Issuer)
		}
		m.add(n.Live, n.Shadow, n.N)
		c.Total.add(n.Live, n.Shadow, n.N)
		dm := byDay[n.Day]
		if dm == nil {
			dm = &matrix{}
			byDay[n.Day] = dm
		}
		dm.add(n.Live, n.Shadow, n.N)
	}
	for _, id := range order {
		c.Issuers = append(c.Issuers, *byIssuer[id])
	}
	var labels []string
	var live, shadow, differs []float64
	for day := c.From.UTC().Truncate(24 * time.Hour); day.Before(c.To); day = day.AddDate(0, 0, 1) {
		k := day.Format(time.DateOnly)
		m := byDay[k]
		if m == nil {
			m = &matrix{}
		}
		labels = append(labels, k)
		live, shadow, differs = append(live, m.LiveRate()), append(shadow, m.ShadowRate()), append(differs, m.DiffRate())
	}
	c.Chart = console.Chart{ID: "shadow-by-day", Title: "By day (UTC): frictionless rate live and shadow, and the share where the shadow policy decides otherwise",
		Labels: labels, Unit: "%", Series: []console.Series{{Name: "frictionless live", Values: live},
			{Name: "frictionless shadow", Values: shadow}, {Name: "shadow differs", Values: differs}}}
	return console.View{Title: "Risk rules", Template: riskPage, Data: d}, nil
}

// window reads a window's two ends as typed (a span back from now, a date or an RFC 3339 time;
// until empty is now) and checks it spans at most longest. problem names the field at fault.
func window(since, until string, now time.Time, longest time.Duration) (from, to time.Time, problem string) {
	from, err := ParseWhen(since, now)
	if err != nil {
		return from, to, "Since: " + err.Error() + "."
	}
	to = now
	if until != "" {
		if to, err = ParseWhen(until, now); err != nil {
			return from, to, "Until: " + err.Error() + "."
		}
	}
	switch {
	case !to.After(from):
		return from, to, fmt.Sprintf("Until: must be after Since (the window runs from %s to %s).",
			from.UTC().Format(time.DateTime), to.UTC().Format(time.DateTime))
	case to.Sub(from) > longest:
		return from, to, fmt.Sprintf("Since: the window may span %d days at most.", int(longest/(24*time.Hour)))
	}
	return from.UTC(), to.UTC(), ""
}

func issuerProblem(issuers []acs.Issuer, id string) string {
	if id == "" {
		return ""
	}
	for _, is := range issuers {
		if is.ID == id {
			return ""
		}
	}
	return fmt.Sprintf("Issuer: this ACS has no issuer %q.", id)
}

// ---- the backtest ----

// Candidates of a backtest.
const (
	candidateShadow = "shadow"
	candidatePasted = "pasted"
)

type groupRow struct {
	Group
	LiveRate, NewRate string
}

func groupRows(gs []Group) []groupRow {
	out := make([]groupRow, len(gs))
	for i, g := range gs {
		out[i] = groupRow{g, pct(g.FrictionlessRate(true)), pct(g.FrictionlessRate(false))}
	}
	return out
}

// reportTable is one of the report's tables: by issuer, by BIN or by day, with the total.
type reportTable struct {
	ID, Key string
	Rows    []groupRow
	Total   *groupRow
}

type reportView struct {
	*Report
	Total         groupRow
	Tables        []reportTable
	Daily, Caught console.Chart
}

type backtestData struct {
	Since, Until, Issuer string
	Candidate, Rules     string
	Issuers              []acs.Issuer
	// Shadows names the issuers that run a shadow policy now.
	Shadows []string
	CanRun  bool
	Problem string
	MaxDays int
	Report  *reportView
}

func (p *consolePages) backtestData(r *console.Request, issuers []acs.Issuer) backtestData {
	d := backtestData{Since: "30d", Candidate: candidateShadow, Issuers: issuers, MaxDays: int(backtestMax / (24 * time.Hour)),
		CanRun: r.Session.Access.Allows(console.Operator)}
	for _, ir := range p.issuerRules(issuers) {
		if ir.Shadow != nil {
			d.Shadows = append(d.Shadows, ir.ID)
		}
	}
	return d
}

func (p *consolePages) backtestForm(r *console.Request) (console.View, error) {
	issuers, err := p.st.Issuers(r.Context())
	if err != nil {
		return console.View{}, err
	}
	d := p.backtestData(r, issuers)
	if len(d.Shadows) == 0 {
		d.Candidate = candidatePasted
	}
	if is := r.URL.Query().Get("issuer"); issuerProblem(issuers, is) == "" {
		d.Issuer = is
	}
	return console.View{Title: "Risk backtest", Template: backtestPage, Data: d}, nil
}

// backtest runs one backtest and shows its report under the form. A mistake in the form is shown
// above the form with what was typed kept, the pasted rules included, rather than through the
// console's redirect, which would lose them.
func (p *consolePages) backtest(r *console.Request) (console.Change, error) {
	issuers, err := p.st.Issuers(r.Context())
	if err != nil {
		return console.Change{}, err
	}
	d := p.backtestData(r, issuers)
	d.Since, d.Until = strings.TrimSpace(r.PostFormValue("since")), strings.TrimSpace(r.PostFormValue("until"))
	d.Issuer, d.Candidate, d.Rules = r.PostFormValue("issuer"), r.PostFormValue("candidate"), r.PostFormValue("rules")
	show := func() (console.Change, error) {
		return console.Change{Unchanged: true, Show: &console.View{Title: "Risk backtest", Template: backtestPage, Data: d}}, nil
	}
	now := p.now()
	o := Options{Issuer: d.Issuer}
	if o.Since, o.Until, d.Problem = window(d.Since, d.Until, now, backtestMax); d.Problem == "" {
		d.Problem = issuerProblem(issuers, d.Issuer)
	}
	if d.Problem != "" {
		return show()
	}
	switch d.Candidate {
	case candidateShadow:
		if d.Problem = shadowProblem(d.Shadows, d.Issuer); d.Problem != "" {
			return show()
		}
		o.Rules, o.RulesName = p.rules.ShadowsLive(), "the shadow policies ("+p.rules.Version()+")"
	case candidatePasted:
		if strings.TrimSpace(d.Rules) == "" {
			d.Problem = "Rules: paste a risk policy file to try."
			return show()
		}
		set, err := risk.ParseSet([]byte(d.Rules))
		if err != nil {
			d.Problem = "Rules: " + strings.TrimPrefix(err.Error(), "risk policy: ") + "."
			return show()
		}
		o.Rules, o.RulesName = set, "the pasted rules ("+set.Version()+")"
	default:
		d.Problem = "Candidate: choose the shadow policies or pasted rules."
		return show()
	}

	select {
	case p.busy <- struct{}{}:
		defer func() { <-p.busy }()
	default:
		d.Problem = "Another backtest is running on this ACS: try again when it has finished."
		return show()
	}
	ctx, cancel := context.WithTimeout(r.Context(), backtestTimeout)
	defer cancel()
	rep, err := Run(ctx, p.st, o, now)
	switch {
	case errors.Is(err, ErrUnknownIssuer):
		d.Problem = "Issuer: " + err.Error() + "."
		return show()
	case err != nil && ctx.Err() != nil && r.Context().Err() == nil:
		d.Problem = fmt.Sprintf("Since: the backtest did not finish within %s; choose a shorter window or one issuer.", backtestTimeout)
		return show()
	case err != nil:
		return console.Change{}, err
	}
	d.Report = viewReport(rep)
	target := d.Issuer
	if target == "" {
		target = "all issuers"
	}
	return console.Change{Action: "risk.backtest", Target: target,
		Detail: fmt.Sprintf("%s, %s to %s UTC: %d AReqs replayed, %d outcomes changed", o.RulesName,
			rep.Since.Format(time.DateTime), rep.Until.Format(time.DateTime), rep.Total.Transactions, rep.Total.Changed),
		Show: &console.View{Title: "Risk backtest", Template: backtestPage, Data: d}}, nil
}

// shadowProblem says why the shadow policies cannot be the candidate: no issuer in the backtest
// runs one.
func shadowProblem(shadows []string, issuer string) string {
	if issuer == "" {
		if len(shadows) == 0 {
			return "Candidate: no issuer runs a shadow policy now; paste the rules to try instead."
		}
		return ""
	}
	for _, s := range shadows {
		if s == issuer {
			return ""
		}
	}
	return fmt.Sprintf("Candidate: issuer %s runs no shadow policy now; paste the rules to try instead.", issuer)
}

func viewReport(r *Report) *reportView {
	v := &reportView{Report: r, Total: groupRows([]Group{{Key: "total", Counts: r.Total}})[0]}
	v.Tables = []reportTable{{"issuers", "issuer", groupRows(r.Issuers), &v.Total}, {"bins", "BIN", groupRows(r.BINs), &v.Total},
		{"days", "day", groupRows(r.Days), &v.Total}}
	var labels []string
	var live, next []float64
	for day := r.Since.Truncate(24 * time.Hour); day.Before(r.Until); day = day.AddDate(0, 0, 1) {
		labels = append(labels, day.Format(time.DateOnly))
		live, next = append(live, console.NoData), append(next, console.NoData)
	}
	for _, g := range r.Days {
		for i, l := range labels {
			if l == g.Key {
				live[i] = 100 * g.FrictionlessRate(true)
				next[i] = 100 * g.FrictionlessRate(false)
			}
		}
	}
	v.Daily = console.Chart{ID: "backtest-by-day", Title: "Frictionless rate by day (UTC), live rules and candidate",
		Labels: labels, Unit: "%", Series: []console.Series{{Name: "live", Values: live}, {Name: "candidate", Values: next}}}
	var bins []string
	var caughtLive, caughtNew []float64
	for _, g := range r.BINs {
		if g.Fraud == 0 {
			continue
		}
		bins = append(bins, g.Key)
		caughtLive = append(caughtLive, float64(g.CaughtLive))
		caughtNew = append(caughtNew, float64(g.CaughtNew))
	}
	v.Caught = console.Chart{ID: "backtest-caught", Title: "Reported frauds caught (challenged or denied) by BIN, live rules and candidate",
		Labels: bins, Series: []console.Series{{Name: "live", Values: caughtLive}, {Name: "candidate", Values: caughtNew}}}
	return v
}
