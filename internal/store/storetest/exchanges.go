package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

var exchangeChecks = []check{
	{"a recorded exchange reads back field for field", func(t *testing.T, db *store.DB) {
		want := sample("e1", "tx-1", base)
		want.ErrorCode, want.ErrorComponent, want.Outcome, want.ResponseType = "203", "D", "Erro", "Erro"
		mustRecord(t, db, want)
		got := mustByTransID(t, db, "tx-1")
		if len(got) != 1 {
			t.Fatalf("got %d exchanges, want 1", len(got))
		}
		if d := DiffExchange(got[0], want); d != "" {
			t.Errorf("exchange read back differs:%s", d)
		}
	}},
	{"times come back in UTC truncated to the microsecond", func(t *testing.T, db *store.DB) {
		india := time.FixedZone("IST", 5*3600+1800)
		started := time.Date(2025, 1, 2, 3, 4, 5, 123456789, india)
		e := sample("e1", "tx-1", started)
		e.Duration = 2*time.Millisecond + 789*time.Nanosecond
		mustRecord(t, db, e)
		got := mustByTransID(t, db, "tx-1")[0]
		if want := time.Date(2025, 1, 1, 21, 34, 5, 123456000, time.UTC); !got.StartedAt.Equal(want) || got.StartedAt.Location() != time.UTC {
			t.Errorf("StartedAt = %s, want %s", got.StartedAt.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
		}
		if got.Duration != 2*time.Millisecond {
			t.Errorf("Duration = %s, want 2ms", got.Duration)
		}
	}},
	{"an exchange without optional fields reads back with them empty", func(t *testing.T, db *store.DB) {
		want := store.Exchange{ID: "e1", Role: store.RoleACS, Direction: store.Out, Peer: "ds",
			MessageType: "RReq", ThreeDSServerTransID: "tx-1", Outcome: "timeout", StartedAt: base}
		mustRecord(t, db, want)
		if d := DiffExchange(mustByTransID(t, db, "tx-1")[0], want); d != "" {
			t.Errorf("exchange read back differs:%s", d)
		}
	}},
	{"an exchange without an id gets a fresh random one", func(t *testing.T, db *store.DB) {
		mustRecord(t, db, sample("", "tx-1", base))
		mustRecord(t, db, sample("", "tx-1", base.Add(time.Second)))
		got := mustByTransID(t, db, "tx-1")
		if len(got) != 2 || len(got[0].ID) != 36 || len(got[1].ID) != 36 || got[0].ID == got[1].ID {
			t.Errorf("ids = %q, want two different UUIDs", ids(got))
		}
	}},
	{"recording an id twice is a conflict and keeps the first", func(t *testing.T, db *store.DB) {
		mustRecord(t, db, sample("e1", "tx-1", base))
		err := db.RecordExchange(context.Background(), sample("e1", "tx-2", base))
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second record: err = %v, want ErrConflict", err)
		}
		if got := mustByTransID(t, db, "tx-2"); len(got) != 0 {
			t.Errorf("the conflicting exchange was stored")
		}
	}},
	{"the store refuses a masked PAN showing more than ten digits, without repeating it", testMaskedPAN},
	{"the store refuses an exchange missing what it must say", testRequiredFields},
	{"exchanges by transaction come oldest first and only for that transaction", func(t *testing.T, db *store.DB) {
		mustRecord(t, db, sample("b", "tx-1", base.Add(2*time.Microsecond)))
		mustRecord(t, db, sample("other", "tx-2", base.Add(time.Microsecond)))
		mustRecord(t, db, sample("a", "tx-1", base))
		mustRecord(t, db, sample("c", "tx-1", base.Add(time.Hour)))
		if got := ids(mustByTransID(t, db, "tx-1")); strings.Join(got, ",") != "a,b,c" {
			t.Errorf("ids = %q, want [a b c]", got)
		}
	}},
	{"a transaction the store has not seen has no exchanges", func(t *testing.T, db *store.DB) {
		mustRecord(t, db, sample("a", "tx-1", base))
		if got := mustByTransID(t, db, "tx-unknown"); len(got) != 0 {
			t.Errorf("got %d exchanges, want none", len(got))
		}
	}},
	{"looking up an empty transaction id is invalid", func(t *testing.T, db *store.DB) {
		if _, err := db.ExchangesByTransID(context.Background(), ""); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("err = %v, want ErrInvalid", err)
		}
	}},
	{"recent exchanges come newest first, at most the limit", func(t *testing.T, db *store.DB) {
		for i, id := range []string{"e0", "e1", "e2", "e3"} {
			mustRecord(t, db, sample(id, "tx-"+id, base.Add(time.Duration(i)*time.Microsecond)))
		}
		got, err := db.RecentExchanges(context.Background(), 3)
		if err != nil {
			t.Fatal(err)
		}
		if g := strings.Join(ids(got), ","); g != "e3,e2,e1" {
			t.Errorf("ids = %s, want e3,e2,e1", g)
		}
	}},
	{"a recent-exchanges limit outside 1 to MaxRecent is invalid", func(t *testing.T, db *store.DB) {
		for _, limit := range []int{0, -1, store.MaxRecent + 1} {
			if _, err := db.RecentExchanges(context.Background(), limit); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("limit %d: err = %v, want ErrInvalid", limit, err)
			}
		}
		if _, err := db.RecentExchanges(context.Background(), store.MaxRecent); err != nil {
			t.Errorf("limit MaxRecent: %v", err)
		}
	}},
}

func testMaskedPAN(t *testing.T, db *store.DB) {
	tests := []struct {
		name, pan string
		ok        bool
	}{
		{"the first six and last four masked with stars are kept", "400000******1091", true},
		{"a masked PAN with spaces is kept", "4000 00** **** 1091", true},
		{"fewer digits than allowed are kept", "****1091", true},
		{"a whole PAN is refused", "4000000000001091", false},
		{"a PAN with one digit too many shown is refused", "4000001*****1091", false},
		{"a whole PAN with spaces is refused", "4000 0000 0000 1091", false},
		{"digits from another script count as digits", "400000١٢٣٤١091", false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			transID := "tx-" + string(rune('a'+i))
			e := sample("", transID, base)
			e.MaskedPAN = tc.pan
			err := db.RecordExchange(context.Background(), e)
			stored := len(mustByTransID(t, db, transID)) > 0
			switch {
			case tc.ok && err != nil:
				t.Fatalf("err = %v, want it kept", err)
			case !tc.ok && !errors.Is(err, store.ErrInvalid):
				t.Fatalf("err = %v, want ErrInvalid", err)
			case !tc.ok && stored:
				t.Fatalf("the refused exchange was stored")
			case !tc.ok && (strings.Contains(err.Error(), tc.pan) || strings.Contains(err.Error(), "1091")):
				t.Fatalf("the error repeats the PAN: %v", err)
			}
		})
	}
}

func testRequiredFields(t *testing.T, db *store.DB) {
	tests := []struct {
		name  string
		spoil func(e *store.Exchange)
	}{
		{"an unknown role", func(e *store.Exchange) { e.Role = "merchant" }},
		{"an unknown direction", func(e *store.Exchange) { e.Direction = "sideways" }},
		{"no peer", func(e *store.Exchange) { e.Peer = "" }},
		{"no message type", func(e *store.Exchange) { e.MessageType = "" }},
		{"no outcome", func(e *store.Exchange) { e.Outcome = "" }},
		{"no start time", func(e *store.Exchange) { e.StartedAt = time.Time{} }},
		{"a negative duration", func(e *store.Exchange) { e.Duration = -time.Microsecond }},
		{"an unknown error component", func(e *store.Exchange) { e.ErrorComponent = "X" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := sample("", "tx-"+tc.name, base)
			tc.spoil(&e)
			if err := db.RecordExchange(context.Background(), e); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
			if got := mustByTransID(t, db, "tx-"+tc.name); len(got) != 0 {
				t.Errorf("the refused exchange was stored")
			}
		})
	}
}

func mustRecord(t *testing.T, db *store.DB, e store.Exchange) {
	t.Helper()
	if err := db.RecordExchange(context.Background(), e); err != nil {
		t.Fatalf("record exchange %q: %v", e.ID, err)
	}
}

func mustByTransID(t *testing.T, db *store.DB, transID string) []store.Exchange {
	t.Helper()
	got, err := db.ExchangesByTransID(context.Background(), transID)
	if err != nil {
		t.Fatalf("exchanges of %s: %v", transID, err)
	}
	return got
}

func ids(es []store.Exchange) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}
