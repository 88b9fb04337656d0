package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// NewClient is an HTTP client for load: keep-alive connections, as many idle ones kept as there are
// workers, HTTP/1.1 as the roles speak to each other, and a bound on each request.
func NewClient(tlsConfig *tls.Config, conns int, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: tlsConfig,
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: 90 * time.Second, DisableCompression: true}}
}

// AReqScenario posts AReqs to a protocol URL over mutual TLS, as a DS posts them to an ACS or a 3DS
// Server to a DS, and wants an ARes for the same transaction with an expected transStatus.
type AReqScenario struct {
	Client *http.Client // presenting the sender's certificate
	URL    string
	// URLs, when set, replace URL: the requests take them in turn, as a client-side balancer
	// would spread them over several instances.
	URLs  []string
	AReqs *AReqs
	// Expect lists the transStatus values that count as success; empty means Y alone.
	Expect []string
}

// answer is what the scenario reads of an ARes or an Erro: enough to judge it, no more, so that
// the client's CPU goes on sending rather than on validating every element.
type answer struct {
	MessageType          string `json:"messageType"`
	ThreeDSServerTransID string `json:"threeDSServerTransID"`
	TransStatus          string `json:"transStatus"`
	TransStatusReason    string `json:"transStatusReason"`
	ErrorCode            string `json:"errorCode"`
	ErrorDetail          string `json:"errorDetail"`
}

func (s *AReqScenario) Do(ctx context.Context, i int64) error {
	body, transID := s.AReqs.Body(i)
	url := s.URL
	if len(s.URLs) > 0 {
		url = s.URLs[i%int64(len(s.URLs))]
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := s.Client.Do(req)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return err
	}
	var a answer
	jsonErr := json.Unmarshal(raw, &a)
	switch {
	case jsonErr == nil && a.MessageType == "Erro":
		return Failf("Erro "+a.ErrorCode, "%s", a.ErrorDetail)
	case resp.StatusCode != http.StatusOK:
		return Failf(fmt.Sprintf("HTTP %d", resp.StatusCode), "%s", http.StatusText(resp.StatusCode))
	case jsonErr != nil:
		return Failf("not JSON", "%v", jsonErr)
	case a.MessageType != "ARes":
		return Failf("not an ARes", "messageType %q", a.MessageType)
	case a.ThreeDSServerTransID != transID:
		return Failf("another transaction", "the ARes names threeDSServerTransID %s, not the AReq's", a.ThreeDSServerTransID)
	}
	return checkStatus(a.TransStatus, a.TransStatusReason, s.Expect)
}

// checkStatus fails a transStatus the run did not expect, under a class of its own.
func checkStatus(status, reason string, expect []string) error {
	if len(expect) == 0 {
		expect = []string{"Y"}
	}
	if slices.Contains(expect, status) {
		return nil
	}
	detail := "expected " + strings.Join(expect, " or ")
	if reason != "" {
		detail += "; transStatusReason " + reason
	}
	return &Failure{Class: "transStatus " + status, Detail: detail}
}
