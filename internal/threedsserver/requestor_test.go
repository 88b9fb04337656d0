package threedsserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

// passkeyAssertion is what a browser's navigator.credentials.get() gives a page on origin, as
// PublicKeyCredential.toJSON() writes it: a real ES256 signature over authenticatorData ||
// SHA-256(clientDataJSON), user present and verified.
func passkeyAssertion(t *testing.T, kind, origin, rpID string) map[string]any {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	b64 := base64.RawURLEncoding.EncodeToString
	client, _ := json.Marshal(map[string]any{"type": kind, "challenge": b64([]byte("a fresh challenge of the shop")), "origin": origin})
	rp := sha256.Sum256([]byte(rpID))
	auth := append(rp[:], 0x05)
	auth = binary.BigEndian.AppendUint32(auth, 7)
	digest := sha256.Sum256(client)
	signed := sha256.Sum256(append(append([]byte{}, auth...), digest[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, signed[:])
	must(t, err)
	return map[string]any{"id": b64([]byte("credential-1")), "rawId": b64([]byte("credential-1")), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64(client), "authenticatorData": b64(auth), "signature": b64(sig),
			"userHandle": b64([]byte("shopper-42"))}}
}

// the2231Data is every field of RequestorData, as a 2.3.1 merchant sends them.
func the231Data(t *testing.T) map[string]any {
	return map[string]any{
		"requestorAuthentication": map[string]any{"method": "fido", "time": time.Now().Add(-2 * time.Minute).Format(time.RFC3339),
			"data": passkeyAssertion(t, "webauthn.get", "https://shop.example", "shop.example")},
		"trustListStatus": "Y", "deviceBindingStatus": "11",
		"multiTransaction": map[string]any{"avValidityTime": "30", "avNumberUse": "2",
			"merchantList": []map[string]any{{"merchantNameListed": "Cycles Dupont", "acquirerMerchantIdListed": "DUPONT01",
				"merchantAmount": "5000", "merchantCurrency": "978", "merchantExponent": "2"}}},
		"payeeOrigin": "https://pay.shop.example",
		"sellerInfo":  []map[string]any{{"sellerName": "Cycles Dupont", "sellerId": "S-1", "sellerAddrCountry": "250"}},
		"taxId":       "FR40303265045", "spcSupport": true,
	}
}

func lastAReq(n *network) *emv.AReq {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lastReq
}

// authenticateWith runs start and authenticate of pan with the extra fields, returning the
// status and the problem's fields (nil on success).
func authenticateWith(t *testing.T, n *network, pan string, extra map[string]any) (int, []string) {
	t.Helper()
	st := start(t, n, pan)
	body := authenticateBody()
	for k, v := range extra {
		body[k] = v
	}
	var p struct {
		Errors []struct{ Field string } `json:"errors"`
	}
	code := n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", body, &p)
	var fields []string
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	slices.Sort(fields)
	return code, fields
}

func TestA231BrowserAReqCarriesTheRequestorsLoginAndThe231DataToTheACS(t *testing.T) {
	n := newNetwork(t)
	n.withVersionRanges(t)
	if code, fields := authenticateWith(t, n, pan231, the231Data(t)); code != http.StatusOK {
		t.Fatalf("HTTP %d naming %v", code, fields)
	}
	// The AReq as the ACS got it, through the real DS.
	a := lastAReq(n)
	info := a.ThreeDSRequestorAuthenticationInfo
	if a.MessageVersion != emv.Version231 || !info.List || len(info.Items) != 1 || info.Items[0].ThreeDSReqAuthMethod != "06" ||
		len(info.Items[0].ThreeDSReqAuthTimestamp) != 12 {
		t.Fatalf("threeDSRequestorAuthenticationInfo: %+v", info)
	}
	as, err := emv.ParseWebAuthnAssertion(info.Items[0].ThreeDSReqAuthData)
	if err != nil || as.Origin != "https://shop.example" || as.Flags&0x04 == 0 {
		t.Fatalf("the ACS cannot read the passkey login: %+v %v", as, err)
	}
	if a.TrustListStatus != "Y" || a.TrustListStatusSource != "01" || a.WhiteListStatus != "" ||
		a.DeviceBindingStatus != "11" || a.DeviceBindingStatusSource != "01" || a.PayeeOrigin != "https://pay.shop.example" ||
		a.TaxID != "FR40303265045" || a.ThreeDSRequestorSpcSupport != "Y" || len(a.SellerInfo) != 1 || a.SellerInfo[0].SellerName != "Cycles Dupont" ||
		a.MultiTransaction == nil || a.MultiTransaction.AVNumberUse != "2" || len(a.MultiTransaction.MerchantList) != 1 {
		t.Fatalf("the 2.3.1 data at the ACS: %+v", a)
	}
}

func TestA220RangeGetsOnlyWhatItHasAndTheRestIsRefusedByName(t *testing.T) {
	n := newNetwork(t) // panFrictionless's range speaks 2.2.0 at most
	data := the231Data(t)
	code, fields := authenticateWith(t, n, panFrictionless, data)
	want := []string{"deviceBindingStatus", "multiTransaction", "payeeOrigin", "sellerInfo", "spcSupport", "taxId"}
	if code != http.StatusUnprocessableEntity || !slices.Equal(fields, want) {
		t.Fatalf("2.3.1-only fields on 2.2.0: %d naming %v, want %v", code, fields, want)
	}
	// What 2.2.0 has goes in its 2.2.0 shape: the login as one object, the trust list as whiteListStatus.
	login := data["requestorAuthentication"].(map[string]any)
	login["method"] = "fido-signed"
	code, fields = authenticateWith(t, n, panFrictionless, map[string]any{"requestorAuthentication": login, "trustListStatus": "N"})
	if code != http.StatusOK {
		t.Fatalf("HTTP %d naming %v", code, fields)
	}
	a := lastAReq(n)
	info := a.ThreeDSRequestorAuthenticationInfo
	if a.MessageVersion != emv.Version220 || info.List || len(info.Items) != 1 || info.Items[0].ThreeDSReqAuthMethod != "07" {
		t.Fatalf("the 2.2.0 login: %+v", info)
	}
	if a.WhiteListStatus != "N" || a.WhiteListStatusSource != "01" || a.TrustListStatus != "" || a.DeviceBindingStatus != "" ||
		a.PayeeOrigin != "" || a.SellerInfo != nil || a.TaxID != "" || a.MultiTransaction != nil || a.ThreeDSRequestorSpcSupport != "" {
		t.Fatalf("a 2.2.0 AReq with 2.3.1 data: %+v", a)
	}
}

func TestA210RangeRefusesTheTrustListAndTheSignedFIDOLogin(t *testing.T) {
	n := newNetwork(t)
	n.withVersionRanges(t)
	login := map[string]any{"method": "fido-signed", "time": time.Now().Format(time.RFC3339),
		"data": passkeyAssertion(t, "webauthn.get", "https://shop.example", "shop.example")}
	code, fields := authenticateWith(t, n, pan210, map[string]any{"requestorAuthentication": login, "trustListStatus": "Y"})
	if code != http.StatusUnprocessableEntity || !slices.Equal(fields, []string{"requestorAuthentication.method", "trustListStatus"}) {
		t.Fatalf("%d naming %v", code, fields)
	}
	// A plain FIDO login (06) exists in 2.1.0, and goes as one object.
	login["method"] = "06"
	if code, fields := authenticateWith(t, n, pan210, map[string]any{"requestorAuthentication": login}); code != http.StatusOK {
		t.Fatalf("HTTP %d naming %v", code, fields)
	}
	if info := lastAReq(n).ThreeDSRequestorAuthenticationInfo; info.List || info.Items[0].ThreeDSReqAuthMethod != "06" {
		t.Fatalf("the 2.1.0 login: %+v", info)
	}
}

func TestDataThatWouldMakeAnInvalidAReqIsRefusedNamingTheMerchantsField(t *testing.T) {
	n := newNetwork(t)
	n.withVersionRanges(t)
	now := time.Now().Format(time.RFC3339)
	for _, c := range []struct {
		name  string
		extra map[string]any
		want  []string
	}{
		{"a registration in place of a login", map[string]any{"requestorAuthentication": map[string]any{"method": "fido", "time": now,
			"data": passkeyAssertion(t, "webauthn.create", "https://shop.example", "shop.example")}}, []string{"requestorAuthentication.data"}},
		{"a FIDO login without its assertion", map[string]any{"requestorAuthentication": map[string]any{"method": "fido", "time": now}},
			[]string{"requestorAuthentication.data"}},
		{"an unknown method and no time", map[string]any{"requestorAuthentication": map[string]any{"method": "password"}},
			[]string{"requestorAuthentication.method", "requestorAuthentication.time"}},
		{"a seller with no name", map[string]any{"sellerInfo": []map[string]any{{"sellerAddrCountry": "250"}}}, []string{"sellerInfo.sellerName"}},
		{"a payee origin with a path", map[string]any{"payeeOrigin": "https://pay.example/checkout"}, []string{"payeeOrigin"}},
		{"a reserved device binding status", map[string]any{"deviceBindingStatus": "42"}, []string{"deviceBindingStatus"}},
		{"a trust list status only the ACS reports", map[string]any{"trustListStatus": "E"}, []string{"trustListStatus"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := lastAReq(n)
			code, fields := authenticateWith(t, n, pan231, c.extra)
			if code != http.StatusUnprocessableEntity || !slices.Equal(fields, c.want) {
				t.Fatalf("%d naming %v, want %v", code, fields, c.want)
			}
			if lastAReq(n) != before {
				t.Fatal("the bad AReq went to the DS")
			}
		})
	}
}

func TestTheBrowserStartLeavesTheRequestorDataToAuthenticate(t *testing.T) {
	n := newNetwork(t)
	code, fields := problemFields(t, n, map[string]any{"cardNumber": panFrictionless, "taxId": "FR40303265045"})
	if code != http.StatusUnprocessableEntity || strings.Join(fields, ",") != "taxId" {
		t.Fatalf("%d naming %v", code, fields)
	}
}

// The app tests run on the 2.2.0 range: this 3DS Server's app AReq does not yet fill the elements
// 2.3.1 requires of an app (deviceInfoRecognisedVersion, threeDSRequestorAppURLInd).
func TestAnAppAReqCarriesTheLoginButNoSPCNorWhatItsVersionLacks(t *testing.T) {
	n := newNetwork(t)
	body := appBody(panFrictionless, newAppSDK(t, true))
	body["spcSupport"] = true
	body["taxId"] = "FR40303265045"
	if code, fields := problemFields(t, n, body); code != http.StatusUnprocessableEntity || strings.Join(fields, ",") != "taxId,spcSupport" {
		t.Fatalf("SPC and a tax id from a 2.2.0 app: %d naming %v", code, fields)
	}
	delete(body, "spcSupport")
	delete(body, "taxId")
	body["requestorAuthentication"] = map[string]any{"method": "fido", "time": time.Now().Format(time.RFC3339),
		"data": passkeyAssertion(t, "webauthn.get", "android:apk-key-hash:Zm9vYmFy", "shop.example")}
	body["trustListStatus"] = "Y"
	var res threedsserver.Result
	if code := n.call(t, "POST", "/v1/authentications", body, &res); code != http.StatusCreated || res.TransStatus != "Y" {
		t.Fatalf("HTTP %d %+v", code, res)
	}
	a := lastAReq(n)
	if a.DeviceChannel != emv.ChannelApp || a.ThreeDSRequestorAuthenticationInfo.List ||
		a.ThreeDSRequestorAuthenticationInfo.Items[0].ThreeDSReqAuthMethod != "06" || a.WhiteListStatus != "Y" {
		t.Fatalf("the app AReq: %+v", a)
	}
}

func TestA3RIAReqCarriesTheBuyersTaxID(t *testing.T) {
	n := newNetwork(t)
	n.withVersionRanges(t)
	body := monthlyBody(pan231, frictionless(t, n, pan231))
	body["taxId"] = "FR40303265045"
	var res threedsserver.Result
	if code := n.call(t, "POST", "/v1/authentications", body, &res); code != http.StatusCreated {
		t.Fatalf("HTTP %d %+v", code, res)
	}
	if a := lastAReq(n); a.DeviceChannel != emv.Channel3RI || a.TaxID != "FR40303265045" {
		t.Fatalf("the 3RI AReq: %+v", a)
	}
}
