package ds_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

func TestAdminAPIRoundTripsOnEveryBackend(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(ds.NewAdmin(ds.NewSQLStore(b.open(t)), "tok").Handler())
			defer srv.Close()
			call := func(method, path, body string) (int, string) {
				req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer tok")
				resp, err := http.DefaultClient.Do(req)
				must(t, err)
				defer resp.Body.Close()
				data, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(data)
			}
			rng := `{"end":"4000000000009999","acs":"bank","acsStartProtocolVersion":"2.1.0","acsEndProtocolVersion":"2.3.1",
				"dsStartProtocolVersion":"2.1.0","dsEndProtocolVersion":"2.3.1"}`
			steps := []struct {
				name, method, path, body string
				status                   int
				contains                 string
			}{
				{"a scheme with a bad ECI gets a problem naming it", "PUT", "/v1/scheme", `{"dsId":"F000000001","referenceNumber":"R",
					"eci":{"Y":"5","A":"06","N":"07"},"standInNotEnrolled":"attempts","standInUnavailable":"unavailable"}`, 422, `"eci.Y"`},
				{"a body that is not JSON gets a problem", "POST", "/v1/acs", `{`, 400, ""},
				{"a range for an unknown ACS gets a problem naming acs", "POST", "/v1/ranges", `{"start":"4000000000000000",` + rng[1:], 422, `"acs"`},
				{"an ACS is added", "POST", "/v1/acs", `{"name":"bank","referenceNumber":"R","url":"https://acs.example/"}`, 201, ""},
				{"the ACS reads back", "GET", "/v1/acs/bank", "", 200, `"url":"https://acs.example/"`},
				{"a range is added", "POST", "/v1/ranges", `{"start":"4000000000000000",` + rng[1:], 201, ""},
				{"a 3DS Server is added", "POST", "/v1/3dss", `{"name":"psp","referenceNumber":"R","requestorIds":["A"]}`, 201, ""},
				{"its requestors are replaced", "PUT", "/v1/3dss/psp", `{"referenceNumber":"R","requestorIds":["B","C"]}`, 200, ""},
				{"the 3DS Server reads back", "GET", "/v1/3dss/psp", "", 200, `"requestorIds":["B","C"]`},
				{"a repeated requestor id gets a problem", "PUT", "/v1/3dss/psp", `{"referenceNumber":"R","requestorIds":["B","B"]}`, 422, "requestorIds"},
				{"an ACS with ranges cannot go", "DELETE", "/v1/acs/bank", "", 409, "remove them first"},
				{"the range goes", "DELETE", "/v1/ranges/4000000000000000", "", 204, ""},
				{"then the ACS goes", "DELETE", "/v1/acs/bank", "", 204, ""},
				{"and is gone", "GET", "/v1/acs/bank", "", 404, ""},
				{"the serial counts every change", "GET", "/v1/scheme", "", 200, `"serial":6`},
				{"the scheme refuses unknown SDKs by default", "GET", "/v1/scheme", "", 200, `"unknownSdk":"reject"`},
				{"an SDK is approved", "POST", "/v1/sdks", `{"referenceNumber":"3DS_LOA_SDK_ACME_020301_00001","description":"Acme SDK"}`, 201, ""},
				{"an SDK approved twice gets a conflict", "POST", "/v1/sdks", `{"referenceNumber":"3DS_LOA_SDK_ACME_020301_00001"}`, 409, ""},
				{"an SDK reference over 32 characters gets a problem", "POST", "/v1/sdks", `{"referenceNumber":"` + strings.Repeat("X", 33) + `"}`, 422, "referenceNumber"},
				{"the approved SDKs list", "GET", "/v1/sdks", "", 200, `[{"referenceNumber":"3DS_LOA_SDK_ACME_020301_00001","description":"Acme SDK"}]`},
				{"one SDK reads back", "GET", "/v1/sdks/3DS_LOA_SDK_ACME_020301_00001", "", 200, `"Acme SDK"`},
				{"the SDK's approval is withdrawn", "DELETE", "/v1/sdks/3DS_LOA_SDK_ACME_020301_00001", "", 204, ""},
				{"and it is gone", "GET", "/v1/sdks/3DS_LOA_SDK_ACME_020301_00001", "", 404, ""},
				{"an SDK change leaves the range serial alone", "GET", "/v1/scheme", "", 200, `"serial":6`},
				{"the scheme's app settings are checked", "PUT", "/v1/scheme", `{"dsId":"F000000001","referenceNumber":"R",
					"eci":{"Y":"05","A":"06","N":"07"},"standInNotEnrolled":"attempts","standInUnavailable":"unavailable",
					"unknownSdk":"maybe","deviceInfo":"xml"}`, 422, `"unknownSdk"`},
				{"a scheme written without the app settings gets their defaults", "PUT", "/v1/scheme", `{"dsId":"F000000001","referenceNumber":"R",
					"eci":{"Y":"05","A":"06","N":"07"},"standInNotEnrolled":"attempts","standInUnavailable":"unavailable"}`, 200,
					`"unknownSdk":"reject","deviceInfo":"base64url"`},
			}
			for _, st := range steps {
				status, body := call(st.method, st.path, st.body)
				if status != st.status || !strings.Contains(body, st.contains) {
					t.Errorf("%s: got %d %s, want %d containing %s", st.name, status, body, st.status, st.contains)
				}
			}
		})
	}
}

func TestAdminAPIRefusesEveryCallWithoutItsToken(t *testing.T) {
	db := storetest.OpenSQLite(t)
	for _, tc := range []struct {
		name, configured, auth string
	}{
		{"no Authorization header", "tok", ""},
		{"a wrong token", "tok", "Bearer nope"},
		{"the token without the Bearer scheme", "tok", "tok"},
		{"an API built with no token, asked with none", "", "Bearer "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(ds.NewAdmin(ds.NewSQLStore(db), tc.configured).Handler())
			defer srv.Close()
			for _, path := range []string{"/v1/scheme", "/v1/sdks"} {
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				resp, err := http.DefaultClient.Do(req)
				must(t, err)
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "open3ds-ds-admin") {
					t.Errorf("GET %s answered %d (WWW-Authenticate %q); want 401 naming the realm", path, resp.StatusCode,
						resp.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
}
