package threedsserver_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

func TestTheMethodNotificationMarksTheMethodCompleteSoTheAReqSaysY(t *testing.T) {
	n := newNetwork(t)
	st := start(t, n, panFrictionless)
	// The ACS posts back threeDSMethodData holding only the transaction id.
	data := emv.EncodeBase64URL([]byte(`{"threeDSServerTransID":"` + st.ID + `"}`))
	resp, err := http.PostForm(n.public.URL+"/3ds/method", url.Values{"threeDSMethodData": {data}})
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("method notification: HTTP %d", resp.StatusCode)
	}
	tx, err := n.st.Transaction(context.Background(), st.ID)
	must(t, err)
	if !tx.MethodDone {
		t.Fatal("the 3DS Method is not marked complete")
	}
	body := authenticateBody()
	body["threeDSCompInd"] = "N"
	n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", body, nil)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lastReq.ThreeDSCompInd != "Y" {
		t.Fatalf("AReq threeDSCompInd = %q; want Y since the notification arrived", n.lastReq.ThreeDSCompInd)
	}
}

func TestTheChallengeNotificationPostsTheOutcomeToTheFixedOrigin(t *testing.T) {
	n := newNetwork(t)
	st := start(t, n, panChallenge)
	var res threedsserver.Result
	n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), &res)
	cres := `{"messageType":"CRes","messageVersion":"2.2.0","threeDSServerTransID":"` + st.ID + `","acsTransID":"` +
		res.ACSTransID + `","challengeCompletionInd":"Y","transStatus":"Y"}`
	tests := []struct {
		name, cres string
		status     int
		want       string
	}{
		{"a final CRes gives its transStatus", emv.EncodeBase64URL([]byte(cres)), 200, `"transStatus":"Y"`},
		{"an Erro gives its code", emv.EncodeBase64URL([]byte(`{"messageType":"Erro","messageVersion":"2.2.0","threeDSServerTransID":"` + st.ID +
			`","errorCode":"402","errorComponent":"A","errorDescription":"timeout","errorDetail":"challenge","errorMessageType":"CReq"}`)), 200, `"errorCode":"402"`},
		{"garbage is refused", "!!!", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.PostForm(n.public.URL+"/3ds/notification", url.Values{"cres": {tt.cres}})
			must(t, err)
			defer resp.Body.Close()
			page, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %d; want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 200 && (!strings.Contains(string(page), tt.want) || !strings.Contains(string(page), `"`+n.public.URL+`"`) ||
				strings.Contains(string(page), `"*"`)) {
				t.Fatalf("page does not post %s to %s:\n%s", tt.want, n.public.URL, page)
			}
		})
	}
}

func TestARangeWithoutAMethodURLGivesNoMethodFormAndCompIndU(t *testing.T) {
	n := newNetwork(t)
	ctx := context.Background()
	r := dsRange("4200000000000000", "4200000000009999")
	r.MethodURL = ""
	must(t, n.dsStore.AddRange(ctx, r))
	must(t, n.server.RefreshRanges(ctx))
	st := start(t, n, "4200000000001000")
	if !st.Enrolled || st.ThreeDSMethod != nil {
		t.Fatalf("start answered %+v; want enrolled without a Method form", st)
	}
	n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), nil)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lastReq.ThreeDSCompInd != "U" {
		t.Fatalf("AReq threeDSCompInd = %q; want U", n.lastReq.ThreeDSCompInd)
	}
}
