package threedsserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/threedsserver"
)

// An instance that has never loaded the DS's card ranges cannot say whether a card is enrolled, so
// it is not ready; once a list is in the store it is, on every instance sharing the store.
func TestThe3DSServerIsReadyOnlyOnceCardRangesAreLoaded(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := threedsserver.NewSQLStore(b.open(t))
			srv := threedsserver.NewServer(threedsserver.Config{Store: st})
			ctx := context.Background()
			if err := srv.RangesReady(ctx); err == nil || !strings.Contains(err.Error(), "no card ranges") {
				t.Fatalf("before the first PReq: %v, want not ready naming the card ranges", err)
			}
			rng := threedsserver.Range{Start: "4000000000000000", End: "4000009999999999", ACSStart: "2.2.0", ACSEnd: "2.2.0",
				DSStart: "2.2.0", DSEnd: "2.2.0"}
			if err := st.ReplaceRanges(ctx, []threedsserver.Range{rng}, threedsserver.CacheState{Serial: "1", DSStart: "2.2.0",
				DSEnd: "2.2.0", Refresh: time.Hour, LoadedAt: time.Now(), NextAt: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if err := threedsserver.NewServer(threedsserver.Config{Store: st}).RangesReady(ctx); err != nil {
				t.Fatalf("after a PReq loaded the ranges, another instance on the store: %v", err)
			}
		})
	}
}
