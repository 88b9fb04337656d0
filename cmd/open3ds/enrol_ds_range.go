package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store"
)

func runEnrolDSRange(ctx context.Context, e env, args []string) error {
	c, args, err := newEnrolCmd(e, "range", args, "add", "change", "list", "remove")
	if err != nil {
		return err
	}
	oldest, newest := emv.Versions[0], emv.Versions[len(emv.Versions)-1]
	start := c.fs.String("start", "", "the first PAN of the range, 13–19 digits; it names the range")
	end := c.fs.String("end", "", "the last PAN of the range, as many digits as --start")
	acs := c.fs.String("acs", "", "the name of the ACS that serves the range")
	acsStart := c.fs.String("acs-start", oldest, "the oldest protocol version the ACS takes for this range")
	acsEnd := c.fs.String("acs-end", newest, "the newest protocol version the ACS takes for this range")
	dsStart := c.fs.String("ds-start", oldest, "the oldest protocol version the DS routes for this range")
	dsEnd := c.fs.String("ds-end", newest, "the newest protocol version the DS routes for this range")
	method := c.fs.String("method-url", "", "the ACS's 3DS Method URL, if it has one")
	info := c.fs.String("acs-info", "01", "comma-separated acsInfoInd values (01 authentication, 02 attempts, …)")
	st, done, err := dsOpen(ctx, c, args)
	if err != nil {
		return err
	}
	defer done()
	return enrolRecords(ctx, c, ds.Range{Start: *start}, enrolRegistry[ds.Range]{
		list: func(ctx context.Context) (any, error) {
			ranges, serial, err := st.Ranges(ctx)
			if err != nil {
				return nil, err
			}
			return struct {
				Serial int64      `json:"serial"`
				Ranges []ds.Range `json:"ranges"`
			}{serial, ranges}, nil
		},
		remove: func(ctx context.Context) error { return st.RemoveRange(ctx, *start) },
		load:   func(ctx context.Context) (ds.Range, error) { return dsFindRange(ctx, st, *start) },
		fill: func(r *ds.Range) {
			c.set(&r.End, "end", end)
			c.set(&r.ACS, "acs", acs)
			c.set(&r.ACSStart, "acs-start", acsStart)
			c.set(&r.ACSEnd, "acs-end", acsEnd)
			c.set(&r.DSStart, "ds-start", dsStart)
			c.set(&r.DSEnd, "ds-end", dsEnd)
			c.set(&r.MethodURL, "method-url", method)
			if c.verb == "add" || c.given["acs-info"] {
				r.ACSInfoInd = splitList(*info)
			}
		},
		add:    st.AddRange,
		change: st.ChangeRange,
	})
}

// dsFindRange finds the range that starts at start; a range is named by its first PAN.
func dsFindRange(ctx context.Context, st *ds.SQLStore, start string) (ds.Range, error) {
	r, err := st.FindRange(ctx, start)
	if err == nil && r.Start == start {
		return r, nil
	}
	if err == nil || errors.Is(err, store.ErrNotFound) {
		return ds.Range{}, fmt.Errorf("no card range starts at %s: %w", start, store.ErrNotFound)
	}
	return ds.Range{}, err
}

func runEnrolDSScheme(ctx context.Context, e env, args []string) error {
	c, args, err := newEnrolCmd(e, "scheme", args, "set", "show")
	if err != nil {
		return err
	}
	dsID := c.fs.String("ds-id", "", "the DS's RID, ten upper-case hex digits")
	ref := c.fs.String("ref", "", "the DS's reference number (dsReferenceNumber)")
	eci := c.fs.String("eci", "", "the ECI table: default (05/06/07), mastercard (02/01/00) or Y,A,N values such as 05,06,07")
	notEnrolled := c.fs.String("stand-in-not-enrolled", "", "stand-in for a PAN in no range: attempts, unavailable or not-enrolled")
	unavailable := c.fs.String("stand-in-unavailable", "", "stand-in when the ACS is down or late: attempts, unavailable or not-enrolled")
	unknownSDK := c.fs.String("unknown-sdk", "", "an app AReq from an SDK not approved with `enrol sdk`: reject (Erro 303) or accept (and log)")
	deviceInfo := c.fs.String("device-info", "", "how the ACS gets the decrypted device information in deviceInfo: base64url (a string) or json (the object)")
	st, done, err := dsOpen(ctx, c, args)
	if err != nil {
		return err
	}
	defer done()
	sc, err := st.Scheme(ctx)
	if err != nil {
		return err
	}
	if c.verb == "set" {
		// set changes only what was given; the rest keeps its stored value.
		c.verb = "change"
		c.set(&sc.DSID, "ds-id", dsID)
		c.set(&sc.ReferenceNumber, "ref", ref)
		if c.given["eci"] {
			if sc.ECI, err = dsParseECI(*eci); err != nil {
				return err
			}
		}
		if c.given["stand-in-not-enrolled"] {
			sc.NotEnrolled = ds.Policy(*notEnrolled)
		}
		if c.given["stand-in-unavailable"] {
			sc.Unavailable = ds.Policy(*unavailable)
		}
		if c.given["unknown-sdk"] {
			sc.UnknownSDK = ds.SDKPolicy(*unknownSDK)
		}
		if c.given["device-info"] {
			sc.DeviceInfo = ds.DeviceInfoFormat(*deviceInfo)
		}
		if sc, err = st.SetScheme(ctx, sc); err != nil {
			return err
		}
	}
	return c.print(sc)
}

func dsParseECI(s string) (ds.ECITable, error) {
	switch s {
	case "default", "visa":
		return ds.ECIDefault, nil
	case "mastercard":
		return ds.ECIMastercard, nil
	}
	v := strings.Split(s, ",")
	if len(v) != 3 {
		return ds.ECITable{}, usageError("--eci must be default, mastercard or three comma-separated values Y,A,N")
	}
	return ds.ECITable{Y: v[0], A: v[1], N: v[2]}, nil
}
