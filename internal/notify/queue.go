package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// State is where a queued message stands.
type State string

// The states of a queued message.
const (
	Queued State = "queued"
	Sent   State = "sent"
	Failed State = "failed"
)

// Status is what the queue knows about one message. It holds the destination masked and never the
// code, so it may be shown to operators and logged.
type Status struct {
	ID      string    `json:"id"`
	State   State     `json:"state"`
	Channel Channel   `json:"channel"` // the channel that carried it, e-mail after a fallback
	To      string    `json:"to"`
	Reason  string    `json:"reason,omitempty"` // why it failed, or why the SMS fell back
	Receipt Receipt   `json:"receipt"`
	Updated time.Time `json:"updated"`
	// FellBack is true when the SMS failed and the code went to the fallback e-mail address.
	FellBack bool `json:"fellBack,omitempty"`
}

// QueueConfig tunes a Queue; zero fields take the defaults named on each.
type QueueConfig struct {
	Workers int           // concurrent deliveries, 4
	Size    int           // messages waiting before Enqueue refuses, 1000
	Timeout time.Duration // per delivery attempt, 30 s
	Keep    int           // statuses remembered, oldest forgotten first, 10000
	Logger  *slog.Logger  // where outcomes go (masked), discarded when nil
}

// Queue sends messages in the background so the caller never waits on a provider.
type Queue struct {
	sender Sender
	cfg    QueueConfig
	log    *slog.Logger
	work   chan Message
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	statuses map[string]*Status
	order    []string
}

// Errors from Enqueue.
var (
	ErrQueueFull   = errors.New("notify: queue full")
	ErrQueueClosed = errors.New("notify: queue closed")
)

// NewQueue starts the workers. sender is usually a Router, so a failed SMS can fall back to the
// e-mail channel of the same configuration.
func NewQueue(sender Sender, cfg QueueConfig) *Queue {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Size <= 0 {
		cfg.Size = 1000
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 10000
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &Queue{sender: sender, cfg: cfg, log: log, work: make(chan Message, cfg.Size), statuses: map[string]*Status{}}
	for range cfg.Workers {
		q.wg.Add(1)
		go q.worker()
	}
	return q
}

// Enqueue accepts m for delivery and returns its id (m.ID, or a new one) at once. It returns
// ErrQueueFull when the queue is full and ErrQueueClosed after Close.
func (q *Queue) Enqueue(m Message) (string, error) {
	if m.ID == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		m.ID = hex.EncodeToString(b[:])
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return "", ErrQueueClosed
	}
	select {
	case q.work <- m:
	default:
		return "", ErrQueueFull
	}
	q.setLocked(Status{ID: m.ID, State: Queued, Channel: m.Channel, To: Mask(m.Channel, m.To)})
	return m.ID, nil
}

// Status returns the status of the message with the given id, if the queue still remembers it.
func (q *Queue) Status(id string) (Status, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s, ok := q.statuses[id]
	if !ok {
		return Status{}, false
	}
	return *s, true
}

// Close stops accepting messages and waits until the queued ones are delivered or ctx ends.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.work)
	}
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (q *Queue) setLocked(s Status) {
	s.Updated = time.Now().UTC()
	if _, ok := q.statuses[s.ID]; !ok {
		q.order = append(q.order, s.ID)
		if len(q.order) > q.cfg.Keep {
			delete(q.statuses, q.order[0])
			q.order = q.order[1:]
		}
	}
	q.statuses[s.ID] = &s
}

func (q *Queue) set(s Status) {
	q.mu.Lock()
	q.setLocked(s)
	q.mu.Unlock()
}

func (q *Queue) worker() {
	defer q.wg.Done()
	for m := range q.work {
		q.set(q.deliver(m))
	}
}

// deliver sends one message and, when an SMS fails and the message names a fallback address,
// sends the same code by e-mail.
func (q *Queue) deliver(m Message) Status {
	st := Status{ID: m.ID, Channel: m.Channel, To: Mask(m.Channel, m.To)}
	rc, err := q.attempt(m)
	if err == nil {
		st.State, st.Receipt = Sent, rc
		q.log.Info("notification sent", "id", m.ID, "channel", m.Channel, "to", st.To, "provider", rc.Provider)
		return st
	}
	reason := scrub(err, m)
	q.log.Warn("notification failed", "id", m.ID, "channel", m.Channel, "to", st.To, "error", reason)
	if m.Channel != SMS || m.FallbackEmail == "" {
		st.State, st.Reason = Failed, reason
		return st
	}
	fb := m
	fb.Channel, fb.To, fb.FallbackEmail = Email, m.FallbackEmail, ""
	rc, fbErr := q.attempt(fb)
	st.Channel, st.To, st.FellBack = Email, Mask(Email, fb.To), true
	if fbErr != nil {
		st.State, st.Reason = Failed, fmt.Sprintf("sms: %s; e-mail fallback: %s", reason, scrub(fbErr, m))
		q.log.Warn("notification fallback failed", "id", m.ID, "to", st.To, "error", scrub(fbErr, m))
		return st
	}
	st.State, st.Receipt, st.Reason = Sent, rc, "sms: "+reason
	q.log.Info("notification sent by e-mail fallback", "id", m.ID, "to", st.To, "provider", rc.Provider)
	return st
}

func (q *Queue) attempt(m Message) (rc Receipt, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), q.cfg.Timeout)
	defer cancel()
	defer func() {
		// A sender that panics fails its message, not the process.
		if p := recover(); p != nil {
			err = fmt.Errorf("notify: sender panicked: %v", p)
		}
	}()
	return q.sender.Send(ctx, m)
}

// scrub turns an error into text fit for a status or a log line: providers echo destinations in
// their refusals ("550 <taro@example.com>: no such user"), so the message's destinations are
// masked and its code removed wherever they appear.
func scrub(err error, m Message) string {
	s := err.Error()
	if m.Code != "" {
		s = strings.ReplaceAll(s, m.Code, "[code]")
	}
	if m.Link != "" {
		s = strings.ReplaceAll(s, m.Link, "[link]")
	}
	for _, d := range []struct {
		ch Channel
		to string
	}{{m.Channel, m.To}, {Email, m.FallbackEmail}} {
		if len(d.to) >= 3 {
			s = strings.ReplaceAll(s, d.to, Mask(d.ch, d.to))
		}
	}
	return s
}
