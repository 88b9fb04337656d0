package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

func TestSnapshotKeepsAValueForItsTTLAndDropsItOnAChange(t *testing.T) {
	ctx := context.Background()
	var s store.Snapshot[int]
	loads := 0
	load := func(context.Context) (int, error) { loads++; return loads, nil }
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	get := func(at time.Time, load func(context.Context) (int, error)) int {
		t.Helper()
		v, err := s.Get(ctx, at, 5*time.Second, load)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := get(t0, load); v != 1 {
		t.Fatalf("first Get = %d, want the first load", v)
	}
	if v := get(t0.Add(4*time.Second), load); v != 1 || loads != 1 {
		t.Errorf("within the TTL: %d after %d loads, want the kept value and no load", v, loads)
	}
	if v := get(t0.Add(5*time.Second), load); v != 2 {
		t.Errorf("at the TTL: %d, want a fresh load", v)
	}
	s.Invalidate()
	if v := get(t0.Add(5*time.Second), load); v != 3 {
		t.Errorf("after Invalidate: %d, want a fresh load", v)
	}

	// A load that read the tables before a change committed must not keep its value afterwards.
	s.Invalidate()
	racing := func(context.Context) (int, error) { s.Invalidate(); return 100, nil }
	if v := get(t0.Add(6*time.Second), racing); v != 100 {
		t.Errorf("the racing load's caller got %d, want its own value", v)
	}
	if v := get(t0.Add(6*time.Second), load); v != 4 {
		t.Errorf("after a load overtaken by a change: %d, want a fresh load, not the racing value", v)
	}

	failed := errors.New("database down")
	s.Invalidate()
	if _, err := s.Get(ctx, t0.Add(7*time.Second), 5*time.Second, func(context.Context) (int, error) { return 0, failed }); !errors.Is(err, failed) {
		t.Errorf("a failed load: %v", err)
	}
	if v := get(t0.Add(7*time.Second), load); v != 5 {
		t.Errorf("after a failed load: %d, want a fresh load", v)
	}
}
