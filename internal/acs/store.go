package acs

import (
	"context"
	"errors"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// PANVault seals PANs at rest and makes the keyed hash they are looked up by. The vault package's
// Keyring does this, through Vault; the interface keeps the store's needs to these four methods.
type PANVault interface {
	// Seal encrypts pan bound to its place (table, column, row) and says which key sealed it.
	Seal(pan string, place Place) (sealed string, keyID int, err error)
	// Open decrypts a sealed value at its place, with whichever key sealed it.
	Open(sealed string, place Place) (string, error)
	// Current is the id of the key Seal uses now.
	Current() int
	// LookupHash is the keyed hash of pan the store searches by.
	LookupHash(pan string) string
}

// Place is where a sealed value lives; sealing binds it, so a value copied to another row or column
// does not open.
type Place struct{ Table, Column, Row string }

// Store is what the ACS keeps. Methods return errors wrapping store.ErrNotFound, store.ErrConflict
// or ErrInvalid (a *FieldError naming the field) for the caller to tell apart; their text never
// holds a PAN.
type Store interface {
	CreateIssuer(ctx context.Context, is Issuer) error
	UpdateIssuer(ctx context.Context, is Issuer) error
	Issuer(ctx context.Context, id string) (Issuer, error)
	Issuers(ctx context.Context) ([]Issuer, error)
	DeleteIssuer(ctx context.Context, id string) error
	// IssuerForPAN finds the issuer whose card range holds pan.
	IssuerForPAN(ctx context.Context, pan string) (Issuer, error)

	// CreateCardholder seals the PAN and returns the account with its new id.
	CreateCardholder(ctx context.Context, c Cardholder) (Cardholder, error)
	// UpdateCardholder changes everything but the PAN and the issuer of the account c.ID names.
	UpdateCardholder(ctx context.Context, c Cardholder) error
	Cardholder(ctx context.Context, id string) (Cardholder, error)
	CardholderByPAN(ctx context.Context, pan string) (Cardholder, error)
	// LookupHash is the keyed hash the store finds a PAN by, as kept in transactions.
	LookupHash(pan string) string
	// Cardholders lists one issuer's accounts (every issuer's when issuerID is empty), PANs masked.
	Cardholders(ctx context.Context, issuerID string) ([]Cardholder, error)
	DeleteCardholder(ctx context.Context, id string) error

	SaveDeviceData(ctx context.Context, d DeviceData) error
	DeviceData(ctx context.Context, threeDSServerTransID string) (DeviceData, error)

	// History counts what the risk engine needs to know about a card's recent past.
	History(ctx context.Context, panHash, deviceKey string, now time.Time) (History, error)
	// CardForAReq reads the cardholder, what the 3DS Method stored under methodID ("" for none) and
	// the card's History in one go, by the PAN's lookup hash; a card not enrolled is
	// store.ErrNotFound. fallbackKey is the device key when the Method stored none.
	CardForAReq(ctx context.Context, panHash, methodID, fallbackKey string, now time.Time) (CardFacts, error)
	// RecordAReq keeps a decided AReq, all in one database transaction; it returns ErrConflict for
	// an acsTransID seen before.
	RecordAReq(ctx context.Context, r AReqRecord) error
	Transaction(ctx context.Context, acsTransID string) (Transaction, error)
	// TransactionPAN opens the PAN a transaction was recorded with.
	TransactionPAN(ctx context.Context, acsTransID string) (string, error)
	// UseAuthValue marks the transaction's authentication value used at now and reports whether it
	// had been used before.
	UseAuthValue(ctx context.Context, acsTransID string, now time.Time) (usedBefore bool, err error)
	// TransactionsForPAN lists a card's transactions with an authentication value, newest first.
	TransactionsForPAN(ctx context.Context, panHash string, limit int) ([]Transaction, error)

	// EndTransaction records how an authentication ended and queues its RReq in the same
	// transaction. It returns ErrConflict when the authentication had already ended.
	EndTransaction(ctx context.Context, end Ended, rreq OutboxRow) error
	// LeaseRReqs takes up to n unsent RReqs that are due and not leased by another sender.
	LeaseRReqs(ctx context.Context, owner string, now time.Time, lease time.Duration, n int) ([]OutboxRow, error)
	// RReqSent marks a row delivered; RReqFailed records a failed attempt and when to try again.
	// Both name the row as leased (its Seq and LeaseOwner): an attempt at an interim RReq that a
	// final one replaced meanwhile marks nothing and frees the row for the final one at once.
	RReqSent(ctx context.Context, row OutboxRow, resultsStatus string, now time.Time) error
	RReqFailed(ctx context.Context, row OutboxRow, why string, next time.Time) error
	// Outbox reads one row, for tests and operators.
	Outbox(ctx context.Context, acsTransID string) (OutboxRow, error)

	// Rotate re-seals up to limit PANs that another key sealed under the vault's current key and
	// says how many it re-sealed; 0 means none is left.
	Rotate(ctx context.Context, limit int) (int, error)
}

// DeviceData is what the 3DS Method gathered of a browser, keyed by the transaction it preceded.
type DeviceData struct {
	ThreeDSServerTransID string
	// DeviceKey identifies the device across transactions (a hash of its stable traits).
	DeviceKey string
	// IP is the address the 3DS Method page was loaded from.
	IP        string
	Data      string
	CreatedAt time.Time
}

// CardFacts is what an AReq reads of its card: the cardholder, the card's history and the 3DS
// Method's findings (Method, when MethodRan).
type CardFacts struct {
	Cardholder Cardholder
	History    History
	MethodRan  bool
	Method     DeviceData
}

// History is the card's recent past as the store sees it: counts over its latest transactions, at
// most SQLStore's HistoryWindow of them.
type History struct {
	TxLastHour, TxLastDay int
	FailedChallenges24h   int
	DeviceKnown           bool
	// UsualAmountMax is the largest amount (minor units) of the card's last 90 days' successful
	// authentications.
	UsualAmountMax int64
}

// Transaction is one AReq the ACS decided, as stored before the ARes leaves.
type Transaction struct {
	ACSTransID           string
	ThreeDSServerTransID string
	DSTransID            string
	SDKTransID           string
	IssuerID             string
	CardholderID         string
	PANHash              string
	MaskedPAN            string
	// PAN is the card number, sealed on writing; it is empty on reading (Open it when needed).
	PAN             string
	MessageVersion  string
	MessageCategory string
	DeviceChannel   string
	// DSURL is where the RReq goes: the dsURL the DS stamped on the AReq.
	DSURL string
	// Amount is in minor units; an amount too large for int64 is kept as the largest int64.
	Amount          int64
	Currency        string
	Merchant        string
	DeviceKey       string
	RiskScore       int
	Reasons         []string
	LiveDecision    string
	ShadowDecision  string
	TransStatus     string
	Reason          string
	ECI             string
	AuthValue       string
	ChallengeFailed bool
	AuthValueUsedAt time.Time
	CreatedAt       time.Time
	EndedAt         time.Time
	// RiskInput is what the risk engine saw, nil when it did not score the AReq (no issuer, a
	// blocked or unenrolled card). It is sealed on writing, for the backtest, and not read back
	// with the transaction (Replays reads it).
	RiskInput *RiskInput

	// RequestorID is the AReq's threeDSRequestorID: a 3RI must come from the requestor that ran
	// the prior authentication it names.
	RequestorID string
	// ThreeRIInd is a 3RI AReq's threeRIInd; PriorRef the acsTransID of the prior authentication it
	// named (threeDSReqPriorRef), "" for none.
	ThreeRIInd, PriorRef string
	// The recurring limits the AReq set: recurringExpiry (YYYYMMDD), recurringFrequency (days, 0 for
	// none), recurringAmount (minor units, -1 for none), whether the amount is fixed (2.3.1's
	// recurringInd.amountInd 01) and purchaseInstalData (0 for none).
	RecurringExpiry    string
	RecurringFrequency int
	RecurringAmount    int64
	RecurringFixed     bool
	InstalCount        int
	// LinkedCount is how many 3RI authentications this one has backed as their prior, LinkedLastAt
	// when the latest was; both are read, never written, through Transaction (see PriorLink).
	LinkedCount  int
	LinkedLastAt time.Time
}

// PriorLink is the mark a 3RI authentication leaves on the prior authentication it was authenticated
// against. RecordAReq writes it in the same commit as the 3RI's row; when Limited, only if the prior
// has still backed SeenCount 3RIs (as the decision read it), so that two 3RIs racing on one
// recurring or instalment agreement cannot both pass its frequency or count limit: the loser gets
// ErrPriorChanged.
type PriorLink struct {
	PriorRef  string
	SeenCount int
	Limited   bool
	At        time.Time
}

// ErrPriorChanged is RecordAReq's answer when a PriorLink's prior changed since it was read.
var ErrPriorChanged = errors.New("acs: the prior authentication backed another 3RI meanwhile")

// AReqRecord is what one decided AReq leaves in the store. It is written in one commit, before the
// ARes leaves, so that an answered AReq is never found half recorded.
type AReqRecord struct {
	Transaction Transaction
	// Challenge is the browser challenge the ARes opens (transStatus C); nil for any other answer.
	Challenge *ChallengeRow
	// App is the app side of an app challenge (Challenge is set too); nil for any other answer.
	App *AppRow
	// Decoupled is the decoupled request an ARes D opens; nil for any other answer.
	Decoupled *DecoupledRow
	// Exchange is the AReq's row in the message-exchange log; nil when the log is not kept.
	Exchange *store.Exchange
	// Link is the 3RI's mark on its prior authentication; nil for any other AReq.
	Link *PriorLink
}

// Ended is the end of an authentication as the transaction records it.
type Ended struct {
	ACSTransID      string
	TransStatus     string
	Reason          string
	ECI             string
	AuthValue       string
	ChallengeFailed bool
	At              time.Time
	// Challenge, when set, is the browser challenge's final state, written in the same commit; if
	// the challenge changed since it was read (its version), nothing is written and the answer is
	// ErrConflict.
	Challenge *ChallengeRow
}

// OutboxRow is one RReq waiting for (or past) delivery to the DS.
type OutboxRow struct {
	ACSTransID    string
	URL           string
	Body          []byte
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	ResultsStatus string
	SentAt        time.Time
	// Seq counts the RReqs the row has carried: 1, or 2 once a final RReq replaced an interim
	// RReq D (2.3.1 decoupled fallback). Sent and failed attempts name the Seq they sent.
	Seq int
	// Interim is true while the row holds an interim RReq D.
	Interim bool
	// LeaseOwner is the lease a sender took the row under.
	LeaseOwner string
}
