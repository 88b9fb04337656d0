// Package storetest is the contract every store back end must meet, written once and run against
// SQLite and PostgreSQL alike, plus helpers that give any package's tests a fresh store of either
// kind: OpenSQLite, OpenPostgres and the DSN helpers behind them.
package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// Run checks the behaviour of every store method against the back end open gives. open must
// return a fresh, migrated, empty store for each call (OpenSQLite and OpenPostgres do); the checks
// run in parallel, each on a store of its own.
func Run(t *testing.T, open func(t *testing.T) *store.DB) {
	t.Helper()
	groups := [][]check{exchangeChecks, txChecks, groupChecks, leaseChecks}
	for _, g := range groups {
		for _, c := range g {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				c.fn(t, open(t))
			})
		}
	}
}

// check is one behaviour of the contract; its name reads as a sentence.
type check struct {
	name string
	fn   func(t *testing.T, db *store.DB)
}

// base is a fixed instant with a non-zero microsecond part, so that precision loss would show.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

// sample returns a complete exchange of one transaction, every field set.
func sample(id, transID string, startedAt time.Time) store.Exchange {
	return store.Exchange{
		ID:                   id,
		Role:                 store.RoleDS,
		Direction:            store.In,
		Peer:                 "3dss-acme",
		MessageType:          "AReq",
		ResponseType:         "ARes",
		ThreeDSServerTransID: transID,
		DSTransID:            "f25084f0-5b16-4c0a-ae5d-b24808a95e4b",
		ACSTransID:           "13c701a3-5a88-4c45-89e9-ef65e50a8bf9",
		SDKTransID:           "b2385523-a66c-4907-ac3c-91848e8c0067",
		MaskedPAN:            "400000******1091",
		MessageVersion:       "2.2.0",
		Outcome:              "C",
		ErrorCode:            "",
		ErrorComponent:       "",
		StartedAt:            startedAt,
		Duration:             1234 * time.Microsecond,
	}
}

// DiffExchange describes how got differs from want, field by field, or returns "" when they match.
// Times must be equal instants, and got's must be in UTC.
func DiffExchange(got, want store.Exchange) string {
	var b strings.Builder
	f := func(name string, g, w any) {
		if g != w {
			fmt.Fprintf(&b, "\n  %s: got %q, want %q", name, g, w)
		}
	}
	f("ID", got.ID, want.ID)
	f("Role", got.Role, want.Role)
	f("Direction", got.Direction, want.Direction)
	f("Peer", got.Peer, want.Peer)
	f("MessageType", got.MessageType, want.MessageType)
	f("ResponseType", got.ResponseType, want.ResponseType)
	f("ThreeDSServerTransID", got.ThreeDSServerTransID, want.ThreeDSServerTransID)
	f("DSTransID", got.DSTransID, want.DSTransID)
	f("ACSTransID", got.ACSTransID, want.ACSTransID)
	f("SDKTransID", got.SDKTransID, want.SDKTransID)
	f("MaskedPAN", got.MaskedPAN, want.MaskedPAN)
	f("MessageVersion", got.MessageVersion, want.MessageVersion)
	f("Outcome", got.Outcome, want.Outcome)
	f("ErrorCode", got.ErrorCode, want.ErrorCode)
	f("ErrorComponent", got.ErrorComponent, want.ErrorComponent)
	if !got.StartedAt.Equal(want.StartedAt) {
		fmt.Fprintf(&b, "\n  StartedAt: got %s, want %s", got.StartedAt.Format(time.RFC3339Nano), want.StartedAt.Format(time.RFC3339Nano))
	}
	if got.StartedAt.Location() != time.UTC {
		fmt.Fprintf(&b, "\n  StartedAt: in %s, want UTC", got.StartedAt.Location())
	}
	if got.Duration != want.Duration {
		fmt.Fprintf(&b, "\n  Duration: got %s, want %s", got.Duration, want.Duration)
	}
	return b.String()
}
