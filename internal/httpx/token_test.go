package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/httpx"
)

func TestRequireTokenAdmitsOnlyTheTokenWhereItMayCome(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	tests := []struct {
		name, token string
		inLink      bool
		target      string
		auth        string
		want        int
	}{
		{"the bearer token is admitted", "tok", false, "/", "Bearer tok", http.StatusNoContent},
		{"a wrong bearer token is not", "tok", false, "/", "Bearer tak", http.StatusUnauthorized},
		{"a longer one that starts with it is not", "tok", false, "/", "Bearer token", http.StatusUnauthorized},
		{"the token under another scheme is not", "tok", false, "/", "Basic tok", http.StatusUnauthorized},
		{"no header is not", "tok", false, "/", "", http.StatusUnauthorized},
		{"the token in the link is not, unless links may carry it", "tok", false, "/?token=tok", "", http.StatusUnauthorized},
		{"the token in the link is admitted where links may carry it", "tok", true, "/?token=tok", "", http.StatusNoContent},
		{"a wrong token in the link is not", "tok", true, "/?token=tak", "", http.StatusUnauthorized},
		{"an empty token admits nobody, even asked with none", "", false, "/", "Bearer ", http.StatusUnauthorized},
		{"nor through an empty link parameter", "", true, "/?token=", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.target, nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			httpx.RequireToken("test-realm", tt.token, tt.inLink)(ok).ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status %d; want %d", w.Code, tt.want)
			}
			if got := w.Header().Get("WWW-Authenticate"); tt.want == http.StatusUnauthorized && !strings.Contains(got, `realm="test-realm"`) {
				t.Errorf("WWW-Authenticate %q does not name the realm", got)
			}
		})
	}
}
