// Package shopapp is a merchant's app and its back end in one, as `open3ds sdk buy` plays them: the
// app runs the reference SDK (pkg/sdk), the back end asks the 3DS Server's merchant API to
// authenticate with the SDK's parameters, and when the ACS challenges, the app runs the challenge
// through the SDK. The outcome is read back from the 3DS Server, which has it from the RReq.
package shopapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/threedsserver"
	"github.com/open3ds/open3ds/pkg/sdk"
)

// Config is the app and its back end.
type Config struct {
	SDK *sdk.SDK
	UI  sdk.UI
	// APIURL and APIKey are the 3DS Server's merchant API and the merchant's key.
	APIURL, APIKey string
	// Client calls the merchant API.
	Client *http.Client
	// ResultWait bounds the wait for the RReq's result after a challenge; default 30 s.
	ResultWait time.Duration
	// Say, when set, tells the cardholder something outside the challenge screens: after a
	// challenge moved to the bank's app, "Approve this payment in your bank's app".
	Say func(string)
}

// Purchase is what the cardholder buys, and with which card.
type Purchase struct {
	Card     string
	Amount   string // minor units
	Currency string // ISO 4217 numeric
	// NonPayment asks for a non-payment authentication (messageCategory 02), such as adding the
	// card to the app's wallet: no amount goes with it.
	NonPayment bool
	// Decoupled, when set, allows decoupled authentication (the merchant API's decoupled object).
	// With Fallback "only" or "also" on 2.3.1 the cardholder may move a challenge to the bank's app.
	Decoupled *threedsserver.DecoupledRequest
}

// Outcome is how a purchase ended, as the merchant's back end knows it.
type Outcome struct {
	ID                  string
	TransStatus         string
	TransStatusReason   string
	ECI                 string
	AuthenticationValue bool // present or not; the value itself stays with the back end
	ErrorCode           string
	ErrorDetail         string
	// Challenge is the SDK's result when there was a challenge.
	Challenge *sdk.Result
}

// Authenticated reports whether the purchase may go to authorisation with an authentication value:
// Y (authenticated) or A (attempt).
func (o Outcome) Authenticated() bool {
	return (o.TransStatus == "Y" || o.TransStatus == "A") && o.AuthenticationValue
}

// Buy runs one purchase: the SDK transaction, the merchant API, the challenge when there is one,
// and the result. Its errors are the merchant API's (as text with its problem), the SDK's
// (*sdk.ProtocolError, *sdk.RuntimeError) and ctx's.
func Buy(ctx context.Context, cfg Config, p Purchase) (Outcome, error) {
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	if cfg.ResultWait <= 0 {
		cfg.ResultWait = 30 * time.Second
	}
	tx, err := cfg.SDK.CreateTransaction()
	if err != nil {
		return Outcome{}, err
	}
	params := tx.AuthenticationRequestParameters()
	body := StartApp(p, params)
	var res threedsserver.Result
	if err := cfg.call(ctx, http.MethodPost, "/v1/authentications", body, &res); err != nil {
		return Outcome{}, err
	}
	out := outcomeOf(res)
	c := res.AppChallenge
	if c == nil {
		return out, nil
	}
	cp := ChallengeOf(c)
	cp.DecoupledFallback = p.Decoupled != nil && p.Decoupled.Allowed && p.Decoupled.Fallback != ""
	out.Challenge, err = tx.DoChallenge(ctx, cp, cfg.UI)
	if err != nil {
		return out, err
	}
	if out.Challenge.TransStatus == "D" {
		// The cardholder approves in the bank's app, which may take up to the time the back end
		// allowed; the RReq brings the result to the 3DS Server meanwhile.
		if cfg.Say != nil {
			cfg.Say("Approve this payment in your bank's app. We have sent you a link; the result comes here.")
		}
		cfg.ResultWait = decoupledWait(p.Decoupled)
	}
	// The CRes's word is the app's to show; the merchant acts on the RReq's, from the 3DS Server.
	return cfg.result(ctx, res.ID, out.Challenge)
}

// decoupledWait is how long the app waits for the result after its challenge moved to the bank's
// app: the time the back end allowed, and a minute for the ACS's final RReq; without a maximum the
// ACS's own applies, which this app cannot know, so it waits an hour (a person can stop it).
func decoupledWait(d *threedsserver.DecoupledRequest) time.Duration {
	if d != nil && d.MaxMinutes > 0 {
		return time.Duration(d.MaxMinutes+1) * time.Minute
	}
	return time.Hour
}

// StartApp is the merchant API's request that starts an app authentication of p with an SDK
// transaction's parameters, as an app's back end sends it.
func StartApp(p Purchase, params sdk.AuthenticationRequestParameters) map[string]any {
	m := map[string]any{"channel": threedsserver.ChannelApp, "cardNumber": p.Card, "amount": p.Amount,
		"currency": p.Currency, "sdk": params}
	if p.NonPayment {
		m = map[string]any{"channel": threedsserver.ChannelApp, "cardNumber": p.Card,
			"messageCategory": threedsserver.CategoryNonPayment, "sdk": params}
	}
	if p.Decoupled != nil {
		m["decoupled"] = p.Decoupled
	}
	return m
}

// ChallengeOf is what the SDK starts a challenge with, from the merchant API's appChallenge.
func ChallengeOf(c *threedsserver.AppChallenge) sdk.ChallengeParameters {
	return sdk.ChallengeParameters{ThreeDSServerTransID: c.ThreeDSServerTransID, ACSTransID: c.ACSTransID,
		ACSReferenceNumber: c.ACSReferenceNumber, ACSSignedContent: c.ACSSignedContent}
}

// result waits for the RReq's result of transaction id.
func (cfg Config) result(ctx context.Context, id string, ch *sdk.Result) (Outcome, error) {
	deadline := time.Now().Add(cfg.ResultWait)
	for {
		var res threedsserver.Result
		if err := cfg.call(ctx, http.MethodGet, "/v1/authentications/"+id, nil, &res); err != nil {
			return Outcome{}, err
		}
		if res.Final || time.Now().After(deadline) {
			out := outcomeOf(res)
			out.Challenge = ch
			if !res.Final {
				return out, fmt.Errorf("shopapp: no result from the ACS's RReq within %s", cfg.ResultWait)
			}
			return out, nil
		}
		select {
		case <-ctx.Done():
			return Outcome{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func outcomeOf(r threedsserver.Result) Outcome {
	return Outcome{ID: r.ID, TransStatus: r.TransStatus, TransStatusReason: r.TransStatusReason, ECI: r.ECI,
		AuthenticationValue: r.AuthenticationValue != "", ErrorCode: r.ErrorCode, ErrorDetail: r.ErrorDetail}
}

// call sends one merchant API request and decodes its answer; a problem document becomes an error
// naming its fields.
func (cfg Config) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(cfg.APIURL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+cfg.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("shopapp: the merchant API: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var p struct {
			Title, Detail string
			Errors        []struct{ Field, Detail string }
		}
		json.Unmarshal(data, &p)
		msg := fmt.Sprintf("shopapp: the merchant API answered %s %s: HTTP %d %s %s", method, path, resp.StatusCode, p.Title, p.Detail)
		for _, e := range p.Errors {
			msg += fmt.Sprintf("; %s %s", e.Field, e.Detail)
		}
		return errors.New(msg)
	}
	return json.Unmarshal(data, out)
}
