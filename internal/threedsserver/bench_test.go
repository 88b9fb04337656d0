package threedsserver_test

import (
	"net/http"
	"testing"

	"github.com/open3ds/open3ds/internal/threedsserver"
)

// BenchmarkFrictionlessThroughTheMerchantAPI measures one whole frictionless purchase as a merchant
// sees it: start, then authenticate through the real DS (mutual TLS) to the test ACS, on SQLite.
func BenchmarkFrictionlessThroughTheMerchantAPI(b *testing.B) {
	n := newNetwork(b)
	body := authenticateBody()
	b.ResetTimer()
	for b.Loop() {
		var st threedsserver.StartResponse
		if code := n.call(b, "POST", "/v1/authentications", map[string]string{"cardNumber": panFrictionless}, &st); code != http.StatusCreated {
			b.Fatalf("start: %d", code)
		}
		var res threedsserver.Result
		if n.call(b, "POST", "/v1/authentications/"+st.ID+"/authenticate", body, &res); res.TransStatus != "Y" {
			b.Fatalf("authenticate: %+v", res)
		}
	}
}
