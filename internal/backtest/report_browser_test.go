package backtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/backtest"
	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// seenOnPage is what a reader of the report sees: the tiles' text, each bar's drawn width and
// number, the day points, and whether the page fits the screen's width.
type seenOnPage struct {
	Tiles    map[string]string  `json:"tiles"`
	Bars     map[string]float64 `json:"bars"`
	Values   map[string]string  `json:"values"`
	MinFont  float64            `json:"minFont"`
	Days     int                `json:"days"`
	Overflow bool               `json:"overflow"`
	Tables   []string           `json:"tables"`
}

const readPage = `(() => {
	const out = {tiles: {}, bars: {}, values: {}, minFont: 1e9, days: 0, tables: []};
	for (const t of document.querySelectorAll('.tile')) out.tiles[t.id] = t.querySelector('.value').textContent.trim();
	for (const s of document.querySelectorAll('section[id^="chart-"]')) {
		const chart = s.id.slice(6);
		for (const r of s.querySelectorAll('rect[data-bar]')) out.bars[chart + ':' + r.dataset.bar] = r.getBoundingClientRect().width;
		for (const v of s.querySelectorAll('text[data-value]')) {
			out.values[chart + ':' + v.dataset.value] = v.textContent.trim();
			out.minFont = Math.min(out.minFont, v.getBoundingClientRect().height);
		}
	}
	out.days = document.querySelectorAll('circle[data-day$="/new"]').length;
	out.overflow = document.documentElement.scrollWidth > window.innerWidth + 1;
	for (const tr of document.querySelectorAll('section[id^="table-"] tbody tr')) out.tables.push(tr.innerText.replace(/\s+/g, ' ').trim());
	return JSON.stringify(out);
})()`

func TestTheHTMLReportShowsTheChartsAtPhoneAndDesktopWidths(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	s := openStore(t, storetest.OpenSQLite)
	record(t, s, start)
	reports, _, _ := backtest.ParseFraudCSV(strings.NewReader(fraudFile(start)))
	if _, err := s.ImportFraudReports(context.Background(), reports); err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := backtest.WriteHTML(&page, runReport(t, s, start, "")); err != nil {
		t.Fatal(err)
	}
	// Self-contained: nothing to fetch, no script.
	if m := regexp.MustCompile(`(?i)<script|<link|\bsrc=|@import|url\(`).FindString(page.String()); m != "" {
		t.Fatalf("the report loads something (%s)", m)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page.Bytes())
	}))
	defer srv.Close()

	for _, size := range []struct {
		name string
		w, h int
	}{{"phone", 390, 844}, {"tablet", 820, 1180}, {"desktop", 1280, 900}} {
		t.Run(size.name, func(t *testing.T) {
			ctx := browsertest.Start(t, browsertest.Options{Width: max(size.w, 800), Height: size.h})
			// A window cannot be narrower than Chromium allows; the phone's width is emulated.
			browsertest.Do(t, ctx, "sizing the viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h)))
			browsertest.Navigate(t, ctx, srv.URL)
			raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](readPage))
			if err != nil {
				t.Fatal(err)
			}
			var got seenOnPage
			if err := json.Unmarshal([]byte(raw), &got); err != nil {
				t.Fatal(err)
			}
			if got.Tiles["tile-frictionless"] != "87.5% → 50.0%" || got.Tiles["tile-caught"] != "1 → 3 of 3" ||
				got.Tiles["tile-friction"] != "1" || got.Tiles["tile-changed"] != "3 of 8" {
				t.Errorf("tiles %v", got.Tiles)
			}
			// bank-a: 5 of 6 frictionless live, 3 of 6 new; bank-m: 2 of 2, then 1 of 2.
			b := got.Bars
			if !(b["frictionless:bank-a/live"] > b["frictionless:bank-a/new"] && b["frictionless:bank-a/new"] > 0) ||
				!(b["frictionless:bank-m/live"] > b["frictionless:bank-m/new"]) {
				t.Errorf("frictionless bars %v", b)
			}
			if got.Values["frictionless:bank-a/live"] != "83.3%" || got.Values["frictionless:bank-a/new"] != "50.0%" {
				t.Errorf("frictionless numbers %v", got.Values)
			}
			// BIN 510000: its one fraud got through live and would be challenged.
			if b["caught:510000/live"] != 0 || b["caught:510000/new"] <= 0 || got.Values["caught:510000/new"] != "1 of 1" ||
				got.Values["caught:400000/live"] != "1 of 2" || got.Values["caught:400000/new"] != "2 of 2" {
				t.Errorf("fraud caught bars %v, numbers %v", b, got.Values)
			}
			if got.Days != 3 {
				t.Errorf("%d days drawn, want 3", got.Days)
			}
			if got.Overflow {
				t.Errorf("the page is wider than a %d px screen", size.w)
			}
			if got.MinFont < 11 {
				t.Errorf("chart numbers are %.1f px high: too small to read", got.MinFont)
			}
			if len(got.Tables) != 6 || !strings.HasPrefix(got.Tables[0], "bank-a 6 83.3% → 50.0% 1 → 3") ||
				!strings.HasPrefix(got.Tables[4], "510000 2 100.0% → 50.0%") || !strings.HasPrefix(got.Tables[5], "total 8 87.5% → 50.0%") {
				t.Errorf("tables %q", got.Tables)
			}
			if dir := os.Getenv("OPEN3DS_SCREENSHOTS"); dir != "" {
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(dir, "backtest-"+size.name+".png"), png, 0o644)
			}
		})
	}
}
