package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/open3ds/open3ds/internal/threedsserver"
)

// MerchantAPI is a merchant's back end calling the 3DS Server's REST API with its key.
type MerchantAPI struct {
	Client *http.Client // HTTPS trusting the scheme CA
	URL    string       // e.g. https://127.0.0.1:8413, without /v1
	Key    string
}

// call sends one API request and decodes a 2xx answer into out. Any other status fails under the
// class "HTTP <status> <step>", with the problem's title as the detail.
func (m *MerchantAPI) call(ctx context.Context, step, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.URL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+m.Key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := m.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var p struct{ Title, Detail string }
		json.Unmarshal(raw, &p)
		return Failf(fmt.Sprintf("HTTP %d %s", resp.StatusCode, step), "%s %s", p.Title, p.Detail)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return Failf("not JSON "+step, "%v", err)
	}
	return nil
}

// authenticate starts an authentication for pan and sends its AReq with the purchase and browser
// of operation i, as a checkout does after the 3DS Method.
func (m *MerchantAPI) authenticate(ctx context.Context, pan string, i int64) (threedsserver.Result, error) {
	var started threedsserver.StartResponse
	if err := m.call(ctx, "start", http.MethodPost, "/v1/authentications", threedsserver.StartRequest{CardNumber: pan}, &started); err != nil {
		return threedsserver.Result{}, err
	}
	b := Browsers[mix(i)%uint64(len(Browsers))]
	js := true
	req := threedsserver.AuthenticateRequest{Amount: Amounts[mix(i+1)%uint64(len(Amounts))], Currency: "978",
		// The 3DS Method needs a browser; the bench says it could not run, as a checkout whose
		// script timed out would.
		ThreeDSCompInd: "U", ChallengeWindowSize: "05", CardholderName: "Camille Martin", Email: "camille.martin@example.fr",
		Browser: threedsserver.Browser{AcceptHeader: b.Accept, IP: b.IP, JavaEnabled: b.Java, JavascriptEnabled: &js,
			Language: b.Language, ColorDepth: b.ColorDepth, ScreenHeight: b.Height, ScreenWidth: b.Width, TZ: b.TZ, UserAgent: b.UserAgent}}
	var res threedsserver.Result
	err := m.call(ctx, "authenticate", http.MethodPost, "/v1/authentications/"+started.ID+"/authenticate", req, &res)
	if err == nil && res.ErrorCode != "" {
		err = Failf("Erro "+res.ErrorCode, "%s", res.ErrorDetail)
	}
	return res, err
}

// result reads an authentication as the merchant's back end does.
func (m *MerchantAPI) result(ctx context.Context, id string) (threedsserver.Result, error) {
	var res threedsserver.Result
	err := m.call(ctx, "result", http.MethodGet, "/v1/authentications/"+id, nil, &res)
	return res, err
}

// E2EScenario is a frictionless authentication through the merchant API: start, then authenticate,
// which sends the AReq through the DS to the ACS and answers with its outcome.
type E2EScenario struct {
	API   *MerchantAPI
	Cards []string // frictionless cards, used in turn
	// Expect lists the transStatus values that count as success; empty means Y alone.
	Expect []string
}

func (s *E2EScenario) Do(ctx context.Context, i int64) error {
	res, err := s.API.authenticate(ctx, s.Cards[i%int64(len(s.Cards))], i)
	if err != nil {
		return err
	}
	if !res.Final {
		return Failf("not final", "state %s, transStatus %s", res.State, res.TransStatus)
	}
	return checkStatus(res.TransStatus, res.TransStatusReason, s.Expect)
}
