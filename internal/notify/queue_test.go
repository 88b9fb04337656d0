package notify_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/notify"
)

// waitFor polls the queue until the message leaves the queued state.
func waitFor(t *testing.T, q *notify.Queue, id string) notify.Status {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if st, ok := q.Status(id); ok && st.State != notify.Queued {
			return st
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("message %s still queued", id)
	return notify.Status{}
}

var errGateway = errors.New("gateway said 503")

func TestQueueStatusesAndFallback(t *testing.T) {
	failingSMS := notify.SenderFunc(func(context.Context, notify.Message) (notify.Receipt, error) {
		return notify.Receipt{}, errGateway
	})
	cases := []struct {
		name         string
		sms          notify.Sender
		fallback     string
		want         notify.State
		fellBack     bool
		outboxTo     string
		reasonSubstr string
	}{
		{"a delivered SMS is sent", nil, "", notify.Sent, false, "+81 90 1234 5678", ""},
		{"a failed SMS without a fallback address fails with the reason", failingSMS, "", notify.Failed, false, "", "503"},
		{"a failed SMS with a fallback address goes by e-mail", failingSMS, "taro@example.jp", notify.Sent, true, "taro@example.jp", "503"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			outbox := notify.NewOutbox(10)
			sms := tc.sms
			if sms == nil {
				sms = outbox
			}
			var logs bytes.Buffer
			q := notify.NewQueue(notify.Router{notify.SMS: sms, notify.Email: outbox},
				notify.QueueConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			defer q.Close(context.Background())
			m := message(notify.SMS, "+81 90 1234 5678")
			m.FallbackEmail = tc.fallback
			id, err := q.Enqueue(m)
			if err != nil {
				t.Fatal(err)
			}
			st := waitFor(t, q, id)
			if st.State != tc.want || st.FellBack != tc.fellBack || !strings.Contains(st.Reason, tc.reasonSubstr) {
				t.Fatalf("status = %+v", st)
			}
			if tc.fellBack && (st.Channel != notify.Email || st.To != "t•••@example.jp") {
				t.Fatalf("fallback status = %+v", st)
			}
			got := outbox.Messages("")
			if tc.outboxTo == "" && len(got) != 0 || tc.outboxTo != "" && (len(got) != 1 || len(outbox.Messages(tc.outboxTo)) != 1) {
				t.Fatalf("outbox = %+v", got)
			}
			if strings.Contains(logs.String(), m.Code) || strings.Contains(logs.String(), "1234 5678") || strings.Contains(logs.String(), "taro@") {
				t.Fatalf("the log reveals the code or a destination:\n%s", logs.String())
			}
		})
	}
}

func TestEnqueueNeverWaitsForTheSender(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{}, 10)
	slow := notify.SenderFunc(func(ctx context.Context, m notify.Message) (notify.Receipt, error) {
		started <- struct{}{}
		<-release
		return notify.Receipt{Provider: "slow"}, nil
	})
	q := notify.NewQueue(slow, notify.QueueConfig{Workers: 1, Size: 2})
	defer q.Close(context.Background())
	var ids []string
	enqueue := func() error {
		id, err := q.Enqueue(message(notify.SMS, "+81 90 1234 5678"))
		if err == nil {
			ids = append(ids, id)
		}
		return err
	}
	// The worker takes the first message and hangs in the sender; two more wait in the buffer and
	// the fourth is refused at once instead of blocking the caller.
	if err := enqueue(); err != nil {
		t.Fatal(err)
	}
	<-started
	for range 2 {
		if err := enqueue(); err != nil {
			t.Fatal(err)
		}
	}
	if err := enqueue(); !errors.Is(err, notify.ErrQueueFull) {
		t.Fatalf("fourth enqueue: %v, want ErrQueueFull", err)
	}
	if st, ok := q.Status(ids[0]); !ok || st.State != notify.Queued {
		t.Fatalf("status while the sender is busy = %+v", st)
	}
	close(release)
	for _, id := range ids {
		if st := waitFor(t, q, id); st.State != notify.Sent || st.Receipt.Provider != "slow" {
			t.Fatalf("status = %+v", st)
		}
	}
}

func TestAHungSenderTimesOut(t *testing.T) {
	hung := notify.SenderFunc(func(ctx context.Context, m notify.Message) (notify.Receipt, error) {
		<-ctx.Done()
		return notify.Receipt{}, ctx.Err()
	})
	q := notify.NewQueue(hung, notify.QueueConfig{Timeout: 20 * time.Millisecond})
	id, _ := q.Enqueue(message(notify.Email, "a@example.com"))
	if st := waitFor(t, q, id); st.State != notify.Failed || !strings.Contains(st.Reason, "deadline") {
		t.Fatalf("status = %+v", st)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Enqueue(message(notify.Email, "a@example.com")); !errors.Is(err, notify.ErrQueueClosed) {
		t.Fatalf("enqueue after close: %v", err)
	}
}

func TestAPanickingSenderFailsOnlyItsMessage(t *testing.T) {
	q := notify.NewQueue(notify.SenderFunc(func(context.Context, notify.Message) (notify.Receipt, error) {
		panic("boom")
	}), notify.QueueConfig{})
	defer q.Close(context.Background())
	id, _ := q.Enqueue(message(notify.Email, "a@example.com"))
	if st := waitFor(t, q, id); st.State != notify.Failed || !strings.Contains(st.Reason, "panicked") {
		t.Fatalf("status = %+v", st)
	}
}

// observed collects what a queue reports to its observer.
type observed struct {
	mu sync.Mutex
	ds []notify.Delivery
}

func (o *observed) observe(d notify.Delivery) {
	o.mu.Lock()
	o.ds = append(o.ds, d)
	o.mu.Unlock()
}

// wait returns the delivery of message id once the queue has reported it.
func (o *observed) wait(t *testing.T, id string) notify.Delivery {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		o.mu.Lock()
		for _, d := range o.ds {
			if d.ID == id {
				o.mu.Unlock()
				return d
			}
		}
		o.mu.Unlock()
	}
	t.Fatalf("message %s was never reported", id)
	return notify.Delivery{}
}

// The observer hears of every message the queue is done with, each provider's try with its
// outcome and a class of error that never quotes the provider, which may echo the destination.
func TestTheObserverHearsEachTryWithItsOutcome(t *testing.T) {
	ms := startMailServer(t, true)
	mail := smtpSender(t, notify.SMTPConfig{Addr: ms.addr, Username: "otp-sender", Password: "s3cret"})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed.Close() // nothing listens there any more: connecting is refused
	down := smtpSender(t, notify.SMTPConfig{Addr: closed.Addr().String()})
	hung := notify.SenderFunc(func(ctx context.Context, m notify.Message) (notify.Receipt, error) {
		<-ctx.Done()
		return notify.Receipt{Channel: notify.SMS, Provider: "hung-gateway"}, ctx.Err()
	})
	type try struct {
		ch       notify.Channel
		provider string
		outcome  notify.Outcome
		class    string
	}
	cases := []struct {
		name   string
		router notify.Router
		m      notify.Message
		want   []try
		state  notify.State
	}{
		{"a mail the relay takes is sent", notify.Router{notify.Email: mail}, message(notify.Email, "taro@example.jp"),
			[]try{{notify.Email, "smtp", notify.OutcomeSent, ""}}, notify.Sent},
		{"a refused address is rejected", notify.Router{notify.Email: mail}, message(notify.Email, "reject-me@example.jp"),
			[]try{{notify.Email, "smtp", notify.OutcomeFailed, notify.ClassRejected}}, notify.Failed},
		{"a relay that is down is unreachable", notify.Router{notify.Email: down}, message(notify.Email, "taro@example.jp"),
			[]try{{notify.Email, "smtp", notify.OutcomeFailed, notify.ClassUnreachable}}, notify.Failed},
		{"a channel without a sender fails before any provider", notify.Router{notify.Email: mail}, message(notify.SMS, "+81 90 1234 5678"),
			[]try{{notify.SMS, "", notify.OutcomeFailed, notify.ClassUnsupported}}, notify.Failed},
		{"a hung SMS gateway times out and the code falls back to e-mail", notify.Router{notify.SMS: hung, notify.Email: mail},
			func() notify.Message {
				m := message(notify.SMS, "+81 90 1234 5678")
				m.FallbackEmail = "taro@example.jp"
				return m
			}(),
			[]try{{notify.SMS, "hung-gateway", notify.OutcomeFellBack, notify.ClassTimeout}, {notify.Email, "smtp", notify.OutcomeSent, ""}},
			notify.Sent},
		{"a hung SMS gateway without a fallback times out", notify.Router{notify.SMS: hung}, message(notify.SMS, "+81 90 1234 5678"),
			[]try{{notify.SMS, "hung-gateway", notify.OutcomeTimedOut, notify.ClassTimeout}}, notify.Failed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var o observed
			q := notify.NewQueue(tc.router, notify.QueueConfig{Timeout: 300 * time.Millisecond, Observe: o.observe})
			defer q.Close(context.Background())
			before := time.Now()
			id, err := q.Enqueue(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			d := o.wait(t, id)
			if d.TransactionID != tc.m.TransactionID || d.State() != tc.state || d.Queued.Before(before) {
				t.Errorf("delivery = %+v, want state %s", d, tc.state)
			}
			if st, _ := q.Status(id); st.State != tc.state {
				t.Errorf("the observer heard before the status was set: %+v", st)
			}
			if len(d.Attempts) != len(tc.want) {
				t.Fatalf("tries = %+v, want %+v", d.Attempts, tc.want)
			}
			last := d.Queued
			for i, a := range d.Attempts {
				got := try{a.Channel, a.Provider, a.Outcome, a.ErrorClass}
				if got != tc.want[i] {
					t.Errorf("try %d = %+v, want %+v", i, got, tc.want[i])
				}
				if a.Started.Before(last) || a.Finished.Before(a.Started) {
					t.Errorf("try %d ran from %v to %v, after %v", i, a.Started, a.Finished, last)
				}
				last = a.Finished
			}
		})
	}
}

func TestAPanickingObserverLeavesTheQueueWorking(t *testing.T) {
	outbox := notify.NewOutbox(10)
	var logs strings.Builder
	q := notify.NewQueue(outbox, notify.QueueConfig{Workers: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Observe: func(notify.Delivery) { panic("store gone") }})
	defer q.Close(context.Background())
	for range 2 {
		id, err := q.Enqueue(message(notify.Email, "a@example.com"))
		if err != nil {
			t.Fatal(err)
		}
		if st := waitFor(t, q, id); st.State != notify.Sent {
			t.Fatalf("status = %+v", st)
		}
	}
	if len(outbox.Messages("")) != 2 {
		t.Fatalf("the worker stopped after the observer panicked")
	}
}
