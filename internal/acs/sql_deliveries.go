package acs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/store"
)

// The delivery records: how each provider's try at a one-time code went, written by the delivery
// queue's worker and read by the console's delivery page and analytics. A row holds no destination
// and no provider text, only the provider's name and a class of error.

// RecordDelivery stores the tries of one message the queue is done with, each with the issuer of
// its transaction (empty when the transaction cannot be found).
func (s *SQLStore) RecordDelivery(ctx context.Context, d notify.Delivery) error {
	if len(d.Attempts) == 0 {
		return nil
	}
	err := s.db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for i, a := range d.Attempts {
			latency := a.Finished.Sub(d.Queued).Milliseconds()
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO acs_deliveries (message_id, attempt, issuer_id,
				acs_trans_id, channel, provider, outcome, error_class, queued_at, finished_at, latency_ms)
				VALUES (?, ?, COALESCE((SELECT issuer_id FROM acs_transactions WHERE acs_trans_id = ?), ''), ?, ?, ?, ?, ?, ?, ?, ?)`),
				d.ID, i+1, d.TransactionID, d.TransactionID, string(a.Channel), a.Provider, string(a.Outcome), a.ErrorClass,
				store.Time(d.Queued), store.Time(a.Finished), max(latency, 0)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("acs: record delivery: %w", store.MapError(err))
	}
	return nil
}

// DeliveryRecorder is the delivery queue's observer (notify.QueueConfig.Observe): it records each
// message on the queue's worker, never on the shopper's request, within a few seconds. A record
// that fails is logged, by message id only, and leaves the delivery as it was.
func (s *SQLStore) DeliveryRecorder(log *slog.Logger) func(notify.Delivery) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(d notify.Delivery) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.RecordDelivery(ctx, d); err != nil {
			log.Warn("recording a code delivery failed", "id", d.ID, "error", err.Error())
		}
	}
}

// DeliveryFind bounds the delivery records read: those finished in [From, To), of one issuer when
// Issuer is set.
type DeliveryFind struct {
	From, To time.Time
	Issuer   string
}

func (f DeliveryFind) where() (string, []any) {
	w, args := "d.finished_at >= ? AND d.finished_at < ?", []any{store.Time(f.From), store.Time(f.To)}
	if f.Issuer != "" {
		w, args = w+" AND d.issuer_id = ?", append(args, f.Issuer)
	}
	return w, args
}

// ProviderStats are one provider's tries on one channel.
type ProviderStats struct {
	Provider string // '' when the messages failed before reaching any provider
	Channel  string
	// Sent were taken by the provider; Failed were not, TimedOut and FellBack among them (an SMS
	// that fell back to e-mail failed on its own channel).
	Sent, Failed, TimedOut, FellBack int64
	// P50 and P95 are the latencies of the sent ones, from queueing to the provider's answer; zero
	// when none was sent.
	P50, P95 time.Duration
	// LastFailure is when the latest failure happened and LastClass its class; zero without one.
	LastFailure time.Time
	LastClass   string
}

// Tries counts every try, sent or not.
func (p ProviderStats) Tries() int64 { return p.Sent + p.Failed }

// nearestRank picks, in each (provider, channel) partition ordered by latency, the row whose rank
// is ⌈n·p/100⌉: the nearest-rank percentile, in integer arithmetic both back ends share.
func nearestRank(p int) string {
	return fmt.Sprintf("MAX(CASE WHEN x.rn = (x.n * %d + 99) / 100 THEN x.latency_ms END)", p)
}

// DeliveryStats sums the tries in f per provider and channel, ordered by provider and channel.
func (s *SQLStore) DeliveryStats(ctx context.Context, f DeliveryFind) ([]ProviderStats, error) {
	where, args := f.where()
	read := s.db.Reader()
	rows, err := read.QueryContext(ctx, s.db.Rebind(`SELECT d.provider, d.channel,
		SUM(CASE WHEN d.outcome = 'sent' THEN 1 ELSE 0 END),
		SUM(CASE WHEN d.outcome <> 'sent' THEN 1 ELSE 0 END),
		SUM(CASE WHEN d.outcome = 'timed_out' THEN 1 ELSE 0 END),
		SUM(CASE WHEN d.outcome = 'fell_back' THEN 1 ELSE 0 END)
		FROM acs_deliveries d WHERE `+where+`
		GROUP BY d.provider, d.channel ORDER BY d.provider, d.channel`), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	var out []ProviderStats
	at := map[[2]string]int{}
	for rows.Next() {
		var p ProviderStats
		if err := rows.Scan(&p.Provider, &p.Channel, &p.Sent, &p.Failed, &p.TimedOut, &p.FellBack); err != nil {
			rows.Close()
			return nil, err
		}
		at[[2]string{p.Provider, p.Channel}] = len(out)
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	// The percentiles of the sent tries' latencies, counted in the database rather than read out row
	// by row, so a busy week costs one sort there and no memory here.
	rows, err = read.QueryContext(ctx, s.db.Rebind(`SELECT x.provider, x.channel, `+nearestRank(50)+`, `+nearestRank(95)+`
		FROM (SELECT d.provider, d.channel, d.latency_ms,
			ROW_NUMBER() OVER (PARTITION BY d.provider, d.channel ORDER BY d.latency_ms) AS rn,
			COUNT(*) OVER (PARTITION BY d.provider, d.channel) AS n
			FROM acs_deliveries d WHERE d.outcome = 'sent' AND `+where+`) x
		GROUP BY x.provider, x.channel`), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	for rows.Next() {
		var prov, ch string
		var p50, p95 int64
		if err := rows.Scan(&prov, &ch, &p50, &p95); err != nil {
			rows.Close()
			return nil, err
		}
		if i, ok := at[[2]string{prov, ch}]; ok {
			out[i].P50, out[i].P95 = time.Duration(p50)*time.Millisecond, time.Duration(p95)*time.Millisecond
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = read.QueryContext(ctx, s.db.Rebind(`SELECT x.provider, x.channel, x.finished_at, x.error_class
		FROM (SELECT d.provider, d.channel, d.finished_at, d.error_class,
			ROW_NUMBER() OVER (PARTITION BY d.provider, d.channel ORDER BY d.finished_at DESC, d.message_id DESC) AS rn
			FROM acs_deliveries d WHERE d.outcome <> 'sent' AND `+where+`) x
		WHERE x.rn = 1`), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var prov, ch, class string
		var last time.Time
		if err := rows.Scan(&prov, &ch, (*store.Time)(&last), &class); err != nil {
			return nil, err
		}
		if i, ok := at[[2]string{prov, ch}]; ok {
			out[i].LastFailure, out[i].LastClass = last, class
		}
	}
	return out, rows.Err()
}

// DeliveryDay is one UTC day of tries: the 95th percentile of the sent ones' latency, and the
// failures per provider.
type DeliveryDay struct {
	Day      string // YYYY-MM-DD
	Sent     int64
	P95      time.Duration
	Failures map[string]int64 // by provider
}

// deliveryFindOf narrows the analytics' delivery records: f's days (To included) and issuer,
// and when any of BIN, MessageVersion or Channel is set, the transactions that match them.
func deliveryFindOf(f AnalyticsFilter) (DeliveryFind, []string, []any) {
	d := DeliveryFind{From: f.From.UTC().Truncate(24 * time.Hour), To: f.To.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour), Issuer: f.Issuer}
	var where []string
	var args []any
	if f.BIN != "" {
		where, args = append(where, "t.masked_pan LIKE ?"), append(args, f.BIN+"%")
	}
	for _, c := range []struct{ col, v string }{{"t.message_version", f.MessageVersion}, {"t.device_channel", f.Channel}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	return d, where, args
}

// DeliveryAnalytics counts the code deliveries of each day in f's range that has any.
func (s *SQLStore) DeliveryAnalytics(ctx context.Context, f AnalyticsFilter) ([]DeliveryDay, error) {
	df, txWhere, txArgs := deliveryFindOf(f)
	where, args := df.where()
	if len(txWhere) > 0 {
		where += ` AND d.acs_trans_id IN (SELECT t.acs_trans_id FROM acs_transactions t WHERE ` + strings.Join(txWhere, " AND ") + `)`
		args = append(args, txArgs...)
	}
	day := `substr(d.finished_at, 1, 10)`
	if s.db.Dialect() == store.Postgres {
		day = `to_char(d.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
	}
	read := s.db.Reader()
	rows, err := read.QueryContext(ctx, s.db.Rebind(`SELECT x.day, COUNT(*), `+nearestRank(95)+`
		FROM (SELECT `+day+` AS day, d.latency_ms,
			ROW_NUMBER() OVER (PARTITION BY `+day+` ORDER BY d.latency_ms) AS rn,
			COUNT(*) OVER (PARTITION BY `+day+`) AS n
			FROM acs_deliveries d WHERE d.outcome = 'sent' AND `+where+`) x
		GROUP BY x.day`), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	byDay := map[string]*DeliveryDay{}
	get := func(d string) *DeliveryDay {
		if byDay[d] == nil {
			byDay[d] = &DeliveryDay{Day: d, Failures: map[string]int64{}}
		}
		return byDay[d]
	}
	for rows.Next() {
		var d string
		var n, p95 int64
		if err := rows.Scan(&d, &n, &p95); err != nil {
			rows.Close()
			return nil, err
		}
		get(d).Sent, get(d).P95 = n, time.Duration(p95)*time.Millisecond
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = read.QueryContext(ctx, s.db.Rebind(`SELECT `+day+`, d.provider, COUNT(*) FROM acs_deliveries d
		WHERE d.outcome <> 'sent' AND `+where+` GROUP BY `+day+`, d.provider`), args...)
	if err != nil {
		return nil, store.MapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var d, prov string
		var n int64
		if err := rows.Scan(&d, &prov, &n); err != nil {
			return nil, err
		}
		get(d).Failures[prov] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]DeliveryDay, 0, len(byDay))
	for _, d := range byDay {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b DeliveryDay) int { return strings.Compare(a.Day, b.Day) })
	return out, nil
}
