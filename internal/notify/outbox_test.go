package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/notify"
)

func TestOutboxShowsTheNewestMessagesFirst(t *testing.T) {
	o := notify.NewOutbox(2)
	ctx := context.Background()
	for i, to := range []string{"+81 90 1111 2222", "hanako@example.jp", "+81 90 3333 4444"} {
		m := message(notify.SMS, to)
		if strings.Contains(to, "@") {
			m.Channel = notify.Email
		}
		m.Code = []string{"111111", "222222", "333333"}[i]
		m.Issuer.Name = "Bank <b>&"
		if _, err := o.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(o.Handler())
	defer srv.Close()

	get := func(path string) string {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return string(b)
	}

	page := get("/")
	third, second := strings.Index(page, "333333"), strings.Index(page, "222222")
	if third < 0 || second < 0 || third > second {
		t.Fatalf("page does not show the two kept messages newest first:\n%s", page)
	}
	if strings.Contains(page, "111111") {
		t.Fatal("the page shows a message beyond the limit")
	}
	if !strings.Contains(page, "•••• 4444") || !strings.Contains(page, "h•••@example.jp") || strings.Contains(page, "3333 4444") {
		t.Fatal("the page does not mask destinations")
	}
	if strings.Contains(page, "<b>&") {
		t.Fatal("the page does not escape the issuer's name")
	}

	var list struct{ Messages []notify.OutboxEntry }
	if err := json.Unmarshal([]byte(get("/outbox.json?to="+url.QueryEscape("+81-90-3333-4444"))), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Messages) != 1 || list.Messages[0].Code != "333333" || list.Messages[0].Channel != notify.SMS ||
		list.Messages[0].To != "•••• 4444" || !strings.Contains(list.Messages[0].Text, "333333") {
		t.Fatalf("filtered list = %+v", list.Messages)
	}
	if err := json.Unmarshal([]byte(get("/outbox.json")), &list); err != nil || len(list.Messages) != 2 {
		t.Fatalf("full list = %+v, %v", list.Messages, err)
	}
}
