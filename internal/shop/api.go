package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/open3ds/open3ds/internal/httpx"
)

// apiClient calls the 3DS Server's merchant API (api/openapi.yaml) with the merchant's key.
type apiClient struct {
	base, key string
	client    *http.Client
}

// answer is a JSON answer of the merchant API: a success or a problem document.
type answer struct {
	status int
	body   []byte
}

func (a answer) ok() bool { return a.status >= 200 && a.status < 300 }

// maxAnswer bounds what we read of an answer; the largest, an authenticate result with a challenge
// form, is a few kilobytes.
const maxAnswer = 256 << 10

// call sends in (nil for none) and returns the API's answer. A transport failure, or an answer that
// is not the API's JSON (a proxy's error page, say), is a 502 problem for our own caller: the 3DS
// Server is our upstream. The key goes only into the Authorization header, never into an error.
func (a *apiClient) call(ctx context.Context, method, path string, in any) (answer, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return answer{}, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return answer{}, ctx.Err()
		}
		return answer{}, upstream(fmt.Errorf("%s %s: %w", method, path, err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return answer{}, upstream(fmt.Errorf("%s %s: reading the answer: %w", method, path, err))
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if len(b) > maxAnswer || (mt != "application/json" && mt != "application/problem+json") || !json.Valid(b) {
		return answer{}, upstream(fmt.Errorf("%s %s: answered %d with %d bytes of %q", method, path, resp.StatusCode, len(b), mt))
	}
	return answer{status: resp.StatusCode, body: b}, nil
}

func upstream(err error) error {
	return &httpx.Problem{Status: http.StatusBadGateway, Detail: "the 3DS Server could not be reached; please try again", Err: err}
}

// relay passes an answer of the merchant API on to the browser as it came: the checkout script reads
// the authenticate result whole, and a problem names the field at fault in the API's own words.
func relay(w http.ResponseWriter, a answer) error {
	ct := "application/json"
	if !a.ok() {
		ct = "application/problem+json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(a.status)
	_, err := w.Write(a.body)
	return err
}

// startAnswer is the API's StartResponse; the shop passes it on and keeps the id.
type startAnswer struct {
	ID             string          `json:"id"`
	Enrolled       bool            `json:"enrolled"`
	ShowLogo       bool            `json:"showLogo"`
	MessageVersion string          `json:"messageVersion"`
	MaskedPAN      string          `json:"maskedPan"`
	ThreeDSMethod  json.RawMessage `json:"threeDSMethod,omitempty"`
}

// result is the API's Result, as far as the result page reads it.
type result struct {
	ID                  string `json:"id"`
	State               string `json:"state"`
	Final               bool   `json:"final"`
	MessageVersion      string `json:"messageVersion"`
	MaskedPAN           string `json:"maskedPan"`
	TransStatus         string `json:"transStatus"`
	TransStatusReason   string `json:"transStatusReason"`
	AuthenticationValue string `json:"authenticationValue"`
	ECI                 string `json:"eci"`
	ChallengeCancel     string `json:"challengeCancel"`
	DSTransID           string `json:"dsTransID"`
	ACSTransID          string `json:"acsTransID"`
	ErrorCode           string `json:"errorCode"`
	ErrorDetail         string `json:"errorDetail"`
	Channel             string `json:"channel"`
	MessageCategory     string `json:"messageCategory"`
	Timings             struct {
		AResMillis   int64 `json:"aresMs"`
		ResultMillis int64 `json:"resultMs"`
	} `json:"timings"`
}

// authentication reads one authentication. A 404 of the API is a 404 of the page; any other
// failure is the upstream's.
func (a *apiClient) authentication(ctx context.Context, id string) (result, error) {
	ans, err := a.call(ctx, http.MethodGet, "/v1/authentications/"+id, nil)
	if err != nil {
		return result{}, err
	}
	if ans.status == http.StatusNotFound {
		return result{}, httpx.NewProblem(http.StatusNotFound, "no such order")
	}
	if !ans.ok() {
		return result{}, upstream(fmt.Errorf("GET /v1/authentications/{id}: answered %d: %s", ans.status, ans.body))
	}
	var r result
	if err := json.Unmarshal(ans.body, &r); err != nil {
		return result{}, upstream(fmt.Errorf("GET /v1/authentications/{id}: %w", err))
	}
	return r, nil
}
