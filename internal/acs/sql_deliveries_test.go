package acs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/notify"
)

// deliveryLog records known code deliveries, as the queue's observer would.
type deliveryLog struct {
	t   testing.TB
	st  *acs.SQLStore
	seq int
}

// try is one provider's try taking took after the previous one ended.
type try struct {
	ch       notify.Channel
	provider string
	outcome  notify.Outcome
	class    string
	took     time.Duration
}

// record stores a message of transaction tx queued at queued, its tries one after the other.
func (l *deliveryLog) record(tx string, queued time.Time, tries ...try) {
	l.t.Helper()
	l.seq++
	d := notify.Delivery{ID: fmt.Sprintf("msg-%03d", l.seq), TransactionID: tx, Queued: queued}
	at := queued
	for _, tr := range tries {
		d.Attempts = append(d.Attempts, notify.Attempt{Channel: tr.ch, Provider: tr.provider, Outcome: tr.outcome,
			ErrorClass: tr.class, Started: at, Finished: at.Add(tr.took)})
		at = at.Add(tr.took)
	}
	if err := l.st.RecordDelivery(context.Background(), d); err != nil {
		l.t.Fatal(err)
	}
}

// seedDeliveries gives the rig a known week of deliveries: bank-a's (transaction a1) e-mails over
// smtp and its SMS over smpp, bank-m's (m1) SMS that fell back to e-mail, a message of an unknown
// transaction that found no sender, and an e-mail from ten days ago.
func seedDeliveries(t testing.TB, r *conRig) (today, yesterday time.Time) {
	t.Helper()
	today, yesterday = r.today.Add(8*time.Hour), r.today.AddDate(0, 0, -1).Add(8*time.Hour)
	r.tx("a1", conPAN1, "02", "Y", "", true, false, today)
	r.tx("m1", conPAN3, "01", "Y", "", true, false, yesterday)
	l := &deliveryLog{t: t, st: r.st}
	sent := func(ch notify.Channel, prov string, took time.Duration) try {
		return try{ch, prov, notify.OutcomeSent, "", took}
	}
	// 20 e-mails today, taking 100 ms, 200 ms, … 2 s: p50 1 s (rank 10), p95 1.9 s (rank 19).
	for i := 1; i <= 20; i++ {
		l.record("a1", today.Add(time.Duration(i)*time.Minute), sent(notify.Email, "smtp", time.Duration(i)*100*time.Millisecond))
	}
	// SMS: three sent yesterday (200, 400, 600 ms), one refused yesterday, one timed out today.
	for i := 1; i <= 3; i++ {
		l.record("a1", yesterday.Add(time.Duration(i)*time.Minute), sent(notify.SMS, "smpp", time.Duration(i)*200*time.Millisecond))
	}
	l.record("a1", yesterday.Add(time.Hour), try{notify.SMS, "smpp", notify.OutcomeFailed, notify.ClassRejected, 50 * time.Millisecond})
	l.record("a1", today.Add(time.Hour), try{notify.SMS, "smpp", notify.OutcomeTimedOut, notify.ClassTimeout, 30 * time.Second})
	// bank-m: the SMS gateway is down, the code goes by e-mail 3 s after it was queued.
	l.record("m1", yesterday.Add(2*time.Hour), try{notify.SMS, "webhook", notify.OutcomeFellBack, notify.ClassUnreachable, time.Second},
		sent(notify.Email, "smtp", 2*time.Second))
	// No sender for the channel: no provider, no issuer.
	l.record("gone", today.Add(2*time.Hour), try{notify.SMS, "", notify.OutcomeFailed, notify.ClassUnsupported, 0})
	// Ten days ago, out of the page's default week.
	l.record("a1", r.today.AddDate(0, 0, -10), sent(notify.Email, "smtp", 9*time.Second))
	return today, yesterday
}

func TestDeliveryStatsPerProviderOnEveryBackend(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			r := newConRig(t, be.open(t))
			today, yesterday := seedDeliveries(t, r)
			ctx := context.Background()
			week := acs.DeliveryFind{From: r.today.AddDate(0, 0, -6), To: r.today.AddDate(0, 0, 1)}
			got, err := r.st.DeliveryStats(ctx, week)
			if err != nil {
				t.Fatal(err)
			}
			ms := time.Millisecond
			want := []acs.ProviderStats{
				{Provider: "", Channel: "sms", Failed: 1, LastFailure: today.Add(2 * time.Hour), LastClass: "unsupported_channel"},
				{Provider: "smpp", Channel: "sms", Sent: 3, Failed: 2, TimedOut: 1, P50: 400 * ms, P95: 600 * ms,
					LastFailure: today.Add(time.Hour + 30*time.Second), LastClass: "timeout"},
				{Provider: "smtp", Channel: "email", Sent: 21, P50: 1100 * ms, P95: 2 * time.Second},
				{Provider: "webhook", Channel: "sms", Failed: 1, FellBack: 1, LastFailure: yesterday.Add(2*time.Hour + time.Second),
					LastClass: "unreachable"},
			}
			check := func(what string, got, want []acs.ProviderStats) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s: %d rows, want %d:\n%+v", what, len(got), len(want), got)
				}
				for i := range want {
					if g, w := got[i], want[i]; g.Provider != w.Provider || g.Channel != w.Channel || g.Sent != w.Sent ||
						g.Failed != w.Failed || g.TimedOut != w.TimedOut || g.FellBack != w.FellBack || g.P50 != w.P50 ||
						g.P95 != w.P95 || !g.LastFailure.Equal(w.LastFailure) || g.LastClass != w.LastClass {
						t.Errorf("%s row %d:\n got %+v\nwant %+v", what, i, g, w)
					}
				}
			}
			// The 21 e-mails sent: bank-a's 20 (100 ms … 2 s) and bank-m's fallback (3 s after queueing).
			check("the week", got, want)

			got, err = r.st.DeliveryStats(ctx, acs.DeliveryFind{From: week.From, To: week.To, Issuer: "bank-a"})
			if err != nil {
				t.Fatal(err)
			}
			want[2].Sent, want[2].P50, want[2].P95 = 20, time.Second, 1900*ms
			check("bank-a", got, want[1:3])

			got, err = r.st.DeliveryStats(ctx, acs.DeliveryFind{From: r.today.AddDate(0, 0, -30), To: week.To, Issuer: "bank-m"})
			if err != nil {
				t.Fatal(err)
			}
			check("bank-m", got, []acs.ProviderStats{
				{Provider: "smtp", Channel: "email", Sent: 1, P50: 3 * time.Second, P95: 3 * time.Second}, want[3]})

			days, err := r.st.DeliveryAnalytics(ctx, acs.AnalyticsFilter{From: r.today.AddDate(0, 0, -13), To: r.today})
			if err != nil {
				t.Fatal(err)
			}
			type dayWant struct {
				day      string
				sent     int64
				p95      time.Duration
				failures map[string]int64
			}
			wantDays := []dayWant{
				{r.today.AddDate(0, 0, -10).Format(time.DateOnly), 1, 9 * time.Second, map[string]int64{}},
				{yesterday.Format(time.DateOnly), 4, 3 * time.Second, map[string]int64{"smpp": 1, "webhook": 1}},
				{today.Format(time.DateOnly), 20, 1900 * ms, map[string]int64{"smpp": 1, "": 1}},
			}
			if len(days) != len(wantDays) {
				t.Fatalf("days = %+v", days)
			}
			for i, w := range wantDays {
				d := days[i]
				if d.Day != w.day || d.Sent != w.sent || d.P95 != w.p95 || fmt.Sprint(d.Failures) != fmt.Sprint(w.failures) {
					t.Errorf("day %d = %+v, want %+v", i, d, w)
				}
			}
			// The analytics' other filters narrow by the transaction: bank-m's m1 is an app one.
			days, err = r.st.DeliveryAnalytics(ctx, acs.AnalyticsFilter{From: r.today.AddDate(0, 0, -13), To: r.today, Channel: "01"})
			if err != nil {
				t.Fatal(err)
			}
			if len(days) != 1 || days[0].Day != yesterday.Format(time.DateOnly) || days[0].Sent != 1 || days[0].Failures["webhook"] != 1 {
				t.Errorf("the app channel's days = %+v", days)
			}
		})
	}
}
