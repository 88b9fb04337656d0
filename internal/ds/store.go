package ds

import (
	"context"
	"time"
)

// Store is the registry and transaction memory the DS needs. Implementations return errors that
// wrap store.ErrNotFound for an unknown name, start or transaction, store.ErrConflict for a
// duplicate, and *httpx.Problem for a change the registry refuses (an overlapping range, an unknown
// ACS, an ACS that still has ranges, a requestor id that belongs to another 3DS Server).
type Store interface {
	Scheme(ctx context.Context) (Scheme, error)
	// SetScheme stores s's settings (not its serial) and returns the scheme as stored.
	SetScheme(ctx context.Context, s Scheme) (Scheme, error)
	// SetStandIn changes the scheme's two stand-in policies alone and returns the scheme before and
	// after, read under the same lock, so that the change's record says what it replaced.
	SetStandIn(ctx context.Context, notEnrolled, unavailable Policy) (before, after Scheme, err error)

	AddACS(ctx context.Context, a ACS) error
	ChangeACS(ctx context.Context, a ACS) error
	RemoveACS(ctx context.Context, name string) error
	ACS(ctx context.Context, name string) (ACS, error)
	ListACS(ctx context.Context) ([]ACS, error)

	AddThreeDSServer(ctx context.Context, s ThreeDSServer) error
	ChangeThreeDSServer(ctx context.Context, s ThreeDSServer) error
	RemoveThreeDSServer(ctx context.Context, name string) error
	ThreeDSServer(ctx context.Context, name string) (ThreeDSServer, error)
	ListThreeDSServers(ctx context.Context) ([]ThreeDSServer, error)

	AddRange(ctx context.Context, r Range) error
	ChangeRange(ctx context.Context, r Range) error
	RemoveRange(ctx context.Context, start string) error
	// FindRange returns the range holding pan (ranges never overlap), or ErrNotFound.
	FindRange(ctx context.Context, pan string) (Range, error)
	// Ranges returns every range and the serial they are current at, from one snapshot.
	Ranges(ctx context.Context) ([]Range, int64, error)
	// RangesSince returns the changes after serial, one per range (A, M or D), and the current
	// serial; it returns ErrNotFound for a serial the DS never issued.
	RangesSince(ctx context.Context, serial int64) ([]RangeChange, int64, error)

	// PacePReq admits a PReq from server at now when the last admitted one is at least every old,
	// or when full is true and the server is owed a reload after an Erro 307; it then records now.
	// It returns false, changing nothing, for a PReq that comes too soon.
	PacePReq(ctx context.Context, server string, now time.Time, every time.Duration, full bool) (bool, error)
	// OweReload notes that server's PReq got Erro 307, so that its next full PReq is admitted at once.
	OweReload(ctx context.Context, server string) error

	// AddSDK approves an SDK (ErrConflict when it already is); RemoveSDK withdraws the approval
	// (ErrNotFound when there was none); SDK finds one by its reference number (ErrNotFound).
	AddSDK(ctx context.Context, k SDK) error
	RemoveSDK(ctx context.Context, referenceNumber string) error
	SDK(ctx context.Context, referenceNumber string) (SDK, error)
	ListSDKs(ctx context.Context) ([]SDK, error)

	CreateTransaction(ctx context.Context, t Transaction) error
	Transaction(ctx context.Context, dsTransID string) (Transaction, error)
}

// RangeChange is one range's change in a PRes delta.
type RangeChange struct {
	Action string // A, M or D
	Range  Range
}

// Transaction is what the DS remembers of an AReq it answered: enough to route the RReq and to
// check that it comes from the ACS the AReq went to.
type Transaction struct {
	DSTransID            string
	ThreeDSServerTransID string
	ACSTransID           string
	ACS                  string // empty when the DS stood in
	ThreeDSServer        string
	ThreeDSServerURL     string
	MessageVersion       string
	MessageCategory      string
	DeviceChannel        string
	MaskedPAN            string
	Outcome              string // the ARes transStatus, or "Erro"
	CreatedAt            time.Time
}
