package threedsserver

import (
	"context"
	"time"
)

// Store is what the 3DS Server keeps. Implementations return errors wrapping store.ErrNotFound for
// an unknown merchant, key, range or transaction and store.ErrConflict for a duplicate id.
type Store interface {
	AddMerchant(ctx context.Context, m Merchant, keyHash string) error
	// ChangeMerchant replaces m's fields (not its key); a non-empty keyHash replaces the key.
	ChangeMerchant(ctx context.Context, m Merchant, keyHash string) error
	RemoveMerchant(ctx context.Context, id string) error
	Merchant(ctx context.Context, id string) (Merchant, error)
	MerchantByKey(ctx context.Context, keyHash string) (Merchant, error)
	// MerchantKeyHash returns the merchant and the digest of its API key, which signs its webhooks.
	MerchantKeyHash(ctx context.Context, id string) (Merchant, string, error)
	ListMerchants(ctx context.Context) ([]Merchant, error)

	// FindRange returns the cached range holding pan.
	FindRange(ctx context.Context, pan string) (Range, error)
	// CacheState returns the cache's bookkeeping; ErrNotFound before the first load.
	CacheState(ctx context.Context) (CacheState, error)
	// ReplaceRanges swaps the whole cache for ranges (a full PRes).
	ReplaceRanges(ctx context.Context, ranges []Range, st CacheState) error
	// ApplyRanges applies a delta: add and modify upsert, delete removes.
	ApplyRanges(ctx context.Context, upsert []Range, remove []string, st CacheState) error
	// ClaimRefresh moves the next refresh to next if it is due at now, so that of several
	// instances only one sends the PReq; it reports whether this caller won.
	ClaimRefresh(ctx context.Context, now, next time.Time) (bool, error)

	CreateTransaction(ctx context.Context, t Transaction) error
	Transaction(ctx context.Context, id string) (Transaction, error)
	// UpdateTransaction writes every mutable field of t.
	UpdateTransaction(ctx context.Context, t Transaction) error
	// ClaimAReq moves a started transaction to StateSending as of at, so that of two concurrent
	// authenticate calls only one sends the AReq; the other gets ErrNotFound.
	ClaimAReq(ctx context.Context, id string, at time.Time) error
	// FinishAReq is UpdateTransaction for the exchange that claimed t: it writes only while t is
	// still in StateSending, and returns ErrNotFound once the sweeper has ended it.
	FinishAReq(ctx context.Context, t Transaction) error
	// StuckInSending returns up to limit transactions that entered StateSending before before,
	// oldest first.
	StuckInSending(ctx context.Context, before time.Time, limit int) ([]string, error)
	// EndStuck ends transaction id with the error code and detail if it is still in StateSending
	// since before before; otherwise (another sweeper or the exchange came first) ErrNotFound.
	EndStuck(ctx context.Context, id string, before, now time.Time, code, detail string) error
	// MarkMethodDone notes that the 3DS Method of id completed.
	MarkMethodDone(ctx context.Context, id string) error
}
