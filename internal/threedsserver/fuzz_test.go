package threedsserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

func FuzzDecodeMethodData(f *testing.F) {
	f.Add(emv.EncodeBase64URL([]byte(`{"threeDSServerTransID":"3dfc51f7-a5f7-440a-b848-ab95222dd6c8"}`)))
	f.Add("e30=")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := threedsserver.DecodeMethodData(s)
		if err == nil && len(id) != 36 {
			t.Fatalf("accepted id %q", id)
		}
	})
}

func FuzzDecodeNotification(f *testing.F) {
	f.Add(emv.EncodeBase64URL([]byte(`{"messageType":"CRes","messageVersion":"2.2.0","threeDSServerTransID":"3dfc51f7-a5f7-440a-b848-ab95222dd6c8","acsTransID":"0c25afb2-246f-40c3-a162-9c82c19d3c90","challengeCompletionInd":"Y","transStatus":"Y"}`)))
	f.Add("eyJtZXNzYWdlVHlwZSI6IkVycm8ifQ")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, s string) {
		threedsserver.DecodeNotification(s)
	})
}

// FuzzTakeRReq feeds RReq bodies to the decode path on an empty store: every one must end in an
// *emv.Error (the transaction is unknown at best), never a panic or an RRes.
func FuzzTakeRReq(f *testing.F) {
	f.Add([]byte(`{"messageType":"RReq","messageVersion":"2.2.0","threeDSServerTransID":"3dfc51f7-a5f7-440a-b848-ab95222dd6c8","acsTransID":"0c25afb2-246f-40c3-a162-9c82c19d3c90","dsTransID":"d2b3d9c9-22e8-49c1-965f-257e4c61034a","messageCategory":"01","transStatus":"Y","authenticationType":"02","authenticationValue":"rmnQPKCl8XaSeYOGgHda6HFbyYg=","eci":"05","interactionCounter":"01"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`not json`))
	s := threedsserver.NewServer(threedsserver.Config{Store: emptyStore{}})
	f.Fuzz(func(t *testing.T, body []byte) {
		rres, err := s.TakeRReq(context.Background(), body)
		if err == nil || rres != nil || emv.AsError(err) == nil {
			t.Fatalf("TakeRReq = %v, %v; want an *emv.Error", rres, err)
		}
	})
}

// merchantStore knows one merchant and no range or transaction, and stores nothing: a start that
// passes every check fails at CreateTransaction, before anything is sent.
type merchantStore struct{ emptyStore }

func (merchantStore) MerchantByKey(context.Context, string) (threedsserver.Merchant, error) {
	return testMerchant("shop"), nil
}

func (merchantStore) FindRange(context.Context, string) (threedsserver.Range, error) {
	return threedsserver.Range{}, store.ErrNotFound
}

func (merchantStore) CacheState(context.Context) (threedsserver.CacheState, error) {
	return threedsserver.CacheState{}, store.ErrNotFound
}

func (merchantStore) CreateTransaction(context.Context, threedsserver.Transaction) error {
	return errors.New("fuzz: nothing is stored")
}

// FuzzStartRequest feeds start bodies (browser, app, 3RI, non-payment) to the merchant API: every
// answer is JSON, and a 3RI, whose prior no store here knows, is always refused as the merchant's
// mistake (4xx), never a panic or a 5xx.
func FuzzStartRequest(f *testing.F) {
	f.Add([]byte(`{"channel":"3ri","cardNumber":"4000000000001000","threeRIInd":"recurring","amount":"999","currency":"978","priorAuthentication":{"id":"3dfc51f7-a5f7-440a-b848-ab95222dd6c8"},"recurring":{"expiry":"20991231","frequency":30}}`))
	f.Add([]byte(`{"channel":"3ri","cardNumber":"4000000000001000","threeRIInd":"13","messageCategory":"non-payment","priorAuthentication":{"id":"x"},"recurring":{"amountInd":"fixed","date":"20990230"},"instalments":1}`))
	f.Add([]byte(`{"cardNumber":"4000000000001000","messageCategory":"02"}`))
	f.Add([]byte(`{}`))
	h := threedsserver.NewServer(threedsserver.Config{Store: merchantStore{}}).MerchantHandler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/v1/authentications", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer key")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answered %d with no JSON: %q", rec.Code, rec.Body.Bytes())
		}
		var in struct {
			Channel string `json:"channel"`
		}
		if json.Unmarshal(body, &in) == nil && in.Channel == "3ri" && (rec.Code < 400 || rec.Code >= 500) {
			t.Fatalf("a 3RI start with no known prior answered %d: %s", rec.Code, rec.Body.Bytes())
		}
	})
}
