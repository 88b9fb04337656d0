// Package backtest replays the AReqs an ACS stored through another risk rule set and compares the
// outcome with what the live rules decided: frictionless rate, challenges, denials and the fraud
// each would have caught, by issuer, by BIN and by day. It also reads the fraud reports an issuer's
// fraud team sends (ParseFraudCSV). The risk engine stays pure: this package sits above the ACS
// store and the engine and does the reading.
package backtest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
)

// FraudTypes are the fraud categories a report may name. They follow the categories card schemes
// use in their fraud reporting (lost, stolen, not received, counterfeit, card-not-present, account
// takeover, fraudulent application) with first-party fraud and other beside them.
var FraudTypes = []string{"lost", "stolen", "never_received", "counterfeit", "card_not_present", "account_takeover",
	"fraudulent_application", "first_party", "other"}

// The columns of a fraud report file. Each file has a header row naming them, in any order and
// any case; other columns (a fraud team's exports have many) are ignored.
const (
	colTransID  = "acs_trans_id"
	colCard     = "card_number"
	colDate     = "purchase_date"
	colAmount   = "amount"
	colCurrency = "currency"
	colType     = "fraud_type"
	colReported = "reported_date"
)

// RowError is one rejected row: its line in the file, the column at fault and why. It never
// quotes a card number.
type RowError struct {
	Line   int
	Column string
	Reason string
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %s %s", e.Line, e.Column, e.Reason) }

// MaxFraudRows bounds one file, so that a wrong file (a whole transaction log) fails fast.
const MaxFraudRows = 1_000_000

// ParseFraudCSV reads a fraud report file. A header it cannot use (a required column missing) is
// an error and nothing is read. Rows that are wrong are returned as RowErrors, and the good rows
// are returned beside them: the caller imports the good ones and reports the others.
func ParseFraudCSV(r io.Reader) ([]acs.FraudReport, []RowError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("the file is empty: it needs a header row")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	cols := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := cols[h]; dup && h != "" {
			return nil, nil, fmt.Errorf("header: column %s appears twice", h)
		}
		cols[h] = i
	}
	for _, need := range []string{colType, colReported} {
		if _, ok := cols[need]; !ok {
			return nil, nil, fmt.Errorf("header: column %s is required", need)
		}
	}
	_, byID := cols[colTransID]
	byCard := true
	for _, c := range []string{colCard, colDate, colAmount, colCurrency} {
		_, ok := cols[c]
		byCard = byCard && ok
	}
	if !byID && !byCard {
		return nil, nil, fmt.Errorf("header: a report names its transaction by %s, or by %s, %s, %s and %s: neither set of columns is there",
			colTransID, colCard, colDate, colAmount, colCurrency)
	}
	var out []acs.FraudReport
	var bad []RowError
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// The CSV itself is broken here; csv.Reader carries on with the next record.
			bad = append(bad, RowError{Line: pe.StartLine, Column: "row", Reason: "is not valid CSV: " + pe.Err.Error()})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		line, _ := cr.FieldPos(0)
		if n >= MaxFraudRows {
			return nil, nil, fmt.Errorf("more than %d rows: split the file", MaxFraudRows)
		}
		field := func(name string) string {
			if i, ok := cols[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if blank(rec) {
			continue
		}
		rep, rerr := fraudRow(field)
		if rerr != nil {
			rerr.Line = line
			bad = append(bad, *rerr)
			continue
		}
		out = append(out, rep)
	}
	return out, bad, nil
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// fraudRow checks one row; the error names the first column at fault.
func fraudRow(field func(string) string) (acs.FraudReport, *RowError) {
	var r acs.FraudReport
	fail := func(col, why string) (acs.FraudReport, *RowError) { return r, &RowError{Column: col, Reason: why} }

	r.Type = strings.ToLower(field(colType))
	if !slices.Contains(FraudTypes, r.Type) {
		return fail(colType, "must be one of "+strings.Join(FraudTypes, ", "))
	}
	var err error
	if r.ReportedOn, err = time.Parse(time.DateOnly, field(colReported)); err != nil {
		return fail(colReported, "must be a date YYYY-MM-DD")
	}
	if id := field(colTransID); id != "" {
		if len(id) > 64 || strings.IndexFunc(id, func(c rune) bool { return !isIDChar(c) }) >= 0 {
			return fail(colTransID, "must be an acsTransID (letters, digits and dashes, at most 64)")
		}
		r.ACSTransID = strings.ToLower(id)
		return r, nil
	}
	pan := strings.ReplaceAll(strings.ReplaceAll(field(colCard), " ", ""), "-", "")
	switch {
	case pan == "":
		return fail(colCard, "is required when acs_trans_id is empty")
	case len(pan) < 12 || len(pan) > 19 || strings.IndexFunc(pan, func(c rune) bool { return c < '0' || c > '9' }) >= 0:
		return fail(colCard, "must be 12 to 19 digits")
	case !emv.LuhnValid(pan):
		return fail(colCard, "fails the Luhn check")
	}
	r.PAN = pan
	if r.Day, err = time.Parse(time.DateOnly, field(colDate)); err != nil {
		return fail(colDate, "must be a date YYYY-MM-DD (the purchase's day in UTC)")
	}
	if r.ReportedOn.Before(r.Day) {
		return fail(colReported, "is before the purchase_date")
	}
	amount := field(colAmount)
	if len(amount) == 0 || len(amount) > 12 || strings.IndexFunc(amount, func(c rune) bool { return c < '0' || c > '9' }) >= 0 {
		return fail(colAmount, "must be the amount in minor units (digits only, e.g. 1999 for 19.99)")
	}
	r.Amount, _ = strconv.ParseInt(amount, 10, 64)
	r.Currency = field(colCurrency)
	if len(r.Currency) != 3 || strings.IndexFunc(r.Currency, func(c rune) bool { return c < '0' || c > '9' }) >= 0 {
		return fail(colCurrency, "must be the ISO 4217 numeric code (e.g. 978), as in the AReq")
	}
	return r, nil
}

func isIDChar(c rune) bool {
	return c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
