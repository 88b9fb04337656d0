package backtest

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteTable prints the report as aligned text: the window, then one table by issuer and one by
// BIN, each ending with the total. "live → new" pairs read left to right.
func WriteTable(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "Backtest of %s against the live rules, %s to %s (UTC)", r.Rules, r.Since.Format(time.DateTime), r.Until.Format(time.DateTime))
	if r.Issuer != "" {
		fmt.Fprintf(w, ", issuer %s", r.Issuer)
	}
	fmt.Fprintln(w)
	if r.Total.Transactions == 0 {
		_, err := fmt.Fprintln(w, "\nNo stored AReq in this window: nothing to replay.")
		return err
	}
	for _, part := range []struct {
		title, key string
		rows       []Group
	}{{"By issuer", "ISSUER", r.Issuers}, {"By BIN", "BIN", r.BINs}} {
		fmt.Fprintf(w, "\n%s\n", part.title)
		// The numbers align right; padding the keys to one width keeps them aligned left.
		width := len("total")
		for _, g := range part.rows {
			width = max(width, len(g.Key))
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%-*s\tAREQS\tFRICTIONLESS live → new\tCHALLENGES live → new\tDENIALS live → new\tFRAUD\tFRAUD CAUGHT live → new\tGOOD NEWLY CHALLENGED\t\n", width, part.key)
		for _, g := range part.rows {
			tableRow(tw, width, g.Key, g.Counts)
		}
		tableRow(tw, width, "total", r.Total)
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "\n%d of %d outcomes change. Fraud caught means challenged or denied.\n", r.Total.Changed, r.Total.Transactions)
	return err
}

func tableRow(w io.Writer, width int, key string, c Counts) {
	fmt.Fprintf(w, "%-*s\t%d\t%s → %s\t%d → %d\t%d → %d\t%d\t%d → %d\t%d\t\n", width, key, c.Transactions,
		pct(c.FrictionlessRate(true)), pct(c.FrictionlessRate(false)), c.ChallengeLive, c.ChallengeNew, c.DenyLive, c.DenyNew,
		c.Fraud, c.CaughtLive, c.CaughtNew, c.NewlyChallenged)
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }
