package threedsserver_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

func TestTheRangeCacheFollowsTheDSThroughFullLoadDeltasAnd307(t *testing.T) {
	n := newNetwork(t) // has done the full load
	ctx := context.Background()
	if _, err := n.st.FindRange(ctx, panFrictionless); err != nil {
		t.Fatalf("after the full load the range is missing: %v", err)
	}
	first, err := n.st.CacheState(ctx)
	must(t, err)

	// A range added and one removed at the DS arrive as a delta (A, then D).
	must(t, n.dsStore.AddRange(ctx, dsRange("5500000000000000", "5500000000009999")))
	must(t, n.server.RefreshRanges(ctx))
	if _, err := n.st.FindRange(ctx, panOutside); err != nil {
		t.Fatalf("the added range did not arrive by delta: %v", err)
	}
	must(t, n.dsStore.RemoveRange(ctx, "4000000000000000"))
	must(t, n.server.RefreshRanges(ctx))
	if _, err := n.st.FindRange(ctx, panFrictionless); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the removed range is still cached: %v", err)
	}
	second, err := n.st.CacheState(ctx)
	must(t, err)
	if second.Serial == first.Serial {
		t.Fatal("the serial did not move with the deltas")
	}
	ex, err := n.db.RecentExchanges(ctx, 10)
	must(t, err)
	preqs := 0
	for _, e := range ex {
		if e.MessageType == "PReq" {
			preqs++
		}
	}
	if preqs != 3 {
		t.Fatalf("%d PReqs logged; want 3", preqs)
	}

	// A serial the DS never issued gets 307, and the cache reloads in full.
	second.Serial = "987654"
	must(t, n.st.ApplyRanges(ctx, nil, nil, second))
	must(t, n.server.RefreshRanges(ctx))
	third, err := n.st.CacheState(ctx)
	must(t, err)
	if third.Serial == "987654" || third.Serial == "" {
		t.Fatalf("after 307 the serial is %q; want the DS's current one", third.Serial)
	}
	if _, err := n.st.FindRange(ctx, panOutside); err != nil {
		t.Fatalf("after the full reload the range is missing: %v", err)
	}
}

func TestVersionIsTheHighestOfOursTheDSsAndTheACSs(t *testing.T) {
	tests := []struct {
		name string
		r    threedsserver.Range
		want string
	}{
		{"an ACS up to 2.2.0 gets 2.2.0", threedsserver.Range{ACSStart: "2.1.0", ACSEnd: "2.2.0", DSStart: "2.1.0", DSEnd: "2.3.1"}, "2.2.0"},
		{"an ACS and DS up to 2.3.1 get 2.3.1", threedsserver.Range{ACSStart: "2.1.0", ACSEnd: "2.3.1", DSStart: "2.1.0", DSEnd: "2.3.1"}, "2.3.1"},
		{"a DS range up to 2.1.0 gets 2.1.0", threedsserver.Range{ACSStart: "2.1.0", ACSEnd: "2.3.1", DSStart: "2.1.0", DSEnd: "2.1.0"}, "2.1.0"},
		{"disjoint spans get none", threedsserver.Range{ACSStart: "2.3.1", ACSEnd: "2.3.1", DSStart: "2.1.0", DSEnd: "2.2.0"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := threedsserver.PickVersion(tt.r, "2.1.0", "2.3.1"); got != tt.want {
				t.Fatalf("PickVersion = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestBadMerchantCallsGetAProblemNamingTheField(t *testing.T) {
	n := newNetwork(t)
	st := start(t, n, panFrictionless)
	noCompInd := authenticateBody()
	delete(noCompInd, "threeDSCompInd")
	tests := []struct {
		name, path string
		body       any
		status     int
		field      string
	}{
		{"a card number with letters", "/v1/authentications", map[string]string{"cardNumber": "4000abcd00001000"}, 422, "cardNumber"},
		{"a card number whose check digit is wrong", "/v1/authentications", map[string]string{"cardNumber": "4000 0000 0000 1009"}, 422, "cardNumber"},
		{"an unknown field", "/v1/authentications", `{"cardNumber":"4000000000001000","cvv":"123"}`, 400, "cvv"},
		{"a missing threeDSCompInd", "/v1/authentications/" + st.ID + "/authenticate", noCompInd, 422, "threeDSCompInd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p struct {
				Errors []struct{ Field string } `json:"errors"`
			}
			if code := n.call(t, "POST", tt.path, tt.body, &p); code != tt.status {
				t.Fatalf("HTTP %d; want %d", code, tt.status)
			}
			if len(p.Errors) == 0 || p.Errors[0].Field != tt.field {
				t.Fatalf("problem names %+v; want %s", p.Errors, tt.field)
			}
		})
	}
	if code := callWith(t, n.api.URL, "wrong-key", "GET", "/v1/authentications/"+st.ID, nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("a wrong API key got HTTP %d; want 401", code)
	}
}
