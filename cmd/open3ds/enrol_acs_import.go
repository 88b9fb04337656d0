package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/store"
)

// acsImportColumns are the CSV header's names; issuer and pan are required, the rest optional. Lists
// (mobiles, emails) are separated by semicolons inside their cell.
var acsImportColumns = []string{"issuer", "pan", "expiry", "status", "mobiles", "emails", "channel", "locale"}

// acsCSVRow is one data line of an import file: the cardholder it describes, or why it cannot be read.
type acsCSVRow struct {
	Line       int
	Cardholder acs.Cardholder
	Problem    string // "field: reason" when the line is unreadable; the PAN never appears
}

// acsParseCardholderCSV reads an import file. A missing issuer or pan column fails the whole file; a
// bad line becomes a row with a Problem, so that the caller reports it and goes on.
func acsParseCardholderCSV(in io.Reader) ([]acsCSVRow, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, errors.New("no header line")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range []string{"issuer", "pan"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("the header lacks the %q column (columns: %s)", need, strings.Join(acsImportColumns, ","))
		}
	}
	var rows []acsCSVRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			rows = append(rows, acsCSVRow{Line: pe.StartLine, Problem: "line: not valid CSV"})
			continue
		}
		if err != nil {
			return rows, err
		}
		// FieldPos is asked only of a record that was read: after an error it has none and panics.
		line, _ := r.FieldPos(0)
		cell := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		rows = append(rows, acsCSVRow{Line: line, Cardholder: acs.Cardholder{IssuerID: cell("issuer"), PAN: cell("pan"),
			Expiry: cell("expiry"), Status: cell("status"), Mobiles: acsSplitSemi(cell("mobiles")),
			Emails: acsSplitSemi(cell("emails")), PreferredChannel: cell("channel"), Locale: cell("locale")}})
	}
}

// acsImportCardholders adds every good row of a CSV file and reports each bad one by line and field,
// never by its PAN. It fails (status 1) when any row was refused, after importing the rest.
func acsImportCardholders(ctx context.Context, e env, s *acs.SQLStore, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := acsParseCardholderCSV(f)
	if err != nil {
		return exitError{code: 1, msg: fmt.Sprintf("%s: %v", path, err)}
	}
	added, bad := 0, 0
	for _, row := range rows {
		if row.Problem != "" {
			fmt.Fprintf(e.stderr, "line %d: %s\n", row.Line, row.Problem)
			bad++
			continue
		}
		if _, err := s.CreateCardholder(ctx, row.Cardholder); err != nil {
			var fe *acs.FieldError
			switch {
			case errors.As(err, &fe):
				fmt.Fprintf(e.stderr, "line %d: %s: %s\n", row.Line, fe.Field, fe.Reason)
			case errors.Is(err, store.ErrConflict):
				fmt.Fprintf(e.stderr, "line %d: pan: already enrolled\n", row.Line)
			default:
				return fmt.Errorf("line %d: %w", row.Line, err)
			}
			bad++
			continue
		}
		added++
	}
	fmt.Fprintf(e.stdout, "imported %d cardholders, refused %d\n", added, bad)
	if bad > 0 {
		return exitError{code: 1}
	}
	return nil
}

func acsSplitSemi(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
