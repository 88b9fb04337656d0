package ds

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
)

const rangeColumns = `start_pan, end_pan, acs_name, acs_start, acs_end, ds_start, ds_end, method_url, acs_info_ind`

func scanRange(sc interface{ Scan(...any) error }, extra ...any) (Range, error) {
	var r Range
	var ind string
	dest := append([]any{&r.Start, &r.End, &r.ACS, &r.ACSStart, &r.ACSEnd, &r.DSStart, &r.DSEnd, &r.MethodURL, &ind}, extra...)
	err := sc.Scan(dest...)
	r.ACSInfoInd = splitInd(ind)
	return r, err
}

func rangeArgs(r Range) []any {
	return []any{r.Start, r.End, r.ACS, r.ACSStart, r.ACSEnd, r.DSStart, r.DSEnd, r.MethodURL, joinInd(r.ACSInfoInd)}
}

// AddRange implements Store.
func (s *SQLStore) AddRange(ctx context.Context, r Range) error {
	return s.putRange(ctx, r, "A")
}

// ChangeRange implements Store: the range that starts at r.Start takes r's other values.
func (s *SQLStore) ChangeRange(ctx context.Context, r Range) error {
	return s.putRange(ctx, r, "M")
}

func (s *SQLStore) putRange(ctx context.Context, r Range, action string) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.change(ctx, func(tx *sql.Tx, serial int64) error {
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM ds_acs WHERE name = ?`), r.ACS).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return httpx.Invalid(httpx.FieldError{Field: "acs", Detail: "no ACS of that name is registered"})
		} else if err != nil {
			return err
		}
		// Registered ranges never overlap, so of those starting at or below r's end only the one that
		// starts highest can reach into r (it ends highest too). The range being changed is left out,
		// since it is being replaced. One index probe, however many ranges there are.
		row := tx.QueryRowContext(ctx, s.q(`SELECT start_pan, end_pan FROM ds_ranges
			WHERE pan_len = ? AND start_pan <= ? AND start_pan <> ? ORDER BY start_pan DESC LIMIT 1`),
			len(r.Start), r.End, r.Start)
		var os, oe string
		if err := row.Scan(&os, &oe); err == nil && oe >= r.Start {
			return httpx.NewProblem(http.StatusConflict, fmt.Sprintf("card range overlaps the registered range %s–%s", os, oe),
				httpx.FieldError{Field: "start", Detail: "the range overlaps " + os + "–" + oe})
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		args := rangeArgs(r)
		if action == "A" {
			_, err = tx.ExecContext(ctx, s.q(`INSERT INTO ds_ranges (`+rangeColumns+`, pan_len) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				append(args, len(r.Start))...)
		} else {
			var res sql.Result
			res, err = tx.ExecContext(ctx, s.q(`UPDATE ds_ranges SET end_pan = ?, acs_name = ?, acs_start = ?, acs_end = ?,
				ds_start = ?, ds_end = ?, method_url = ?, acs_info_ind = ? WHERE start_pan = ?`), append(args[1:], r.Start)...)
			err = mustAffect(res, err, "card range")
		}
		if err != nil {
			return err
		}
		return s.logChange(ctx, tx, serial, action, r)
	})
}

func (s *SQLStore) logChange(ctx context.Context, tx *sql.Tx, serial int64, action string, r Range) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO ds_range_changes (serial, action, `+rangeColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), append([]any{serial, action}, rangeArgs(r)...)...)
	return err
}

// RemoveRange implements Store.
func (s *SQLStore) RemoveRange(ctx context.Context, start string) error {
	return s.change(ctx, func(tx *sql.Tx, serial int64) error {
		r, err := scanRange(tx.QueryRowContext(ctx, s.q(`SELECT `+rangeColumns+` FROM ds_ranges WHERE start_pan = ?`), start))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM ds_ranges WHERE start_pan = ?`), start); err != nil {
			return err
		}
		return s.logChange(ctx, tx, serial, "D", r)
	})
}

// FindRange implements Store. Ranges never overlap, so the one range that can hold pan is the one
// of pan's length that starts highest at or below it: one index probe, however many ranges there are.
func (s *SQLStore) FindRange(ctx context.Context, pan string) (Range, error) {
	v, err := s.registry(ctx)
	if err != nil {
		return Range{}, err
	}
	if v != nil {
		return v.findRange(pan)
	}
	r, err := scanRange(s.db.Reader().QueryRowContext(ctx, s.q(`SELECT `+rangeColumns+` FROM ds_ranges
		WHERE pan_len = ? AND start_pan <= ? ORDER BY start_pan DESC LIMIT 1`), len(pan), pan))
	if err == nil && !r.Contains(pan) {
		err = sql.ErrNoRows
	}
	if err != nil {
		return Range{}, store.MapError(err)
	}
	return r, nil
}

// Ranges implements Store. The serial is read in the same read transaction as the ranges, so the
// list is exactly the state at that serial.
func (s *SQLStore) Ranges(ctx context.Context) ([]Range, int64, error) {
	tx, err := s.snapshot(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var serial int64
	if err := tx.QueryRowContext(ctx, `SELECT serial FROM ds_scheme WHERE id = 1`).Scan(&serial); err != nil {
		return nil, 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+rangeColumns+` FROM ds_ranges ORDER BY pan_len, start_pan`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Range{}
	for rows.Next() {
		r, err := scanRange(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, serial, rows.Err()
}

// RangesSince implements Store. It folds each range's changes after serial into one: added and
// then removed is nothing, added and then changed is an add of the last state, and so on.
func (s *SQLStore) RangesSince(ctx context.Context, serial int64) ([]RangeChange, int64, error) {
	tx, err := s.snapshot(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var current int64
	if err := tx.QueryRowContext(ctx, `SELECT serial FROM ds_scheme WHERE id = 1`).Scan(&current); err != nil {
		return nil, 0, err
	}
	if serial < 0 || serial > current {
		return nil, 0, fmt.Errorf("%w: serial number", store.ErrNotFound)
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT `+rangeColumns+`, action FROM ds_range_changes WHERE serial > ? ORDER BY serial`), serial)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	type fold struct {
		first, last string
		r           Range
	}
	byStart := map[string]*fold{}
	var order []string
	for rows.Next() {
		var action string
		r, err := scanRange(rows, &action)
		if err != nil {
			return nil, 0, err
		}
		f := byStart[r.Start]
		if f == nil {
			f = &fold{first: action}
			byStart[r.Start] = f
			order = append(order, r.Start)
		}
		f.last, f.r = action, r
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	out := []RangeChange{}
	for _, start := range order {
		f := byStart[start]
		var action string
		switch {
		case f.first == "A" && f.last == "D":
			continue // never seen by the client
		case f.first == "A":
			action = "A"
		case f.last == "D":
			action = "D"
		case f.first == "D":
			action = "M" // removed and added again: the client still holds the old one
		default:
			action = "M"
		}
		out = append(out, RangeChange{Action: action, Range: f.r})
	}
	return out, current, nil
}

// PacePReq implements Store.
func (s *SQLStore) PacePReq(ctx context.Context, server string, now time.Time, every time.Duration, full bool) (bool, error) {
	admitted := false
	err := s.db.WithTx(ctx, func(tx *sql.Tx) error {
		admitted = false
		var last store.Time
		var owed int
		err := tx.QueryRowContext(ctx, s.q(`SELECT last_at, owed_reload FROM ds_preq_pacing WHERE server_name = ?`), server).Scan(&last, &owed)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, s.q(`INSERT INTO ds_preq_pacing (server_name, last_at, owed_reload) VALUES (?, ?, 0)`), server, store.Time(now))
		case err != nil:
			return err
		case now.Sub(time.Time(last)) >= every || (full && owed != 0):
			_, err = tx.ExecContext(ctx, s.q(`UPDATE ds_preq_pacing SET last_at = ?, owed_reload = 0 WHERE server_name = ?`), store.Time(now), server)
		default:
			return nil
		}
		admitted = err == nil
		return err
	})
	return admitted, err
}

// OweReload implements Store.
func (s *SQLStore) OweReload(ctx context.Context, server string) error {
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`UPDATE ds_preq_pacing SET owed_reload = 1 WHERE server_name = ?`), server)
		return err
	})
}

// CreateTransaction implements Store.
// Every AReq ends here, so it is written by group commit: durable before the ARes is relayed, in one
// commit with the other AReqs of the moment.
func (s *SQLStore) CreateTransaction(ctx context.Context, t Transaction) error {
	_, err := s.db.Exec(ctx, `INSERT INTO ds_transactions (ds_trans_id, three_ds_server_trans_id, acs_trans_id,
		acs_name, server_name, three_ds_server_url, message_version, message_category, device_channel, masked_pan,
		outcome, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.DSTransID, t.ThreeDSServerTransID, t.ACSTransID, t.ACS, t.ThreeDSServer, t.ThreeDSServerURL, t.MessageVersion,
		t.MessageCategory, t.DeviceChannel, t.MaskedPAN, t.Outcome, store.Time(t.CreatedAt))
	return err
}

// Transaction implements Store.
func (s *SQLStore) Transaction(ctx context.Context, dsTransID string) (Transaction, error) {
	var t Transaction
	var at store.Time
	err := s.db.Reader().QueryRowContext(ctx, s.q(`SELECT ds_trans_id, three_ds_server_trans_id, acs_trans_id, acs_name,
		server_name, three_ds_server_url, message_version, message_category, device_channel, masked_pan, outcome, created_at
		FROM ds_transactions WHERE ds_trans_id = ?`), dsTransID).Scan(&t.DSTransID, &t.ThreeDSServerTransID, &t.ACSTransID,
		&t.ACS, &t.ThreeDSServer, &t.ThreeDSServerURL, &t.MessageVersion, &t.MessageCategory, &t.DeviceChannel, &t.MaskedPAN,
		&t.Outcome, &at)
	t.CreatedAt = time.Time(at)
	return t, store.MapError(err)
}

// parseSerial reads a PReq serialNum; anything but a decimal number is a serial the DS never issued.
func parseSerial(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

// snapshot begins a read transaction that sees one state of the registry throughout: PostgreSQL
// needs REPEATABLE READ for that; an SQLite read transaction is a snapshot already.
func (s *SQLStore) snapshot(ctx context.Context) (*sql.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.db.Dialect() == store.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	return s.db.Reader().BeginTx(ctx, opts)
}
