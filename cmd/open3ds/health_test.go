package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
)

// Every role's admin listener answers the orchestrator's two questions: the demo's DS, ACS and 3DS
// Server are live, and ready with their store (and, for the 3DS Server, the DS's card ranges) there.
func TestEveryRoleAnswersLivenessAndReadinessOnItsAdminListener(t *testing.T) {
	d := startTestDemo(t, filepath.Join(t.TempDir(), "open3ds-data"), 0)
	for _, c := range []struct {
		role, base string
		checks     []string
	}{{"DS", d.net.urls.DSAdmin, []string{"store"}}, {"ACS", d.net.urls.ACSAdmin, []string{"store"}},
		{"3DS Server", d.net.urls.TDSSAdmin, []string{"store", "card_ranges"}}} {
		for _, path := range []string{"/livez", "/readyz"} {
			resp, err := http.Get(c.base + path)
			if err != nil {
				t.Fatal(err)
			}
			var ans struct {
				Status string            `json:"status"`
				Checks map[string]string `json:"checks"`
			}
			err = json.NewDecoder(resp.Body).Decode(&ans)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("%s %s: %d %v", c.role, path, resp.StatusCode, err)
				continue
			}
			if path == "/readyz" {
				for _, name := range c.checks {
					if ans.Status != "ready" || ans.Checks[name] != "ok" {
						t.Errorf("%s /readyz: %+v, want ready with %s ok", c.role, ans, name)
					}
				}
			}
		}
	}
}
