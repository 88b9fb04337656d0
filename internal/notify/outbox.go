package notify

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Outbox is the development "delivery": it keeps the last messages in memory and shows them on a
// page, code included, so a demo needs no phone and no mail server. It must never be configured
// for real cardholders, because showing the code is its whole purpose.
type Outbox struct {
	mu      sync.Mutex
	limit   int
	entries []OutboxEntry // oldest first
	now     func() time.Time
}

// OutboxEntry is one message as the outbox shows it.
type OutboxEntry struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Channel Channel   `json:"channel"`
	To      string    `json:"to"` // masked
	Subject string    `json:"subject,omitempty"`
	Text    string    `json:"text"`
	Code    string    `json:"code"`
	// Link is a decoupled authentication's approval link, for the developer to open.
	Link          string `json:"link,omitempty"`
	TransactionID string `json:"transactionId,omitempty"`
	dest          string // the full destination as sameDest writes it, only to filter on
}

// NewOutbox returns an outbox keeping the last limit messages (100 when limit ≤ 0).
func NewOutbox(limit int) *Outbox {
	if limit <= 0 {
		limit = 100
	}
	return &Outbox{limit: limit, now: time.Now}
}

// Send implements Sender for both channels.
func (o *Outbox) Send(_ context.Context, m Message) (Receipt, error) {
	rc := Receipt{Channel: m.Channel, Provider: "outbox", ProviderID: m.ID, To: Mask(m.Channel, m.To)}
	if m.Channel != SMS && m.Channel != Email {
		return rc, ErrUnsupportedChannel
	}
	r, err := Render(m)
	if err != nil {
		return rc, err
	}
	e := OutboxEntry{ID: m.ID, Time: o.now().UTC(), Channel: m.Channel, To: rc.To, Code: m.Code, Link: m.Link,
		TransactionID: m.TransactionID, dest: sameDest(m.To), Text: r.SMS}
	if m.Channel == Email {
		e.Subject, e.Text = r.Subject, r.Text
	}
	o.mu.Lock()
	o.entries = append(o.entries, e)
	if over := len(o.entries) - o.limit; over > 0 {
		o.entries = append([]OutboxEntry(nil), o.entries[over:]...)
	}
	o.mu.Unlock()
	return rc, nil
}

// Messages returns the kept messages, newest first; a non-empty to keeps only those sent to that
// destination, compared without spaces, dashes or letter case ("+81 90-1234-5678" finds
// "+819012345678").
func (o *Outbox) Messages(to string) []OutboxEntry {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := []OutboxEntry{}
	want := sameDest(to)
	for i := len(o.entries) - 1; i >= 0; i-- {
		if to == "" || o.entries[i].dest == want {
			out = append(out, o.entries[i])
		}
	}
	return out
}

// Handler serves the outbox page at "GET /" and the JSON list at "GET /outbox.json?to=…" relative
// to wherever it is mounted (use http.StripPrefix).
func (o *Outbox) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /outbox.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"messages": o.Messages(r.URL.Query().Get("to"))})
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = outboxPage.Execute(w, o.Messages(r.URL.Query().Get("to")))
	})
	return mux
}

var outboxPage = template.Must(template.New("outbox").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Development outbox</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.4em;text-align:left;vertical-align:top}.code{font-family:monospace;font-size:1.3em}</style>
</head><body>
<h1>Development outbox</h1>
<p>Messages that would have gone to cardholders, newest first. For development only.</p>
{{if .}}<table><tr><th>Time (UTC)</th><th>Channel</th><th>To</th><th>Code</th><th>Text</th></tr>
{{range .}}<tr><td>{{.Time.Format "15:04:05"}}</td><td>{{.Channel}}</td><td>{{.To}}</td><td class="code">{{if .Link}}<a class="link" href="{{.Link}}">Open the approval page</a>{{else}}{{.Code}}{{end}}</td><td>{{if .Subject}}<strong>{{.Subject}}</strong><br>{{end}}<pre>{{.Text}}</pre></td></tr>
{{end}}</table>{{else}}<p>No messages yet.</p>{{end}}
</body></html>
`))

// destPunctuation is what people type inside phone numbers and the outbox ignores when it matches one.
var destPunctuation = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "")

func sameDest(s string) string {
	return strings.ToLower(destPunctuation.Replace(s))
}
