package threedsserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/threedsserver"
)

func TestAFinalResultIsPostedToTheMerchantsWebhookSignedWithItsKey(t *testing.T) {
	n := newNetwork(t)
	got := make(chan *http.Request, 1)
	bodies := make(chan []byte, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer hook.Close()
	key, hash := threedsserver.NewAPIKey()
	m := testMerchant("hooked")
	m.WebhookURL = hook.URL + "/3ds-result"
	must(t, n.st.AddMerchant(context.Background(), m, hash))

	var st threedsserver.StartResponse
	callWith(t, n.api.URL, key, "POST", "/v1/authentications", map[string]string{"cardNumber": panFrictionless}, &st)
	callWith(t, n.api.URL, key, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), nil)
	select {
	case r := <-got:
		body := <-bodies
		sig := r.Header.Get(threedsserver.SignatureHeader)
		ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
		sec, _ := strconv.ParseInt(ts, 10, 64)
		if want := threedsserver.Sign(threedsserver.HashAPIKey(key), time.Unix(sec, 0), body); sig != want {
			t.Fatalf("signature %q; want %q", sig, want)
		}
		var res threedsserver.Result
		must(t, json.Unmarshal(body, &res))
		if res.ID != st.ID || res.TransStatus != "Y" || !res.Final {
			t.Fatalf("webhook body = %s", body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook arrived")
	}
}
