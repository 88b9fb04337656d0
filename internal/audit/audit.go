// Package audit keeps the record of every change an operator makes to a role: from its console, from
// the command line or through its admin API. Each role's store holds its own log (the audit_log
// table); a change is recorded once it has been made, with who made it, by which way, what it was
// and what it changed. The log holds no card data and no secret: callers pass masked references.
package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os/user"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/store"
)

// The ways a change reaches a role.
const (
	ViaConsole = "console"
	ViaCLI     = "cli"
	ViaAPI     = "api"
)

// Entry is one change.
type Entry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`  // the console account, the operating-system user, or "api"
	Via    string    `json:"via"`    // ViaConsole, ViaCLI or ViaAPI
	Action string    `json:"action"` // a short dotted verb: "cardholder.unlock", "account.create"
	Target string    `json:"target"` // what changed: a cardholder reference, a merchant id, an account
	Detail string    `json:"detail"` // free text; never card data or secrets
	Remote string    `json:"remote,omitempty"`
}

// Log writes and reads a role's audit log.
type Log struct {
	db  *store.DB
	now func() time.Time
}

// New returns the log kept in db.
func New(db *store.DB) *Log { return &Log{db: db, now: time.Now} }

// limits keep one entry's text bounded whatever a caller passes.
const (
	maxField  = 200
	maxDetail = 2000
)

// Record appends e, stamping its time. It fails only when the store does; a caller that has made the
// change already should log that failure loudly rather than undo the change.
func (l *Log) Record(ctx context.Context, e Entry) error {
	if e.Actor == "" || e.Via == "" || e.Action == "" {
		return errors.New("audit: an entry needs an actor, a way and an action")
	}
	e.At = l.now()
	// Whatever a caller passes (a name typed into the sign-in form, an API path), a card number
	// never reaches the table whole: digit runs as long as a PAN are masked, as in the logs.
	e.Actor, e.Target, e.Detail = logx.RedactText(e.Actor), logx.RedactText(e.Target), logx.RedactText(e.Detail)
	return l.db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, l.db.Rebind(`INSERT INTO audit_log (at, actor, via, action, target, detail, remote)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), store.Time(e.At), clip(e.Actor, maxField), e.Via, clip(e.Action, maxField),
			clip(e.Target, maxField), clip(e.Detail, maxDetail), clip(e.Remote, maxField))
		return err
	})
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut at a rune boundary so the stored text stays valid UTF-8.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// Filter narrows List. Zero fields match everything.
type Filter struct {
	Actor  string
	Via    string
	Action string // a prefix: "cardholder." matches every cardholder change
	Target string
	Before int64 // entries with a smaller id only: the next page after the last id shown
	Limit  int   // at most this many, newest first; 0 means 50, and more than 500 is cut to 500
}

// List returns entries newest first.
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Via != "" {
		add("via = ?", f.Via)
	}
	if f.Action != "" {
		add("action LIKE ? ESCAPE '\\'", likePrefix(f.Action))
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if f.Before > 0 {
		add("id < ?", f.Before)
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = 50
	case limit > 500:
		limit = 500
	}
	q := "SELECT id, at, actor, via, action, target, detail, remote FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit)
	rows, err := l.db.Reader().QueryContext(ctx, l.db.Rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, (*store.Time)(&e.At), &e.Actor, &e.Via, &e.Action, &e.Target, &e.Detail, &e.Remote); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// likePrefix escapes LIKE's wildcards in p and matches everything that starts with it.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}

// CLIActor names the person running a command: the operating-system user, or "unknown" when the
// system cannot say. OPEN3DS_ACTOR overrides it, for a wrapper script that knows better (a jump host
// that runs commands on behalf of named people).
func CLIActor(getenv func(string) string) string {
	if a := strings.TrimSpace(getenv("OPEN3DS_ACTOR")); a != "" {
		return a
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

// API wraps an admin API so that every change it makes is recorded: each request that is not a read
// (GET, HEAD, OPTIONS) and that succeeds (a 2xx answer) leaves an entry naming its route and the
// path it changed. actor names the caller: the admin API has one bearer token per role, so it is the
// token's name rather than a person. action maps a route pattern ("POST /v1/cardholders/{id}/unlock")
// to the entry's action; nil uses the pattern itself.
func (l *Log) API(actor string, log func(error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				next.ServeHTTP(w, r)
				return
			}
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			if sw.status < 200 || sw.status > 299 {
				return
			}
			e := Entry{Actor: actor, Via: ViaAPI, Action: apiAction(r), Target: r.URL.Path, Remote: r.RemoteAddr}
			// The change is made: its record must be written even if the caller has gone.
			if err := l.Record(context.WithoutCancel(r.Context()), e); err != nil && log != nil {
				log(err)
			}
		})
	}
}

// apiAction names an API change by its method and route pattern, which (unlike the path) holds no
// identifier: "PUT /v1/cardholders/{id}".
func apiAction(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return r.Method + " " + r.URL.Path
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
