package httpx

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// RequireToken lets a request through only when it carries token as "Authorization: Bearer …"; any
// other request gets a 401 problem naming the realm. With inLink set the token may also come as the
// token query parameter, for a page a person opens from a link (the demo prints one for its
// development outbox); the page's own relative links and refreshes then keep it. Both sides are
// hashed before the comparison, so that it takes the same time whatever the token's length, and an
// empty token admits nobody.
func RequireToken(realm, token string, inLink bool) Middleware {
	want := sha256.Sum256([]byte(token))
	deny := API(func(http.ResponseWriter, *http.Request) error {
		return NewProblem(http.StatusUnauthorized, "a valid bearer token is required")
	})
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok && inLink {
				q := r.URL.Query()
				got, ok = q.Get("token"), q.Has("token")
			}
			sum := sha256.Sum256([]byte(got))
			if !ok || token == "" || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
				deny.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
