package notify_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
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
