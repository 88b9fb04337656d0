package main

import (
	"context"
	"fmt"

	"github.com/open3ds/open3ds/internal/ds"
)

func init() {
	enrolGroup.add(command{name: "acs", summary: "the DS's ACSs: add | change | list | remove", run: runEnrolDSACS})
	enrolGroup.add(command{name: "3dss", summary: "the DS's 3DS Servers and their requestor ids: add | change | list | remove", run: runEnrolDS3DSS})
	enrolGroup.add(command{name: "range", summary: "the DS's card ranges: add | change | list | remove", run: runEnrolDSRange})
	enrolGroup.add(command{name: "scheme", summary: "the DS's scheme settings (DS id, ECI, stand-in, app channel): set | show", run: runEnrolDSScheme})
	enrolGroup.add(command{name: "sdk", summary: "the DS's approved 3DS SDKs, by sdkReferenceNumber: add | list | remove", run: runEnrolDSSDK})
}

// dsOpen reads the flags and opens the DS store.
func dsOpen(ctx context.Context, c *enrolCmd, args []string) (*ds.SQLStore, func(), error) {
	db, err := c.open(ctx, args)
	if err != nil {
		return nil, nil, err
	}
	return ds.NewSQLStore(db), func() { db.Close() }, nil
}

func runEnrolDSACS(ctx context.Context, e env, args []string) error {
	c, args, err := newEnrolCmd(e, "acs", args, "add", "change", "list", "remove")
	if err != nil {
		return err
	}
	name := c.fs.String("name", "", "the ACS's name: the identity in its client certificate")
	ref := c.fs.String("ref", "", "its EMVCo reference number (acsReferenceNumber)")
	op := c.fs.String("operator-id", "", "its operator id (acsOperatorID)")
	url := c.fs.String("url", "", "the HTTPS URL where it takes AReq")
	st, done, err := dsOpen(ctx, c, args)
	if err != nil {
		return err
	}
	defer done()
	return enrolRecords(ctx, c, ds.ACS{Name: *name}, enrolRegistry[ds.ACS]{
		list:   func(ctx context.Context) (any, error) { return st.ListACS(ctx) },
		remove: func(ctx context.Context) error { return st.RemoveACS(ctx, *name) },
		load: func(ctx context.Context) (ds.ACS, error) {
			a, err := st.ACS(ctx, *name)
			if err != nil {
				return a, fmt.Errorf("ACS %q: %w", *name, err)
			}
			return a, nil
		},
		fill: func(a *ds.ACS) {
			c.set(&a.ReferenceNumber, "ref", ref)
			c.set(&a.OperatorID, "operator-id", op)
			c.set(&a.URL, "url", url)
		},
		add:    st.AddACS,
		change: st.ChangeACS,
	})
}

func runEnrolDS3DSS(ctx context.Context, e env, args []string) error {
	c, args, err := newEnrolCmd(e, "3dss", args, "add", "change", "list", "remove")
	if err != nil {
		return err
	}
	name := c.fs.String("name", "", "the 3DS Server's name: the identity in its client certificate")
	ref := c.fs.String("ref", "", "its EMVCo reference number: every AReq and PReq it sends must carry it as threeDSServerRefNumber")
	op := c.fs.String("operator-id", "", "its operator id: when set, every AReq and PReq it sends must carry it as threeDSServerOperatorID")
	reqs := c.fs.String("requestors", "", "comma-separated 3DS Requestor ids it may send AReqs for")
	st, done, err := dsOpen(ctx, c, args)
	if err != nil {
		return err
	}
	defer done()
	return enrolRecords(ctx, c, ds.ThreeDSServer{Name: *name}, enrolRegistry[ds.ThreeDSServer]{
		list:   func(ctx context.Context) (any, error) { return st.ListThreeDSServers(ctx) },
		remove: func(ctx context.Context) error { return st.RemoveThreeDSServer(ctx, *name) },
		load: func(ctx context.Context) (ds.ThreeDSServer, error) {
			s, err := st.ThreeDSServer(ctx, *name)
			if err != nil {
				return s, fmt.Errorf("3DS Server %q: %w", *name, err)
			}
			return s, nil
		},
		fill: func(s *ds.ThreeDSServer) {
			c.set(&s.ReferenceNumber, "ref", ref)
			c.set(&s.OperatorID, "operator-id", op)
			if c.verb == "add" || c.given["requestors"] {
				s.RequestorIDs = splitList(*reqs)
			}
		},
		add:    st.AddThreeDSServer,
		change: st.ChangeThreeDSServer,
	})
}

func runEnrolDSSDK(ctx context.Context, e env, args []string) error {
	c, args, err := newEnrolCmd(e, "sdk", args, "add", "list", "remove")
	if err != nil {
		return err
	}
	ref := c.fs.String("ref", "", "the SDK's EMVCo reference number, as its AReqs carry it in sdkReferenceNumber")
	desc := c.fs.String("description", "", "a note for operators: vendor, product, approval date")
	st, done, err := dsOpen(ctx, c, args)
	if err != nil {
		return err
	}
	defer done()
	return enrolRecords(ctx, c, ds.SDK{ReferenceNumber: *ref}, enrolRegistry[ds.SDK]{
		list: func(ctx context.Context) (any, error) { return st.ListSDKs(ctx) },
		remove: func(ctx context.Context) error {
			if err := st.RemoveSDK(ctx, *ref); err != nil {
				return fmt.Errorf("SDK %q: %w", *ref, err)
			}
			return nil
		},
		fill: func(k *ds.SDK) { c.set(&k.Description, "description", desc) },
		add:  st.AddSDK,
	})
}
