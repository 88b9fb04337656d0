package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/open3ds/open3ds/internal/ids"
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
	// Observe, when set, is told of each message once it is sent or has failed for good, on the
	// worker that delivered it, so that a store can record the outcome off the shopper's request.
	// The worker waits for it: it should be quick and bound its own time. A panic in it is logged.
	Observe func(Delivery)
}

// Outcome is how one provider's try at a message ended.
type Outcome string

// The outcomes of a try.
const (
	OutcomeSent     Outcome = "sent"
	OutcomeFailed   Outcome = "failed"
	OutcomeTimedOut Outcome = "timed_out" // the provider did not answer within QueueConfig.Timeout
	// OutcomeFellBack is an SMS that failed (in any way) when the message named a fallback
	// address: the code went on by e-mail, in the next try.
	OutcomeFellBack Outcome = "fell_back"
)

// Attempt is one provider's try at a message. It holds neither the destination nor the
// provider's words, which may quote it: only a class of error.
type Attempt struct {
	Channel Channel
	// Provider names the sender that took or refused the message ("smtp", "smpp", …), empty when
	// the message failed before reaching one (no sender for its channel).
	Provider string
	Outcome  Outcome
	// ErrorClass says why a failed try failed, as ErrorClass words it; empty when sent.
	ErrorClass        string
	Started, Finished time.Time
}

// Delivery is what the queue reports to QueueConfig.Observe about a message it is done with.
type Delivery struct {
	ID            string
	TransactionID string
	Queued        time.Time
	// Attempts are the tries in order: one, or two when an SMS fell back to e-mail. The last one's
	// outcome is the message's.
	Attempts []Attempt
}

// State is the message's final state, Sent or Failed.
func (d Delivery) State() State {
	if n := len(d.Attempts); n > 0 && d.Attempts[n-1].Outcome == OutcomeSent {
		return Sent
	}
	return Failed
}

// Queue sends messages in the background so the caller never waits on a provider.
type Queue struct {
	sender Sender
	cfg    QueueConfig
	log    *slog.Logger
	work   chan queued
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
	q := &Queue{sender: sender, cfg: cfg, log: log, work: make(chan queued, cfg.Size), statuses: map[string]*Status{}}
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
		m.ID = ids.Token(12)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return "", ErrQueueClosed
	}
	select {
	case q.work <- queued{m, time.Now()}:
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

// queued is a message waiting for a worker, with the time it was accepted.
type queued struct {
	m  Message
	at time.Time
}

func (q *Queue) worker() {
	defer q.wg.Done()
	for w := range q.work {
		d := Delivery{ID: w.m.ID, TransactionID: w.m.TransactionID, Queued: w.at}
		q.set(q.deliver(w.m, &d))
		q.observe(d)
	}
}

// observe hands d to the observer; a panicking observer costs its record, not the worker.
func (q *Queue) observe(d Delivery) {
	if q.cfg.Observe == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			q.log.Error("notification observer panicked", "id", d.ID, "panic", fmt.Sprint(p))
		}
	}()
	q.cfg.Observe(d)
}

// deliver sends one message and, when an SMS fails and the message names a fallback address,
// sends the same code by e-mail. It adds each try to d.
func (q *Queue) deliver(m Message, d *Delivery) Status {
	st := Status{ID: m.ID, Channel: m.Channel, To: Mask(m.Channel, m.To)}
	rc, err := q.try(m, d)
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
	d.Attempts[len(d.Attempts)-1].Outcome = OutcomeFellBack
	rc, fbErr := q.try(fb, d)
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

// try makes one attempt and adds it to d.
func (q *Queue) try(m Message, d *Delivery) (Receipt, error) {
	a := Attempt{Channel: m.Channel, Started: time.Now()}
	rc, err := q.attempt(m)
	a.Finished, a.Provider = time.Now(), rc.Provider
	switch a.ErrorClass = ErrorClass(err); {
	case err == nil:
		a.Outcome = OutcomeSent
	case a.ErrorClass == ClassTimeout:
		a.Outcome = OutcomeTimedOut
	default:
		a.Outcome = OutcomeFailed
	}
	d.Attempts = append(d.Attempts, a)
	return rc, err
}

func (q *Queue) attempt(m Message) (rc Receipt, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), q.cfg.Timeout)
	defer cancel()
	defer func() {
		// A sender that panics fails its message, not the process.
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errPanicked, p)
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

// The classes of error ErrorClass gives: fixed words, safe to store and show, as a provider's own
// text may quote the destination.
const (
	ClassTimeout     = "timeout"             // no answer within the time allowed
	ClassUnreachable = "unreachable"         // no connection to the provider
	ClassRejected    = "rejected"            // the provider refused the message for good
	ClassUnsupported = "unsupported_channel" // no sender carries the message's channel
	ClassPanic       = "sender_panic"        // the sender panicked
	ClassTemporary   = "temporary"           // any other failure, which a later try may not repeat
)

var errPanicked = errors.New("notify: sender panicked")

// ErrorClass sorts a sender's error into one of the classes above, or the class an error in its
// chain names with a DeliveryClass() string method (a router of the caller's own failing before
// any provider); "" for nil.
func ErrorClass(err error) string {
	var classed interface{ DeliveryClass() string }
	var ne net.Error
	var op *net.OpError
	var pe *PermanentError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &classed):
		return classed.DeliveryClass()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ClassTimeout
	case errors.Is(err, errPanicked):
		return ClassPanic
	case errors.Is(err, ErrUnsupportedChannel):
		return ClassUnsupported
	case errors.As(err, &op) && op.Op == "dial":
		return ClassUnreachable
	case errors.As(err, &pe):
		return ClassRejected
	}
	return ClassTemporary
}
