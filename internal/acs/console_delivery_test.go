package acs_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/console"
)

// deliveryRow returns the delivery page's row of a provider and channel, "" when there is none.
func deliveryRow(body, provider, channel string) string {
	i := strings.Index(body, fmt.Sprintf(`<tr data-provider="%s" data-channel="%s">`, provider, channel))
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], "</tr>")
	return body[i : i+j]
}

func TestACSConsoleDeliveryPageCountsEachProvider(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			r := newConRig(t, be.open(t))
			today, _ := seedDeliveries(t, r)
			ro := r.signIn("vera", console.ReadOnly)

			body := ro.Page("/console/delivery")
			for _, c := range []struct {
				provider, channel string
				want              []string
			}{
				{"smtp", "email", []string{`class="sent">21<`, `class="failed">0<`, `class="rate">0.0%<`, `class="p50 nowrap">1.1 s<`,
					`class="p95 nowrap">2.0 s<`, `class="last">—<`}},
				{"smpp", "sms", []string{`class="sent">3<`, `class="failed">2 <small>(1 timed out)</small>`, `class="rate">40.0%<`,
					`class="p50 nowrap">400 ms<`, `class="p95 nowrap">600 ms<`,
					today.Add(time.Hour + 30*time.Second).Format("2006-01-02 15:04:05 UTC"), "<code>timeout</code>"}},
				{"webhook", "sms", []string{`class="sent">0<`, `(1 fell back to e-mail)`, `class="rate">100.0%<`, `class="p50 nowrap">—<`,
					"<code>unreachable</code>"}},
				{"", "sms", []string{"none reached", "<code>unsupported_channel</code>"}},
			} {
				row := deliveryRow(body, c.provider, c.channel)
				for _, w := range c.want {
					if !strings.Contains(row, w) {
						t.Errorf("the row of %q %s lacks %q:\n%s", c.provider, c.channel, w, row)
					}
				}
			}
			// 24 sent, 4 failed tries: the week's failure rate is 4 of 28.
			if !strings.Contains(body, `id="failure-rate">14.3%`) {
				t.Errorf("the week's failure rate is not shown:\n%s", body)
			}
			if !strings.Contains(body, `<a href="/console/delivery"`) {
				t.Errorf("the Delivery page is not in the menu:\n%s", body)
			}

			// A longer window takes in the e-mail of ten days ago; bank-m's filter keeps its own.
			body = ro.Page("/console/delivery?days=30")
			if row := deliveryRow(body, "smtp", "email"); !strings.Contains(row, `class="sent">22<`) {
				t.Errorf("30 days of smtp show:\n%s", row)
			}
			body = ro.Page("/console/delivery?issuer=bank-m")
			if row := deliveryRow(body, "smtp", "email"); !strings.Contains(row, `class="sent">1<`) || !strings.Contains(row, `class="p95 nowrap">3.0 s<`) {
				t.Errorf("bank-m's smtp shows:\n%s", row)
			}
			if deliveryRow(body, "smpp", "sms") != "" || deliveryRow(body, "webhook", "sms") == "" {
				t.Errorf("bank-m's page shows another issuer's providers:\n%s", body)
			}

			for q, want := range map[string]string{
				"days=0":          "Days: must be a whole number of days from 1 to 366.",
				"days=week":       "Days: must be a whole number of days from 1 to 366.",
				"days=400":        "Days: must be a whole number of days from 1 to 366.",
				"issuer=bank-zzz": `Issuer: there is no issuer &#34;bank-zzz&#34;.`,
			} {
				st, _, body := ro.Get("/console/delivery?" + q)
				if st != http.StatusOK || !strings.Contains(body, want) || strings.Contains(body, `id="providers"`) {
					t.Errorf("%s answered %d:\n%s", q, st, body)
				}
			}
		})
	}
}

func TestACSConsoleAnalyticsChartsCodeDelivery(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			r := newConRig(t, be.open(t))
			today, yesterday := seedDeliveries(t, r)
			op := r.signIn("olga", console.Operator)
			day := func(t time.Time) string { return t.Format(time.DateOnly) }
			bar := func(body, chart, label, series, value string) bool {
				i := strings.Index(body, `id="`+chart+`"`)
				if i < 0 {
					return false
				}
				j := strings.Index(body[i:], "</figure>")
				return strings.Contains(body[i:i+j], fmt.Sprintf(`data-label="%s" data-series="%s" data-value="%s"`, label, series, value))
			}
			body := op.Page("/console/analytics")
			for _, c := range []struct{ chart, label, series, value string }{
				{"delivery-latency", day(today), "p95", "1.90"},
				{"delivery-latency", day(yesterday), "p95", "3.00"},
				{"delivery-latency", day(r.today.AddDate(0, 0, -10)), "p95", "9.00"},
				{"delivery-failures", day(today), "smpp", "1.00"},
				{"delivery-failures", day(today), "none reached", "1.00"},
				{"delivery-failures", day(today), "webhook", "0.00"},
				{"delivery-failures", day(yesterday), "smpp", "1.00"},
				{"delivery-failures", day(yesterday), "webhook", "1.00"},
			} {
				if !bar(body, c.chart, c.label, c.series, c.value) {
					t.Errorf("%s has no bar %s %s = %s:\n%s", c.chart, c.label, c.series, c.value, body)
				}
			}
			if bar(body, "delivery-latency", day(r.today.AddDate(0, 0, -2)), "p95", "0.00") {
				t.Error("a day without deliveries draws a latency bar")
			}
			if !strings.Contains(body, "25 sent, 4 failed tries") {
				t.Errorf("the delivery totals are wrong:\n%s", body)
			}
			// The issuer filter reaches the delivery charts: bank-m's only failure is its webhook's.
			body = op.Page("/console/analytics?issuer=bank-m")
			if bar(body, "delivery-failures", day(today), "smpp", "1.00") || !bar(body, "delivery-failures", day(yesterday), "webhook", "1.00") ||
				!bar(body, "delivery-latency", day(yesterday), "p95", "3.00") {
				t.Errorf("bank-m's delivery charts show:\n%s", body)
			}
		})
	}
}
