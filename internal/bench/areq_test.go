package bench_test

import (
	"testing"

	"github.com/open3ds/open3ds/internal/bench"
	"github.com/open3ds/open3ds/internal/emv"
)

func benchAReqs(t *testing.T, asDS bool) *bench.AReqs {
	t.Helper()
	a, err := bench.NewAReqs(bench.AReqConfig{Cards: []string{"4000001234567899", "4000002310000003", "4111111111111111"},
		RequestorID: "10075020*SHOPDEMO", RequestorName: "Shop", ThreeDSServerURL: "https://3dss.example/rreq",
		ThreeDSServerRef: "3DSS-REF", AcquirerBIN: "412345", AcquirerMerchantID: "M1", MerchantName: "Shop",
		NotificationURL: "https://shop.example/notify", StampAsDS: asDS, DSReferenceNumber: "DS-REF"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestGeneratedAReqsAreValidInEveryCombination(t *testing.T) {
	for _, asDS := range []bool{false, true} {
		a := benchAReqs(t, asDS)
		seen := map[string]bool{}
		versions, browsers, amounts, cards := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
		for i := range int64(2000) {
			body, id := a.Body(i)
			m, err := emv.ParseAs(body, emv.TypeAReq, nil)
			if err != nil {
				t.Fatalf("AReq %d is invalid: %v\n%s", i, err, body)
			}
			r := m.(*emv.AReq)
			if r.ThreeDSServerTransID != id || seen[id] {
				t.Fatalf("AReq %d: threeDSServerTransID %s, returned %s, seen before %t", i, r.ThreeDSServerTransID, id, seen[id])
			}
			seen[id] = true
			if asDS != (r.DSTransID != "" && r.DSReferenceNumber == "DS-REF") {
				t.Fatalf("AReq %d as the DS sends it %t: dsTransID %q", i, asDS, r.DSTransID)
			}
			versions[r.MessageVersion], browsers[r.BrowserUserAgent], amounts[r.PurchaseAmount], cards[r.AcctNumber] = true, true, true, true
		}
		if len(versions) != 2 || len(browsers) != len(bench.Browsers) || len(amounts) != len(bench.Amounts) || len(cards) != 3 {
			t.Errorf("2000 AReqs used %d versions, %d browsers, %d amounts, %d cards", len(versions), len(browsers), len(amounts), len(cards))
		}
	}
}

func TestGeneratedAReqsTakeTheCardsInTurn(t *testing.T) {
	a := benchAReqs(t, false)
	want := []string{"4000001234567899", "4000002310000003", "4111111111111111"}
	for i := range int64(9) {
		body, _ := a.Body(i)
		m, err := emv.ParseAs(body, emv.TypeAReq, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.(*emv.AReq).AcctNumber; got != want[i%3] {
			t.Errorf("AReq %d went to the card ending %s, want the one ending %s", i, got[12:], want[i%3][12:])
		}
	}
}
