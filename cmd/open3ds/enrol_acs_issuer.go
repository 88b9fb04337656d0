package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/open3ds/open3ds/internal/acs"
)

func runEnrolIssuer(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError("enrol issuer needs an action: add, change, list or remove")
	}
	act, args := args[0], args[1:]
	f := newACSFlags(e, "issuer "+act, "enrol issuer "+act+" [flags]")
	var is acs.Issuer
	var ranges string
	if act == "add" || act == "change" {
		fs := f.fs
		fs.StringVar(&is.Name, "name", "", "the issuer's name")
		fs.StringVar(&ranges, "ranges", "", "card ranges, comma-separated START-END digit prefixes (e.g. 400000-400099)")
		fs.StringVar(&is.ECIStyle, "eci", "visa", `ECI style: "visa" (05/06/07) or "mastercard" (02/01/00)`)
		fs.StringVar(&is.AuthValueKeyRef, "authvalue-key", "", "name of the issuer's authentication-value key spec in the ACS configuration (default: the id)")
		fs.StringVar(&is.RiskPolicy, "risk-policy", "", "the issuer's name in the risk policy file (default: the id)")
		fs.StringVar(&is.NotEnrolledPolicy, "not-enrolled", "N", "answer for a card not enrolled: N (reason 13) or A (attempts)")
		fs.StringVar(&is.NoChallengePolicy, "no-challenge", "N", "answer when a challenge cannot happen (3RI): N or A")
		fs.BoolVar(&is.Decoupled, "decoupled", false, "the issuer authenticates out of band (transStatus D)")
		fs.BoolVar(&is.Refuse3RI, "refuse-3ri", false, "answer every 3RI AReq N, reason 21 (3RI not supported)")
		fs.BoolVar(&is.RefuseNonPayment, "refuse-npa", false, "answer every non-payment AReq N, reason 20 (non-payment not supported)")
		fs.IntVar(&is.OTP.Length, "otp-length", 6, "digits in a one-time code")
		fs.IntVar(&is.OTP.TTLSeconds, "otp-ttl", 300, "seconds a one-time code stays valid")
		fs.IntVar(&is.OTP.MaxAttempts, "otp-attempts", 3, "wrong codes before the challenge fails")
		fs.IntVar(&is.OTP.MaxResends, "otp-resends", 3, "new codes a cardholder may ask for")
		fs.StringVar(&is.Brand.Name, "brand-name", "", "name shown on challenge pages (default: the name)")
		fs.StringVar(&is.Brand.LogoURL, "logo-url", "", "logo shown on challenge pages")
		fs.StringVar(&is.Brand.SupportText, "support-text", "", "help text shown on challenge pages")
	}
	if act != "list" {
		f.fs.StringVar(&is.ID, "id", "", "the issuer's id")
	}
	if err := f.parse(e, args); err != nil {
		if errors.Is(err, acsErrHelp) {
			return nil
		}
		return err
	}
	s, done, err := acsOpen(ctx, e, *f.dsn, false)
	if err != nil {
		return err
	}
	defer done()
	switch act {
	case "add":
		if is.Ranges, err = acsParseRanges(ranges); err != nil {
			return err
		}
		if err := s.CreateIssuer(ctx, is); err != nil {
			return acsExplain(err, "issuer "+is.ID)
		}
		fmt.Fprintf(e.stdout, "added issuer %s\n", is.ID)
	case "change":
		old, err := s.Issuer(ctx, is.ID)
		if err != nil {
			return acsExplain(err, "issuer "+is.ID)
		}
		merged := acsMergeIssuer(old, is, f.set())
		if f.set()["ranges"] {
			if merged.Ranges, err = acsParseRanges(ranges); err != nil {
				return err
			}
		}
		if err := s.UpdateIssuer(ctx, merged); err != nil {
			return acsExplain(err, "issuer "+is.ID)
		}
		fmt.Fprintf(e.stdout, "changed issuer %s\n", is.ID)
	case "list":
		list, err := s.Issuers(ctx)
		if err != nil {
			return err
		}
		w := acsTable(e.stdout)
		fmt.Fprintln(w, "ID\tNAME\tRANGES\tECI\tNOT ENROLLED\tDECOUPLED")
		for _, is := range list {
			var rs []string
			for _, r := range is.Ranges {
				rs = append(rs, acsShortBound(r.Start, "0")+"-"+acsShortBound(r.End, "9"))
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%v\n", is.ID, is.Name, strings.Join(rs, ","), is.ECIStyle, is.NotEnrolledPolicy, is.Decoupled)
		}
		return w.Flush()
	case "remove":
		if err := s.DeleteIssuer(ctx, is.ID); err != nil {
			return acsExplain(err, "issuer "+is.ID)
		}
		fmt.Fprintf(e.stdout, "removed issuer %s\n", is.ID)
	default:
		return usageError("unknown action %q for enrol issuer: add, change, list or remove", act)
	}
	return nil
}

func acsParseRanges(s string) ([]acs.CardRange, error) {
	var out []acs.CardRange
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, ok := strings.Cut(part, "-")
		if !ok {
			hi = lo
		}
		out = append(out, acs.CardRange{Start: lo, End: hi})
	}
	if len(out) == 0 {
		return nil, usageError("--ranges: give at least one card range, START-END")
	}
	return out, nil
}

// acsMergeIssuer takes from is only the fields whose flags were given.
func acsMergeIssuer(old, is acs.Issuer, set map[string]bool) acs.Issuer {
	pick := func(flag string, dst *string, v string) {
		if set[flag] {
			*dst = v
		}
	}
	pick("name", &old.Name, is.Name)
	pick("eci", &old.ECIStyle, is.ECIStyle)
	pick("authvalue-key", &old.AuthValueKeyRef, is.AuthValueKeyRef)
	pick("risk-policy", &old.RiskPolicy, is.RiskPolicy)
	pick("not-enrolled", &old.NotEnrolledPolicy, is.NotEnrolledPolicy)
	pick("no-challenge", &old.NoChallengePolicy, is.NoChallengePolicy)
	pick("brand-name", &old.Brand.Name, is.Brand.Name)
	pick("logo-url", &old.Brand.LogoURL, is.Brand.LogoURL)
	pick("support-text", &old.Brand.SupportText, is.Brand.SupportText)
	if set["decoupled"] {
		old.Decoupled = is.Decoupled
	}
	if set["refuse-3ri"] {
		old.Refuse3RI = is.Refuse3RI
	}
	if set["refuse-npa"] {
		old.RefuseNonPayment = is.RefuseNonPayment
	}
	for flag, p := range map[string][2]*int{"otp-length": {&old.OTP.Length, &is.OTP.Length}, "otp-ttl": {&old.OTP.TTLSeconds, &is.OTP.TTLSeconds},
		"otp-attempts": {&old.OTP.MaxAttempts, &is.OTP.MaxAttempts}, "otp-resends": {&old.OTP.MaxResends, &is.OTP.MaxResends}} {
		if set[flag] {
			*p[0] = *p[1]
		}
	}
	return old
}

// acsShortBound shows a 19-digit range bound the way it was most likely entered: without its padding,
// but never shorter than a six-digit BIN.
func acsShortBound(b, pad string) string {
	short := strings.TrimRight(b, pad)
	if len(short) < 6 {
		short = b[:min(6, len(b))]
	}
	return short
}
