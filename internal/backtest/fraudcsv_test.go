package backtest_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/open3ds/open3ds/internal/backtest"
)

func TestAFraudFileKeepsGoodRowsAndNamesTheBadOnes(t *testing.T) {
	file := "Card_Number,Purchase_Date,Amount,Currency,Fraud_Type,Reported_Date,Notes\n" +
		"4000001234547891,2026-11-02,1999,978,stolen,2026-11-09,chargeback 4837\n" +
		"4000001234547892,2026-11-02,1999,978,stolen,2026-11-09,\n" + // Luhn
		"4000001234547891,02/11/2026,1999,978,stolen,2026-11-09,\n" +
		"4000001234547891,2026-11-02,19.99,978,stolen,2026-11-09,\n" +
		"4000001234547891,2026-11-02,1999,EUR,stolen,2026-11-09,\n" +
		"4000001234547891,2026-11-02,1999,978,shoplifting,2026-11-09,\n" +
		"4000001234547891,2026-11-02,1999,978,stolen,2026-11-01,\n" +
		",2026-11-02,1999,978,stolen,2026-11-09,\n" +
		"\n" +
		"5100002222242228,2026-11-03,500,826,CARD_NOT_PRESENT,2026-11-10,\n"
	got, bad, err := backtest.ParseFraudCSV(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].PAN != "4000001234547891" || got[0].Amount != 1999 || got[1].Type != "card_not_present" {
		t.Fatalf("good rows %+v", got)
	}
	want := []string{
		"line 3: card_number fails the Luhn check",
		"line 4: purchase_date must be a date YYYY-MM-DD (the purchase's day in UTC)",
		"line 5: amount must be the amount in minor units (digits only, e.g. 1999 for 19.99)",
		"line 6: currency must be the ISO 4217 numeric code (e.g. 978), as in the AReq",
		"line 7: fraud_type must be one of",
		"line 8: reported_date is before the purchase_date",
		"line 9: card_number is required when acs_trans_id is empty",
	}
	if len(bad) != len(want) {
		t.Fatalf("rejected %v", bad)
	}
	for i, w := range want {
		if !strings.HasPrefix(bad[i].Error(), w) {
			t.Errorf("rejection %d: %q, want %q", i, bad[i].Error(), w)
		}
		if strings.Contains(bad[i].Error(), "400000123454789") {
			t.Errorf("a rejection quotes the card number: %q", bad[i].Error())
		}
	}
}

func TestAFraudFileHeaderMustNameTheTransaction(t *testing.T) {
	for _, c := range []struct{ name, file, want string }{
		{"an empty file", "", "needs a header row"},
		{"no fraud type", "acs_trans_id,reported_date\n", "column fraud_type is required"},
		{"neither id nor card columns", "card_number,fraud_type,reported_date\n", "neither set of columns"},
		{"a column twice", "acs_trans_id,acs_trans_id,fraud_type,reported_date\n", "appears twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := backtest.ParseFraudCSV(strings.NewReader(c.file)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

func TestAFraudFileByTransactionID(t *testing.T) {
	got, bad, err := backtest.ParseFraudCSV(strings.NewReader("\ufeffacs_trans_id,fraud_type,reported_date\r\n" +
		"8A880DC0-D2D2-4067-BCB1-B08D1690B26E,counterfeit,2026-11-09\r\n" + "not/an id,lost,2026-11-09\r\n" + "\"broken,lost\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ACSTransID != "8a880dc0-d2d2-4067-bcb1-b08d1690b26e" || got[0].PAN != "" {
		t.Fatalf("got %+v", got)
	}
	if len(bad) != 2 || bad[0].Line != 3 || bad[0].Column != "acs_trans_id" || bad[1].Line != 4 || bad[1].Column != "row" {
		t.Fatalf("rejected %+v", bad)
	}
}

// FuzzParseFraudCSV feeds the parser arbitrary files: it must never panic, every rejection must
// name a line and a column, and an accepted row must be one the store can match.
func FuzzParseFraudCSV(f *testing.F) {
	f.Add("acs_trans_id,fraud_type,reported_date\nabc-123,lost,2026-11-09\n")
	f.Add("card_number,purchase_date,amount,currency,fraud_type,reported_date\n4000001234547891,2026-11-02,1999,978,stolen,2026-11-09\n")
	f.Add("card_number,purchase_date,amount,currency,fraud_type,reported_date\n\"4000,2026\n")
	f.Fuzz(func(t *testing.T, file string) {
		got, bad, err := backtest.ParseFraudCSV(strings.NewReader(file))
		if err != nil {
			return
		}
		for _, b := range bad {
			if b.Line < 1 || b.Column == "" || !utf8.ValidString(b.Column) {
				t.Fatalf("rejection without a place: %+v", b)
			}
		}
		for _, r := range got {
			if r.Type == "" || r.ReportedOn.IsZero() || (r.ACSTransID == "" && (r.PAN == "" || len(r.Currency) != 3 || r.Day.IsZero())) {
				t.Fatalf("accepted an incomplete report: %+v", r)
			}
		}
	})
}
