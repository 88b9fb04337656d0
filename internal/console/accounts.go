package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/vault"
)

// Access is what an account may do in a console.
type Access string

// The three kinds of account. Each may do what the ones below it may.
const (
	// Admin manages accounts and may make every change.
	Admin Access = "admin"
	// Operator makes the day's changes (unlocking a card, rotating a key) but manages no accounts.
	Operator Access = "operator"
	// ReadOnly sees every page and changes nothing.
	ReadOnly Access = "read-only"
)

// Accesses lists them, strongest first.
var Accesses = []Access{Admin, Operator, ReadOnly}

func (a Access) rank() int {
	switch a {
	case Admin:
		return 3
	case Operator:
		return 2
	case ReadOnly:
		return 1
	}
	return 0
}

// Allows says whether an account with access a may do what needs want.
func (a Access) Allows(want Access) bool { return a.rank() >= want.rank() && want.rank() > 0 }

// ParseAccess checks a name given on a command line or in a form.
func ParseAccess(s string) (Access, error) {
	a := Access(s)
	if a.rank() == 0 {
		return "", fmt.Errorf("must be admin, operator or read-only")
	}
	return a, nil
}

// Account is an operator's account as pages and commands show it. It holds no secret.
type Account struct {
	Name           string     `json:"name"`
	Access         Access     `json:"access"`
	SecondFactor   bool       `json:"secondFactor"` // a TOTP app has been enrolled and confirmed
	FailedAttempts int        `json:"failedAttempts"`
	LockedUntil    *time.Time `json:"lockedUntil,omitempty"`
	Disabled       bool       `json:"disabled"`
	LastSignIn     *time.Time `json:"lastSignIn,omitempty"`
	CreatedAt      time.Time  `json:"createdAt"`
}

// Locked says whether the account is locked out at now.
func (a Account) Locked(now time.Time) bool { return a.LockedUntil != nil && a.LockedUntil.After(now) }

// Accounts keeps a role's console accounts and their sessions in its store.
type Accounts struct {
	db     *store.DB
	vault  *vault.Keyring // seals TOTP secrets; nil stores them as they are
	argon  Argon2Params
	now    func() time.Time
	policy Policy
}

// Policy is the sign-in policy of one console.
type Policy struct {
	// MaxAttempts is how many wrong passwords or codes in a row lock an account.
	MaxAttempts int
	// LockFor is how long a locked account stays locked (an admin may unlock it sooner).
	LockFor time.Duration
	// IdleTimeout ends a session nobody has used for this long; MaxSession ends any session.
	IdleTimeout time.Duration
	MaxSession  time.Duration
	// RequireSecondFactor makes every account enrol a TOTP app at its first sign-in. Without it, an
	// account may still enrol one, and then must use it.
	RequireSecondFactor bool
}

// DefaultPolicy is what a role's console uses unless configured otherwise.
var DefaultPolicy = Policy{MaxAttempts: 5, LockFor: 15 * time.Minute, IdleTimeout: 30 * time.Minute,
	MaxSession: 12 * time.Hour, RequireSecondFactor: true}

// NewAccounts returns the accounts kept in db. keys, when not nil, seal the TOTP secrets.
func NewAccounts(db *store.DB, keys *vault.Keyring, p Policy) *Accounts {
	return &Accounts{db: db, vault: keys, argon: DefaultArgon2, now: time.Now, policy: p}
}

var (
	// ErrExists is Create's answer for a name already taken.
	ErrExists = errors.New("console: an account of that name exists")
	// ErrNoAccount is the answer for a name no account has.
	ErrNoAccount = errors.New("console: no such account")
)

// checkName says what is wrong with an account name, or "".
func checkName(n string) string {
	if n == "" || len(n) > 64 {
		return "must be 1 to 64 characters"
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' || r == '@') {
			return "may hold only lower-case letters, digits and . - _ @"
		}
	}
	return ""
}

// FieldError names the field of a form or a command that is wrong.
type FieldError struct{ Field, Problem string }

func (e *FieldError) Error() string { return e.Field + " " + e.Problem }

// Create adds an account. An empty password makes a random one; the password is returned, to be
// shown once.
func (a *Accounts) Create(ctx context.Context, name string, access Access, password string) (string, error) {
	if p := checkName(name); p != "" {
		return "", &FieldError{"name", p}
	}
	if access.rank() == 0 {
		return "", &FieldError{"access", "must be admin, operator or read-only"}
	}
	if password == "" {
		password = NewPassword()
	} else if p := checkNewPassword(password); p != "" {
		return "", &FieldError{"password", p}
	}
	hash, err := HashPassword(password, a.argon)
	if err != nil {
		return "", err
	}
	now := store.Time(a.now())
	err = a.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, a.db.Rebind(`INSERT INTO console_accounts
			(name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`), name, string(access), hash, now, now)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return "", ErrExists
	}
	return password, err
}

const accountCols = `name, role, totp_confirmed, failed_attempts, locked_until, disabled, last_sign_in, created_at`

func scanAccount(sc interface{ Scan(...any) error }) (Account, error) {
	var ac Account
	var locked, last nullTime
	var confirmed, disabled int
	err := sc.Scan(&ac.Name, &ac.Access, &confirmed, &ac.FailedAttempts, &locked, &disabled, &last, (*store.Time)(&ac.CreatedAt))
	ac.SecondFactor, ac.Disabled = confirmed == 1, disabled == 1
	ac.LockedUntil, ac.LastSignIn = locked.ptr(), last.ptr()
	return ac, err
}

// nullTime scans a time column that may be NULL.
type nullTime struct {
	t     time.Time
	valid bool
}

func (n *nullTime) Scan(src any) error {
	if src == nil {
		n.valid = false
		return nil
	}
	n.valid = true
	return (*store.Time)(&n.t).Scan(src)
}

func (n nullTime) ptr() *time.Time {
	if !n.valid {
		return nil
	}
	t := n.t
	return &t
}

// List returns every account, by name.
func (a *Accounts) List(ctx context.Context) ([]Account, error) {
	rows, err := a.db.Reader().QueryContext(ctx, "SELECT "+accountCols+" FROM console_accounts ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		ac, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ac)
	}
	return out, rows.Err()
}

// Get returns one account.
func (a *Accounts) Get(ctx context.Context, name string) (Account, error) {
	ac, err := scanAccount(a.db.Reader().QueryRowContext(ctx, a.db.Rebind("SELECT "+accountCols+" FROM console_accounts WHERE name = ?"), name))
	if errors.Is(err, sql.ErrNoRows) {
		return ac, ErrNoAccount
	}
	return ac, err
}

// update runs one UPDATE of an account and reports ErrNoAccount when it matched nothing.
func (a *Accounts) update(ctx context.Context, name, set string, args ...any) error {
	return a.db.WithTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, a.db.Rebind("UPDATE console_accounts SET "+set+", updated_at = ? WHERE name = ?"),
			append(args, store.Time(a.now()), name)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNoAccount
		}
		return nil
	})
}

// SetAccess changes what an account may do. Its sessions end, so the change takes effect at once.
func (a *Accounts) SetAccess(ctx context.Context, name string, access Access) error {
	if access.rank() == 0 {
		return &FieldError{"access", "must be admin, operator or read-only"}
	}
	if err := a.update(ctx, name, "role = ?", string(access)); err != nil {
		return err
	}
	return a.EndSessions(ctx, name)
}

// Unlock clears an account's lockout and its count of failures.
func (a *Accounts) Unlock(ctx context.Context, name string) error {
	return a.update(ctx, name, "failed_attempts = 0, locked_until = NULL")
}

// SetDisabled disables an account (ending its sessions) or enables it again.
func (a *Accounts) SetDisabled(ctx context.Context, name string, disabled bool) error {
	if err := a.update(ctx, name, "disabled = ?", boolInt(disabled)); err != nil {
		return err
	}
	if disabled {
		return a.EndSessions(ctx, name)
	}
	return nil
}

// ResetPassword gives an account a new password (random when empty, returned to be shown once),
// clears its lockout and ends its sessions. With secondFactor set the TOTP enrolment is removed as
// well, for an operator who lost the phone; the next sign-in enrols again.
func (a *Accounts) ResetPassword(ctx context.Context, name, password string, secondFactor bool) (string, error) {
	if password == "" {
		password = NewPassword()
	} else if p := checkNewPassword(password); p != "" {
		return "", &FieldError{"password", p}
	}
	hash, err := HashPassword(password, a.argon)
	if err != nil {
		return "", err
	}
	set := "password_hash = ?, failed_attempts = 0, locked_until = NULL"
	if secondFactor {
		set += ", totp_secret = NULL, totp_confirmed = 0, totp_last_step = 0"
	}
	if err := a.update(ctx, name, set, hash); err != nil {
		return "", err
	}
	return password, a.EndSessions(ctx, name)
}

// Delete removes an account and its sessions.
func (a *Accounts) Delete(ctx context.Context, name string) error {
	return a.db.WithTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, a.db.Rebind("DELETE FROM console_sessions WHERE account = ?"), name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, a.db.Rebind("DELETE FROM console_accounts WHERE name = ?"), name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNoAccount
		}
		return nil
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// attempt is what an attempt at a password or a code learns of the account it reserved.
type attempt struct {
	access     Access
	hash       string
	secret     sql.NullString
	confirmed  bool
	lastStep   int64
	lockedNow  bool // this attempt was the last one allowed, and locked the account in advance
	beforeLock int  // failures counted before this attempt
}

// errLocked is what reserve answers for an account that may not try now: locked, disabled or absent.
var errLocked = errors.New("console: account locked, disabled or absent")

// reserve counts one attempt against an account before the password or code is checked, in one
// transaction holding the account's row (FOR UPDATE on PostgreSQL; SQLite's single writer begins
// its transactions IMMEDIATE). So however many attempts arrive at once, no more than MaxAttempts in
// a row are ever checked: the attempt that reaches the limit locks the account as it is reserved,
// and its success (release) unlocks it again. A lock that has run out starts the count afresh.
func (a *Accounts) reserve(ctx context.Context, name string) (attempt, error) {
	var at attempt
	now := a.now()
	lockRow := ""
	if a.db.Dialect() == store.Postgres {
		lockRow = " FOR UPDATE"
	}
	err := a.db.WithTx(ctx, func(tx *sql.Tx) error {
		var failed, confirmed, disabled int
		var locked nullTime
		err := tx.QueryRowContext(ctx, a.db.Rebind(`SELECT role, password_hash, totp_secret, totp_confirmed, totp_last_step,
			failed_attempts, locked_until, disabled FROM console_accounts WHERE name = ?`+lockRow), name).
			Scan(&at.access, &at.hash, &at.secret, &confirmed, &at.lastStep, &failed, &locked, &disabled)
		if errors.Is(err, sql.ErrNoRows) {
			return errLocked
		}
		if err != nil {
			return err
		}
		if disabled == 1 {
			return errLocked
		}
		if locked.valid {
			if locked.t.After(now) {
				return errLocked
			}
			failed = 0 // the lock has run out: a fresh count
		}
		at.confirmed, at.beforeLock = confirmed == 1, failed
		var until any
		if failed+1 >= a.policy.MaxAttempts {
			until, at.lockedNow = store.Time(now.Add(a.policy.LockFor)), true
		}
		_, err = tx.ExecContext(ctx, a.db.Rebind(`UPDATE console_accounts SET failed_attempts = ?, locked_until = ?,
			updated_at = ? WHERE name = ?`), failed+1, until, store.Time(now), name)
		return err
	})
	return at, err
}

// release gives back the attempt a right password used (the count is of failures), or, with
// signedIn set, clears the count after a complete sign-in and notes its time.
func (a *Accounts) release(ctx context.Context, name string, at attempt, signedIn bool) error {
	if signedIn {
		return a.update(ctx, name, "failed_attempts = 0, locked_until = NULL, last_sign_in = ?", store.Time(a.now()))
	}
	return a.update(ctx, name, "failed_attempts = ?, locked_until = NULL", at.beforeLock)
}

// useStep records that a TOTP code of step was accepted, unless that step (or a later one) was
// used already: a code is good once.
func (a *Accounts) useStep(ctx context.Context, name string, step int64) (bool, error) {
	var ok bool
	err := a.db.WithTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, a.db.Rebind(`UPDATE console_accounts SET totp_last_step = ?
			WHERE name = ? AND totp_last_step < ?`), step, name, step)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}

// sealSecret and openSecret keep a TOTP secret at rest: sealed with the role's vault keys when it
// has them ("v:" and the sealed text), as it is otherwise ("p:" and base32).
func (a *Accounts) sealSecret(name string, secret []byte) (string, error) {
	if a.vault == nil {
		return "p:" + b32.EncodeToString(secret), nil
	}
	s, err := a.vault.Seal(secret, vault.AD{Table: "console_accounts", Column: "totp_secret", Row: name})
	return "v:" + s, err
}

func (a *Accounts) openSecret(name, stored string) ([]byte, error) {
	kind, body, _ := strings.Cut(stored, ":")
	switch kind {
	case "p":
		return b32.DecodeString(body)
	case "v":
		if a.vault == nil {
			return nil, errors.New("console: the TOTP secret is sealed and this role has no vault keys")
		}
		return a.vault.Open(body, vault.AD{Table: "console_accounts", Column: "totp_secret", Row: name})
	}
	return nil, errors.New("console: stored TOTP secret has an unknown form")
}

// pendingSecret returns the account's TOTP secret awaiting confirmation, making and storing one when
// it has none. Confirmed secrets are never shown again.
func (a *Accounts) pendingSecret(ctx context.Context, name string) ([]byte, error) {
	var stored sql.NullString
	var confirmed int
	err := a.db.Reader().QueryRowContext(ctx, a.db.Rebind(`SELECT totp_secret, totp_confirmed FROM console_accounts WHERE name = ?`), name).
		Scan(&stored, &confirmed)
	if err != nil {
		return nil, err
	}
	if confirmed == 1 {
		return nil, errors.New("console: the second factor is enrolled already")
	}
	if stored.Valid {
		return a.openSecret(name, stored.String)
	}
	secret := newTOTPSecret()
	sealed, err := a.sealSecret(name, secret)
	if err != nil {
		return nil, err
	}
	// Only an account without a secret gets this one, so two tabs enrolling at once end with one.
	err = a.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, a.db.Rebind(`UPDATE console_accounts SET totp_secret = ? WHERE name = ? AND totp_secret IS NULL`), sealed, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a.pendingSecretStored(ctx, name)
}

func (a *Accounts) pendingSecretStored(ctx context.Context, name string) ([]byte, error) {
	var stored sql.NullString
	if err := a.db.Reader().QueryRowContext(ctx, a.db.Rebind(`SELECT totp_secret FROM console_accounts WHERE name = ?`), name).Scan(&stored); err != nil {
		return nil, err
	}
	if !stored.Valid {
		return nil, errors.New("console: TOTP secret vanished during enrolment")
	}
	return a.openSecret(name, stored.String)
}

// confirmSecret marks the account's TOTP enrolment done.
func (a *Accounts) confirmSecret(ctx context.Context, name string) error {
	return a.update(ctx, name, "totp_confirmed = 1")
}

// ---- sessions ----

// Session is a signed-in (or half signed-in) operator.
type Session struct {
	Account string
	Access  Access
	Stage   string // stageSecondFactor or stageSignedIn
	CSRF    string
	Flash   string
	expires time.Time
	seen    time.Time
	hash    string
}

const (
	stageSecondFactor = "second-factor"
	stageSignedIn     = "signed-in"
)

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func tokenHash(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}

// newSession stores a session and returns its cookie token.
func (a *Accounts) newSession(ctx context.Context, name, stage string) (string, error) {
	tok := randomToken()
	now := a.now()
	err := a.db.WithTx(ctx, func(tx *sql.Tx) error {
		// Expired sessions go as new ones come, so the table stays the size of the sessions in use.
		if _, err := tx.ExecContext(ctx, a.db.Rebind("DELETE FROM console_sessions WHERE expires_at < ?"), store.Time(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, a.db.Rebind(`INSERT INTO console_sessions (token_hash, account, stage, csrf, created_at, last_seen_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), tokenHash(tok), name, stage, randomToken(), store.Time(now), store.Time(now),
			store.Time(now.Add(a.policy.MaxSession)))
		return err
	})
	return tok, err
}

// session finds the live session of a cookie token, or nil. A session unused for IdleTimeout is
// over; its last use is written at most once a minute, so reading pages does not mean a write each.
func (a *Accounts) session(ctx context.Context, tok string) (*Session, error) {
	if tok == "" {
		return nil, nil
	}
	s := &Session{hash: tokenHash(tok)}
	var disabled int
	err := a.db.Reader().QueryRowContext(ctx, a.db.Rebind(`SELECT s.account, a.role, s.stage, s.csrf, s.flash, s.expires_at, s.last_seen_at, a.disabled
		FROM console_sessions s JOIN console_accounts a ON a.name = s.account WHERE s.token_hash = ?`), s.hash).
		Scan(&s.Account, &s.Access, &s.Stage, &s.CSRF, &s.Flash, (*store.Time)(&s.expires), (*store.Time)(&s.seen), &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := a.now()
	if disabled == 1 || !now.Before(s.expires) || now.Sub(s.seen) > a.policy.IdleTimeout {
		return nil, a.endSession(ctx, s.hash)
	}
	if now.Sub(s.seen) > time.Minute || s.Flash != "" {
		err = a.db.WithTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, a.db.Rebind("UPDATE console_sessions SET last_seen_at = ?, flash = '' WHERE token_hash = ?"), store.Time(now), s.hash)
			return err
		})
	}
	return s, err
}

// promote moves a session past the second factor, under a new token: the token that was known
// before the sign-in completed is not the one that carries it.
func (a *Accounts) promote(ctx context.Context, s *Session) (string, error) {
	if err := a.endSession(ctx, s.hash); err != nil {
		return "", err
	}
	return a.newSession(ctx, s.Account, stageSignedIn)
}

func (a *Accounts) setFlash(ctx context.Context, s *Session, msg string) error {
	return a.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, a.db.Rebind("UPDATE console_sessions SET flash = ? WHERE token_hash = ?"), clipFlash(msg), s.hash)
		return err
	})
}

func clipFlash(s string) string {
	if len(s) > 300 {
		return s[:300]
	}
	return s
}

func (a *Accounts) endSession(ctx context.Context, hash string) error {
	return a.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, a.db.Rebind("DELETE FROM console_sessions WHERE token_hash = ?"), hash)
		return err
	})
}

// EndSessions signs an account out everywhere.
func (a *Accounts) EndSessions(ctx context.Context, name string) error {
	return a.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, a.db.Rebind("DELETE FROM console_sessions WHERE account = ?"), name)
		return err
	})
}
