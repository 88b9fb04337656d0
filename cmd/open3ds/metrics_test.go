package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// roleNames are the headings of docs/metrics.md for each role's own metrics.
var roleNames = map[string]string{"ds": "DS", "acs": "ACS", "3dss": "3DS Server"}

// registered lists the metrics each role of a running demo has registered, with their labels, read
// from the roles' own registries: every metric, even one no request has touched yet.
func registered(t *testing.T) map[string]map[string][]string {
	t.Helper()
	d := startTestDemo(t, filepath.Join(t.TempDir(), "open3ds-data"), 0)
	if len(d.net.runtimes) != len(roleNames) {
		t.Fatalf("the demo has runtimes for %d roles, want %d", len(d.net.runtimes), len(roleNames))
	}
	out := map[string]map[string][]string{}
	for role, rt := range d.net.runtimes {
		out[role] = describe(rt.reg)
	}
	return out
}

var (
	descName   = regexp.MustCompile(`fqName: "([^"]+)"`)
	descLabels = regexp.MustCompile(`variableLabels: \{([^}]*)\}`)
)

// describe reads a registry's descriptors: metric name to variable labels. A Desc shows its name
// and labels only in its String form, which is stable across client versions.
func describe(reg *prometheus.Registry) map[string][]string {
	ch := make(chan *prometheus.Desc)
	go func() { reg.Describe(ch); close(ch) }()
	out := map[string][]string{}
	for d := range ch {
		s := d.String()
		name := descName.FindStringSubmatch(s)
		labels := descLabels.FindStringSubmatch(s)
		if name == nil || labels == nil {
			continue
		}
		var ls []string
		for _, l := range strings.Split(labels[1], ",") {
			// A label with a constraint shows as c(name).
			l = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(l), "c("), ")")
			if l != "" {
				ls = append(ls, l)
			}
		}
		out[name[1]] = ls
	}
	return out
}

var (
	docRow     = regexp.MustCompile("(?m)^\\| `(open3ds_[a-z0-9_]+)` \\| ([a-z]+) \\|([^|]*)\\|")
	docHeading = regexp.MustCompile(`(?m)^## (.+)$`)
	codeWord   = regexp.MustCompile("`([a-z_]+)`")
)

// documented reads docs/metrics.md: for each metric in a table, its section heading, its type
// and its labels.
type docMetric struct {
	section, kind string
	labels        []string
}

func documented(t *testing.T) map[string]docMetric {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(raw)
	out := map[string]docMetric{}
	heads := docHeading.FindAllStringSubmatchIndex(md, -1)
	for _, m := range docRow.FindAllStringSubmatchIndex(md, -1) {
		section := ""
		for _, h := range heads {
			if h[0] < m[0] {
				section = md[h[2]:h[3]]
			}
		}
		name := md[m[2]:m[3]]
		var labels []string
		for _, l := range codeWord.FindAllStringSubmatch(md[m[6]:m[7]], -1) {
			labels = append(labels, l[1])
		}
		if _, dup := out[name]; dup {
			t.Errorf("docs/metrics.md lists %s twice", name)
		}
		out[name] = docMetric{section: section, kind: md[m[4]:m[5]], labels: labels}
	}
	return out
}

// Every metric a role registers has its row in docs/metrics.md, under the role's heading (or under
// "Every role" when all roles register it), with each of its labels; and every row is a metric some
// role registers, so that the page never describes a metric that is gone.
func TestEveryRegisteredMetricIsDocumented(t *testing.T) {
	roles := registered(t)
	docs := documented(t)
	everywhere := map[string]bool{}
	for name := range roles["ds"] {
		if _, a := roles["acs"][name]; a {
			if _, s := roles["3dss"][name]; s {
				everywhere[name] = true
			}
		}
	}
	seen := map[string]bool{}
	for role, metrics := range roles {
		for name, labels := range metrics {
			seen[name] = true
			doc, ok := docs[name]
			if !ok {
				t.Errorf("%s registers %s, which docs/metrics.md does not list", role, name)
				continue
			}
			want := roleNames[role]
			if everywhere[name] {
				want = "Every role"
			}
			if doc.section != want {
				t.Errorf("docs/metrics.md lists %s under %q, want %q", name, doc.section, want)
			}
			sort.Strings(labels)
			got := slices.Clone(doc.labels)
			sort.Strings(got)
			if !slices.Equal(got, labels) {
				t.Errorf("docs/metrics.md gives %s the labels %v; it has %v", name, got, labels)
			}
			if !slices.Contains([]string{"counter", "gauge", "histogram", "summary"}, doc.kind) {
				t.Errorf("docs/metrics.md gives %s the type %q", name, doc.kind)
			}
		}
	}
	for name := range docs {
		if !seen[name] {
			t.Errorf("docs/metrics.md lists %s, which no role registers", name)
		}
	}
	if len(seen) == 0 {
		t.Fatal("no role registered any metric, so this test shows nothing")
	}
}

var (
	promMetric   = regexp.MustCompile(`\bopen3ds_[a-z0-9_]+`)
	promSelector = regexp.MustCompile(`\b(open3ds_[a-z0-9_]+)\{([^}]*)\}`)
	promMatcher  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)`)
	promBy       = regexp.MustCompile(`\bby\s*\(([^)]*)\)`)
)

// scrapeLabels are the labels Prometheus adds itself, and le, a histogram bucket's bound.
var scrapeLabels = []string{"job", "instance", "le"}

// The Grafana dashboard is valid JSON whose every query names metrics a role registers, filters and
// groups them only by labels they have, and draws something: no panel queries a metric that is gone.
func TestTheDashboardIsValidAndNamesOnlyRegisteredMetrics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "open3ds-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string          `json:"title"`
		UID    string          `json:"uid"`
		Panels []dashPanel     `json:"panels"`
		Templ  json.RawMessage `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("the dashboard is not valid JSON: %v", err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("the dashboard has no title, uid or panels")
	}
	known := map[string][]string{}
	for _, metrics := range registered(t) {
		for name, labels := range metrics {
			known[name] = labels
		}
	}
	// labelsOf finds a metric's labels, taking a histogram's _bucket, _sum and _count series as the
	// histogram's.
	labelsOf := func(name string) ([]string, bool) {
		if ls, ok := known[name]; ok {
			return ls, true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok {
				ls, ok := known[base]
				return ls, ok
			}
		}
		return nil, false
	}
	var exprs []string
	for _, p := range dash.Panels {
		exprs = append(exprs, p.exprs(t)...)
	}
	exprs = append(exprs, promMetric.FindAllString(string(dash.Templ), -1)...)
	if len(exprs) < len(dash.Panels)/2 {
		t.Fatalf("only %d queries in %d panels", len(exprs), len(dash.Panels))
	}
	for _, expr := range exprs {
		names := promMetric.FindAllString(expr, -1)
		if len(names) == 0 {
			t.Errorf("the query %q names no open3ds metric", expr)
		}
		var all []string
		for _, name := range names {
			ls, ok := labelsOf(name)
			if !ok {
				t.Errorf("the query %q names %s, which no role registers", expr, name)
			}
			all = append(all, ls...)
		}
		all = append(all, scrapeLabels...)
		for _, sel := range promSelector.FindAllStringSubmatch(expr, -1) {
			ls, _ := labelsOf(sel[1])
			for _, m := range promMatcher.FindAllStringSubmatch(sel[2], -1) {
				if !slices.Contains(ls, m[1]) && !slices.Contains(scrapeLabels, m[1]) {
					t.Errorf("the query %q filters %s by %q, a label it does not have", expr, sel[1], m[1])
				}
			}
		}
		for _, by := range promBy.FindAllStringSubmatch(expr, -1) {
			for _, l := range strings.Split(by[1], ",") {
				if l = strings.TrimSpace(l); l != "" && !slices.Contains(all, l) {
					t.Errorf("the query %q groups by %q, a label none of its metrics has", expr, l)
				}
			}
		}
	}
}

// dashPanel is what the test reads of a panel: its queries, and the panels of a row.
type dashPanel struct {
	Type    string      `json:"type"`
	Title   string      `json:"title"`
	Panels  []dashPanel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

func (p dashPanel) exprs(t *testing.T) []string {
	var out []string
	if p.Type != "row" && len(p.Targets) == 0 {
		t.Errorf("panel %q has no query", p.Title)
	}
	for _, tg := range p.Targets {
		out = append(out, tg.Expr)
	}
	for _, c := range p.Panels {
		out = append(out, c.exprs(t)...)
	}
	return out
}

// The 3DS Server's first PReq, sent as the demo starts, loads the card ranges: its exchange counts
// as ok, not as an error, so that an alert on PReq errors stays quiet while the ranges load.
func TestThe3DSServerCountsTheCardRangeLoadAsOK(t *testing.T) {
	d := startTestDemo(t, filepath.Join(t.TempDir(), "open3ds-data"), 0)
	families, err := d.net.runtimes["3dss"].reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "open3ds_3dss_messages_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			counts[labels["type"]+" "+labels["outcome"]] += m.GetCounter().GetValue()
		}
	}
	if counts["PReq ok"] < 1 || counts["PReq error"] != 0 {
		t.Errorf("the 3DS Server counted its exchanges %v, want the PReq as ok", counts)
	}
}
