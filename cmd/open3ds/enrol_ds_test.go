package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// dsStores gives each DS CLI test a fresh, migrated store of each dialect.
var dsStores = []struct {
	name string
	dsn  func(testing.TB) string
}{
	{"sqlite", storetest.SQLiteDSN},
	{"postgres", func(tb testing.TB) string {
		dsn := storetest.PostgresDSN(tb)
		if _, err := store.Migrate(context.Background(), dsn); err != nil {
			tb.Fatal(err)
		}
		return dsn
	}},
}

// enrol runs `open3ds enrol …` with OPEN3DS_DSN set to dsn.
func enrol(t *testing.T, dsn string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		if k == "OPEN3DS_DSN" {
			return dsn
		}
		return ""
	}
	err := run(context.Background(), append([]string{"enrol"}, args...), getenv, strings.NewReader(""), &out, &errb)
	return out.String(), err
}

func mustEnrol(t *testing.T, dsn string, args ...string) string {
	t.Helper()
	out, err := enrol(t, dsn, args...)
	if err != nil {
		t.Fatalf("enrol %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func TestEnrolRegistersTheDSNetworkAndListsItBack(t *testing.T) {
	for _, b := range dsStores {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			dsn := b.dsn(t)
			mustEnrol(t, dsn, "acs", "add", "--name", "bank", "--ref", "ACS-REF", "--url", "https://acs.example/areq")
			mustEnrol(t, dsn, "acs", "change", "--name", "bank", "--operator-id", "OP-1")
			mustEnrol(t, dsn, "3dss", "add", "--name", "psp", "--ref", "3DSS-REF", "--requestors", "R1, R2")
			mustEnrol(t, dsn, "range", "add", "--start", "4000000000000000", "--end", "4000000000009999", "--acs", "bank",
				"--method-url", "https://acs.example/method", "--acs-info", "01,02")
			mustEnrol(t, dsn, "range", "change", "--start", "4000000000000000", "--end", "4000000000000999")
			mustEnrol(t, dsn, "scheme", "set", "--eci", "mastercard", "--stand-in-unavailable", "attempts", "--device-info", "json")
			mustEnrol(t, dsn, "sdk", "add", "--ref", "3DS_LOA_SDK_ACME_020301_00001", "--description", "Acme SDK 4")
			mustEnrol(t, dsn, "sdk", "add", "--ref", "3DS_LOA_SDK_BETA_020200_00002")

			var acsList []ds.ACS
			mustJSON(t, mustEnrol(t, dsn, "acs", "list"), &acsList)
			if len(acsList) != 1 || acsList[0].OperatorID != "OP-1" || acsList[0].URL != "https://acs.example/areq" {
				t.Errorf("acs list = %+v", acsList)
			}
			var servers []ds.ThreeDSServer
			mustJSON(t, mustEnrol(t, dsn, "3dss", "list"), &servers)
			if len(servers) != 1 || strings.Join(servers[0].RequestorIDs, ",") != "R1,R2" {
				t.Errorf("3dss list = %+v", servers)
			}
			var ranges struct {
				Serial int64
				Ranges []ds.Range
			}
			mustJSON(t, mustEnrol(t, dsn, "range", "list"), &ranges)
			if len(ranges.Ranges) != 1 || ranges.Ranges[0].End != "4000000000000999" || ranges.Ranges[0].MethodURL == "" || ranges.Serial != 6 {
				t.Errorf("range list = %+v", ranges)
			}
			var sc ds.Scheme
			mustJSON(t, mustEnrol(t, dsn, "scheme", "show"), &sc)
			if sc.ECI != ds.ECIMastercard || sc.Unavailable != ds.PolicyAttempts || sc.NotEnrolled != ds.PolicyAttempts ||
				sc.DeviceInfo != ds.DeviceInfoJSON || sc.UnknownSDK != ds.SDKReject {
				t.Errorf("scheme = %+v", sc)
			}
			var sdks []ds.SDK
			mustJSON(t, mustEnrol(t, dsn, "sdk", "list"), &sdks)
			if len(sdks) != 2 || sdks[0].Description != "Acme SDK 4" || sdks[1].ReferenceNumber != "3DS_LOA_SDK_BETA_020200_00002" {
				t.Errorf("sdk list = %+v", sdks)
			}
			mustEnrol(t, dsn, "sdk", "remove", "--ref", "3DS_LOA_SDK_ACME_020301_00001")
			mustJSON(t, mustEnrol(t, dsn, "sdk", "list"), &sdks)
			if len(sdks) != 1 {
				t.Errorf("sdk list after remove = %+v", sdks)
			}

			if _, err := enrol(t, dsn, "range", "add", "--start", "4000000000000500", "--end", "4000000000001500", "--acs", "bank"); err == nil ||
				!strings.Contains(err.Error(), "4000000000000000–4000000000000999") {
				t.Errorf("an overlapping range: %v, want a refusal naming the range it overlaps", err)
			}
			if _, err := enrol(t, dsn, "acs", "remove", "--name", "bank"); err == nil {
				t.Error("an ACS with ranges was removed")
			}
			mustEnrol(t, dsn, "range", "remove", "--start", "4000000000000000")
			mustEnrol(t, dsn, "acs", "remove", "--name", "bank")
			mustEnrol(t, dsn, "3dss", "remove", "--name", "psp")
			mustJSON(t, mustEnrol(t, dsn, "acs", "list"), &acsList)
			if len(acsList) != 0 {
				t.Errorf("acs list after remove = %+v", acsList)
			}
		})
	}
}

func TestEnrolRefusesBadInputNamingTheField(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	cases := []struct {
		name  string
		args  []string
		field string
	}{
		{"an ACS without a URL", []string{"acs", "add", "--name", "bank", "--ref", "R"}, "url"},
		{"a range whose end is shorter than its start", []string{"range", "add", "--start", "4000000000000000", "--end", "400000000000999", "--acs", "x"}, "end"},
		{"a scheme with an unknown stand-in", []string{"scheme", "set", "--stand-in-unavailable", "maybe"}, "standInUnavailable"},
		{"a scheme with an unknown SDK policy", []string{"scheme", "set", "--unknown-sdk", "maybe"}, "unknownSdk"},
		{"a scheme with an unknown device-info format", []string{"scheme", "set", "--device-info", "xml"}, "deviceInfo"},
		{"an SDK without a reference number", []string{"sdk", "add", "--description", "nameless"}, "referenceNumber"},
		{"the removal of an SDK never approved", []string{"sdk", "remove", "--ref", "3DS_LOA_SDK_GHST_020301_00001"}, "not found"},
		{"a change of an ACS that does not exist", []string{"acs", "change", "--name", "ghost", "--url", "https://x.example/"}, "not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := enrol(t, dsn, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("got %v, want an error naming %s", err, tc.field)
			}
		})
	}
	if _, err := enrol(t, "", "acs", "list"); exitCode(err) != 2 {
		t.Errorf("no store: %v, want a usage error", err)
	}
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
}
