package threedsserver_test

import (
	"context"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
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
