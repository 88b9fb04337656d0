package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/open3ds/open3ds/internal/acs"
)

// runEnrolCardholder administers card accounts. The PAN is read from --pan or, with --pan -, from the
// first line of standard input, which keeps it out of the process list.
func runEnrolCardholder(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError("enrol cardholder needs an action: add, change, list, remove or import FILE.csv")
	}
	act, args := args[0], args[1:]
	f := newACSFlags(e, "cardholder "+act, "enrol cardholder "+act+" [flags]"+map[bool]string{true: " FILE.csv"}[act == "import"])
	var c acs.Cardholder
	var mobiles, emails string
	fs := f.fs
	switch act {
	case "add", "change":
		if act == "add" {
			fs.StringVar(&c.IssuerID, "issuer", "", "the issuer's id")
			fs.StringVar(&c.PAN, "pan", "", "the card number; - reads it from standard input")
		} else {
			fs.StringVar(&c.ID, "id", "", "the cardholder's id")
		}
		fs.StringVar(&c.Expiry, "expiry", "", "card expiry, YYMM")
		fs.StringVar(&c.Status, "status", "", "enrolled, blocked or not_enrolled (default enrolled)")
		fs.StringVar(&mobiles, "mobiles", "", "mobile numbers for codes, comma-separated, +<country><number>")
		fs.StringVar(&emails, "emails", "", "e-mail addresses for codes, comma-separated")
		fs.StringVar(&c.PreferredChannel, "channel", "", "preferred channel for codes: sms or email")
		fs.StringVar(&c.Locale, "locale", "", "language of pages and messages (default en)")
		fs.StringVar(&c.AppUI, "app-ui", "", "app challenge screen: 01 code, 02 choose a channel, 03 tick several channels, 04 bank app, 05 HTML (default: the ACS chooses)")
	case "list":
		fs.StringVar(&c.IssuerID, "issuer", "", "list only this issuer's cardholders")
	case "remove":
		fs.StringVar(&c.ID, "id", "", "the cardholder's id")
	case "import":
	default:
		return usageError("unknown action %q for enrol cardholder: add, change, list, remove or import", act)
	}
	if err := f.parse(e, args); err != nil {
		if errors.Is(err, acsErrHelp) {
			return nil
		}
		return err
	}
	c.Mobiles, c.Emails = splitList(mobiles), splitList(emails)
	s, done, err := acsOpen(ctx, e, *f.dsn, act == "add" || act == "change" || act == "import")
	if err != nil {
		return err
	}
	defer done()
	switch act {
	case "add":
		if c.PAN == "-" {
			if c.PAN, err = acsReadLine(e); err != nil {
				return err
			}
		}
		got, err := s.CreateCardholder(ctx, c)
		if err != nil {
			return acsExplain(err, "cardholder")
		}
		fmt.Fprintf(e.stdout, "added cardholder %s (%s)\n", got.ID, got.MaskedPAN)
	case "change":
		old, err := s.Cardholder(ctx, c.ID)
		if err != nil {
			return acsExplain(err, "cardholder "+c.ID)
		}
		set := f.set()
		pick := func(flag string, dst *string, v string) {
			if set[flag] {
				*dst = v
			}
		}
		pick("expiry", &old.Expiry, c.Expiry)
		pick("status", &old.Status, c.Status)
		pick("channel", &old.PreferredChannel, c.PreferredChannel)
		pick("locale", &old.Locale, c.Locale)
		pick("app-ui", &old.AppUI, c.AppUI)
		if set["mobiles"] {
			old.Mobiles = c.Mobiles
		}
		if set["emails"] {
			old.Emails = c.Emails
		}
		if err := s.UpdateCardholder(ctx, old); err != nil {
			return acsExplain(err, "cardholder "+c.ID)
		}
		fmt.Fprintf(e.stdout, "changed cardholder %s\n", c.ID)
	case "list":
		list, err := s.Cardholders(ctx, c.IssuerID)
		if err != nil {
			return err
		}
		w := acsTable(e.stdout)
		fmt.Fprintln(w, "ID\tISSUER\tPAN\tEXPIRY\tSTATUS\tCHANNEL\tMOBILES\tEMAILS")
		for _, c := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.IssuerID, c.MaskedPAN, c.Expiry, c.Status,
				c.PreferredChannel, strings.Join(c.Mobiles, ","), strings.Join(c.Emails, ","))
		}
		return w.Flush()
	case "remove":
		if err := s.DeleteCardholder(ctx, c.ID); err != nil {
			return acsExplain(err, "cardholder "+c.ID)
		}
		fmt.Fprintf(e.stdout, "removed cardholder %s\n", c.ID)
	case "import":
		if fs.NArg() != 1 {
			return usageError("enrol cardholder import needs one FILE.csv")
		}
		return acsImportCardholders(ctx, e, s, fs.Arg(0))
	}
	return nil
}

func acsReadLine(e env) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := e.stdin.Read(buf)
		if n == 1 && buf[0] != '\n' {
			b.WriteByte(buf[0])
		}
		if (n == 1 && buf[0] == '\n') || err != nil || b.Len() > 64 {
			break
		}
	}
	return strings.TrimSpace(b.String()), nil
}
