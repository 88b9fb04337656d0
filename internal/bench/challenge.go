package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ChallengeScenario is a whole browser challenge without a browser: the merchant API starts and
// authenticates a purchase the ACS challenges; the "browser" posts the CReq to the acsURL, picks the
// first destination offered, reads the code from the ACS's development outbox, submits it, posts
// the final page's CRes to the notification URL, and the merchant's back end then polls the result
// until the RReq has made it final.
type ChallengeScenario struct {
	API     *MerchantAPI
	Browser *http.Client // the shopper's browser: trusts the scheme CA, presents no certificate
	// Outbox is the ACS's development outbox (e.g. http://127.0.0.1:8421/outbox/?token=…, the token
	// being the ACS's admin token, sent as a bearer token); the code of each challenge is found there
	// by its acsTransID.
	Outbox string
	Cards  []string // cards the ACS challenges, used in turn
	// Expect lists the final transStatus values that count as success; empty means Y alone.
	Expect []string
	// Poll bounds the waits for the code to reach the outbox and for the RReq to reach the 3DS Server.
	Poll time.Duration
}

func (s *ChallengeScenario) Do(ctx context.Context, i int64) error {
	res, err := s.API.authenticate(ctx, s.Cards[i%int64(len(s.Cards))], i)
	if err != nil {
		return err
	}
	if res.TransStatus != "C" || res.Challenge == nil {
		return Failf("no challenge: transStatus "+res.TransStatus, "the ACS did not challenge the card")
	}
	ch := res.Challenge
	page, err := s.post(ctx, "creq", ch.ACSURL, url.Values{"creq": {ch.CReq}, "threeDSSessionData": {ch.ThreeDSSessionData}})
	if err != nil {
		return err
	}
	choose, err := page.only("choose", func(f form) bool { return f.values.Get("dest") != "" })
	if err != nil {
		return err
	}
	choose.values.Set("action", "send")
	if page, err = s.post(ctx, "send", choose.action, choose.values); err != nil {
		return err
	}
	entry, err := page.only("code", func(f form) bool { return f.hasCode })
	if err != nil {
		return err
	}
	code, err := s.code(ctx, res.ACSTransID)
	if err != nil {
		return err
	}
	entry.values.Set("action", "submit")
	entry.values.Set("code", code)
	if page, err = s.post(ctx, "submit", entry.action, entry.values); err != nil {
		return err
	}
	final, err := page.only("final", func(f form) bool { return f.id == "cres" && f.values.Get("cres") != "" })
	if err != nil {
		return err
	}
	if _, err := s.post(ctx, "notification", final.action, final.values); err != nil {
		return err
	}
	return s.final(ctx, res.ID)
}

// page is the forms of an HTML answer and the step that brought it.
type page struct {
	step  string
	forms []form
}

// only finds the form the next step needs. A page without it fails under a class naming the step
// that brought it: a shopper would be stuck there.
func (p page) only(want string, is func(form) bool) (form, error) {
	for _, f := range p.forms {
		if is(f) {
			return f, nil
		}
	}
	return form{}, Failf("no "+want+" form after "+p.step, "%d forms on the page", len(p.forms))
}

// post submits a form as the browser does and reads the page that comes back.
func (s *ChallengeScenario) post(ctx context.Context, step, target string, values url.Values) (page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(values.Encode()))
	if err != nil {
		return page{}, Failf("bad URL "+step, "%v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.Browser.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return page{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return page{}, Failf(fmt.Sprintf("HTTP %d %s", resp.StatusCode, step), "%s", http.StatusText(resp.StatusCode))
	}
	return page{step: step, forms: parseForms(body, resp.Request.URL.String())}, nil
}

// code waits for the challenge's code to reach the development outbox. Delivery is queued, so the
// code may come a moment after the page that says it was sent.
func (s *ChallengeScenario) code(ctx context.Context, acsTransID string) (string, error) {
	var found string
	err := s.poll(ctx, "code not in the outbox", func() (bool, error) {
		req, err := s.outboxRequest(ctx)
		if err != nil {
			return false, err
		}
		resp, err := s.Browser.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, Failf(fmt.Sprintf("HTTP %d outbox", resp.StatusCode), "%s", http.StatusText(resp.StatusCode))
		}
		var box struct {
			Messages []struct {
				Code          string `json:"code"`
				TransactionID string `json:"transactionId"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&box); err != nil {
			return false, Failf("not JSON outbox", "%v", err)
		}
		for _, m := range box.Messages {
			if m.TransactionID == acsTransID && m.Code != "" {
				found = m.Code
				return true, nil
			}
		}
		return false, nil
	})
	return found, err
}

// final polls the merchant API until the RReq has made the authentication final.
func (s *ChallengeScenario) final(ctx context.Context, id string) error {
	var status, reason string
	err := s.poll(ctx, "no final result", func() (bool, error) {
		r, err := s.API.result(ctx, id)
		status, reason = r.TransStatus, r.TransStatusReason
		return r.Final, err
	})
	if err != nil {
		return err
	}
	return checkStatus(status, reason, s.Expect)
}

// poll calls try until it is done, backing off from 2 ms to 50 ms between calls, and fails under
// class when Poll passes first.
func (s *ChallengeScenario) poll(ctx context.Context, class string, try func() (bool, error)) error {
	bound := s.Poll
	if bound == 0 {
		bound = 10 * time.Second
	}
	deadline := time.Now().Add(bound)
	wait := 2 * time.Millisecond
	for {
		done, err := try()
		if err != nil || done {
			return err
		}
		if time.Now().Add(wait).After(deadline) {
			return Failf(class, "after %v", bound)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, 50*time.Millisecond)
	}
}

// outboxRequest asks the outbox for its messages. Outbox may carry the admin token as its token query
// parameter (the link the demo prints and writes to demo.json); the request sends it as the bearer
// token the outbox asks for.
func (s *ChallengeScenario) outboxRequest(ctx context.Context) (*http.Request, error) {
	u, err := url.Parse(s.Outbox)
	if err != nil {
		return nil, fmt.Errorf("bench: outbox URL: %w", err)
	}
	token := u.Query().Get("token")
	u.RawQuery = ""
	u.Path = strings.TrimSuffix(u.Path, "/") + "/outbox.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}
