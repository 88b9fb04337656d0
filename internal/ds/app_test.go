package ds_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
)

// sdkCase is one sdkEncData an independent SDK (the npm jose peer) makes.
type sdkCase struct {
	name      string
	key       encKey
	enc, alg  string // alg: the EC header's alg; empty for RSA
	kid       string
	version   string
	sdkEncDat string
}

// TestTheACSGetsTheDeviceInfoOfSDKEncDataFromAnIndependentSDK: sdkEncData made by the npm jose
// package to the DS's RSA and EC keys, with each content encryption, both EC headers, with and
// without a kid, in every version, reaches the ACS as deviceInfo holding the device JSON, and
// sdkEncData itself does not.
func TestTheACSGetsTheDeviceInfoOfSDKEncDataFromAnIndependentSDK(t *testing.T) {
	rsaKey, ecKey := pkiEncKeys(t)
	var cases []sdkCase
	for _, enc := range []string{sdkcrypto.EncA128CBCHS256, sdkcrypto.EncA128GCM} {
		for _, kid := range []string{"with kid", "without kid"} {
			cases = append(cases, sdkCase{name: "RSA " + enc + " " + kid, key: rsaKey, enc: enc, kid: kid})
			for _, alg := range []string{sdkcrypto.AlgDir, sdkcrypto.AlgECDHES} {
				cases = append(cases, sdkCase{name: "EC " + alg + " " + enc + " " + kid, key: ecKey, enc: enc, alg: alg, kid: kid})
			}
		}
	}
	// The peer runs once per case; each backend's DS opens the same data.
	for i := range cases {
		c := &cases[i]
		kid := ""
		if c.kid == "with kid" {
			kid = c.key.id
		}
		c.version = emv.Versions[i%len(emv.Versions)]
		c.sdkEncDat = peerSDKEncData(t, c.key, c.enc, c.alg, kid, deviceJSON)
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			n := newNetwork(t, netOptions{open: b.open})
			n.acs.setAnswer(appFrictionless)
			for _, c := range cases {
				t.Run(c.name+" "+c.version, func(t *testing.T) {
					ares, ok := n.send(t, n.psp, n.appAReq(t, c.version, c.sdkEncDat)).(*emv.ARes)
					if !ok || ares.TransStatus != "Y" {
						t.Fatalf("got %+v, want the ACS's Y", ares)
					}
					fwd := n.forwarded(t, ares.DSTransID)
					if fwd.SDKEncData != "" {
						t.Error("the ACS received sdkEncData")
					}
					if string(fwd.DeviceInfo) != b64DeviceJSON {
						t.Errorf("deviceInfo = %s, want %s", fwd.DeviceInfo, b64DeviceJSON)
					}
				})
			}
			// A scheme whose ACSs want the object gets it as the SDK wrote it.
			sc, err := n.store.Scheme(context.Background())
			must(t, err)
			sc.DeviceInfo = ds.DeviceInfoJSON
			_, err = n.store.SetScheme(context.Background(), sc)
			must(t, err)
			ares, ok := n.send(t, n.psp, n.appAReq(t, emv.Version231, cases[1].sdkEncDat)).(*emv.ARes)
			if !ok || ares.TransStatus != "Y" {
				t.Fatalf("got %+v, want the ACS's Y", ares)
			}
			if got := n.forwarded(t, ares.DSTransID).DeviceInfo; string(got) != deviceJSON {
				t.Errorf("deviceInfo as JSON = %s, want %s", got, deviceJSON)
			}
		})
	}
}

// TestOldAndNewDSKeysBothDecryptWhileTheyRotate: while the DS holds a new and an old key of each
// kind, sdkEncData to either opens, with its kid or without; once the old keys are gone, data to
// them is refused (302) and reaches no ACS.
func TestOldAndNewDSKeysBothDecryptWhileTheyRotate(t *testing.T) {
	oldRSA, oldEC := pkiEncKeys(t)
	newRSA, newEC := freshEncKey(t, false, "ds-rsa-2"), freshEncKey(t, true, "ds-ec-2")
	type sent struct {
		name string
		old  bool
		data string
	}
	var all []sent
	for _, k := range []struct {
		key encKey
		alg string
		old bool
	}{{newRSA, "", false}, {newEC, sdkcrypto.AlgECDHES, false}, {oldRSA, "", true}, {oldEC, sdkcrypto.AlgDir, true}} {
		for _, kid := range []string{k.key.id, ""} {
			all = append(all, sent{name: k.key.id + " kid " + kid, old: k.old,
				data: peerSDKEncData(t, k.key, sdkcrypto.EncA128CBCHS256, k.alg, kid, deviceJSON)})
		}
	}
	both := newNetwork(t, netOptions{sdkKeys: []sdkcrypto.DSKey{newRSA.dsKey(), newEC.dsKey(), oldRSA.dsKey(), oldEC.dsKey()}})
	both.acs.setAnswer(appFrictionless)
	for _, s := range all {
		ares, ok := both.send(t, both.psp, both.appAReq(t, emv.Version220, s.data)).(*emv.ARes)
		if !ok || ares.TransStatus != "Y" || string(both.forwarded(t, ares.DSTransID).DeviceInfo) != b64DeviceJSON {
			t.Errorf("%s, both keys live: got %+v", s.name, ares)
		}
	}
	after := newNetwork(t, netOptions{sdkKeys: []sdkcrypto.DSKey{newRSA.dsKey(), newEC.dsKey()}})
	after.acs.setAnswer(appFrictionless)
	for _, s := range all {
		m := after.send(t, after.psp, after.appAReq(t, emv.Version220, s.data))
		if s.old {
			wantErro(t, m, "302", "sdkEncData")
		} else if ares, ok := m.(*emv.ARes); !ok || ares.TransStatus != "Y" {
			t.Errorf("%s, new keys only: got %+v", s.name, m)
		}
	}
	if got := len(after.acs.received(emv.TypeAReq)); got != 4 {
		t.Errorf("the ACS received %d AReqs, want only the 4 to the new keys", got)
	}
}

// TestSDKEncDataThatIsNotDeviceInformationIsRefusedWith302AndReachesNoACS: whatever sdkEncData
// fails to decrypt to device information, the 3DS Server gets Erro 302 naming sdkEncData from the
// DS, the exchange log records it, the log does not carry the data, and the ACS hears nothing.
func TestSDKEncDataThatIsNotDeviceInformationIsRefusedWith302AndReachesNoACS(t *testing.T) {
	rsaKey, ecKey := pkiEncKeys(t)
	good := peerSDKEncData(t, ecKey, sdkcrypto.EncA128CBCHS256, sdkcrypto.AlgECDHES, "", deviceJSON)
	parts := strings.Split(good, ".")
	tag := []byte(parts[4])
	tag[0] ^= 1 // still base64url: flipping the low bit swaps two letters of the alphabet
	random := make([]byte, 300)
	rand.Read(random)
	b64 := base64.RawURLEncoding.EncodeToString
	fivePart := strings.Join([]string{b64(random[:40]), b64(random[40:80]), b64(random[80:96]), b64(random[96:200]), b64(random[200:216])}, ".")
	otherDS, err := sdkcrypto.EncryptSDKEncData([]byte(deviceJSON), ecKey.key.Public(), "", "A000000004", sdkcrypto.EncA128CBCHS256, "")
	must(t, err)
	cases := map[string]string{
		"random bytes":                        base64.StdEncoding.EncodeToString(random),
		"random base64url":                    b64(random),
		"five random base64url parts":         fivePart,
		"a tampered tag":                      strings.Join(append(parts[:4:4], string(tag)), "."),
		"a kid the DS does not hold":          peerSDKEncData(t, ecKey, sdkcrypto.EncA128GCM, sdkcrypto.AlgDir, "ds-ec-9", deviceJSON),
		"EC data under another DS id":         otherDS,
		"a JWE of JSON that is not an object": peerSDKEncData(t, rsaKey, sdkcrypto.EncA128CBCHS256, "", "", `["DV","DD"]`),
		"a JWE of an object without DD":       peerSDKEncData(t, rsaKey, sdkcrypto.EncA128GCM, "", "", `{"DV":"1.7","Pixel 8":"C002"}`),
		"a JWE of text":                       peerSDKEncData(t, ecKey, sdkcrypto.EncA128CBCHS256, sdkcrypto.AlgDir, "", "Pixel 8 on Android"),
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			n := newNetwork(t, netOptions{open: b.open, standard: true})
			n.acs.setAnswer(appFrictionless)
			for name, data := range cases {
				areq := n.appAReq(t, emv.Version231, data)
				e := wantErro(t, n.send(t, n.psp, areq), "302", "sdkEncData")
				if e.ErrorMessageType != emv.TypeAReq || e.ThreeDSServerTransID != areq.ThreeDSServerTransID {
					t.Errorf("%s: the Erro is not about the AReq: %+v", name, e)
				}
				ex, err := n.db.ExchangesByTransID(context.Background(), areq.ThreeDSServerTransID)
				must(t, err)
				if len(ex) != 1 || ex[0].MessageType != "AReq" || ex[0].ErrorCode != "302" || ex[0].Outcome != emv.TypeErro {
					t.Errorf("%s: exchange log %+v, want the one refused AReq", name, ex)
				}
			}
			if got := n.acs.received(emv.TypeAReq); len(got) != 0 {
				t.Errorf("the ACS received %d AReqs", len(got))
			}
			if got := n.metric(t, "open3ds_ds_sdkencdata_refused_total", nil); got != float64(len(cases)) {
				t.Errorf("refusals counted %v, want %d", got, len(cases))
			}
			logs := n.logs.String()
			if strings.Count(logs, `"errorCode":"302"`) < len(cases) {
				t.Errorf("the refusals are not in the log:\n%s", logs)
			}
			for _, secret := range []string{"Pixel 8", "Europe/Paris", b64DeviceJSON[1:20]} {
				if strings.Contains(logs, secret) {
					t.Errorf("device information (%q) reached the log", secret)
				}
			}
		})
	}
}

// TestTheDSChecksTheAppElementsItOwns: the SDK's ephemeral key must be on P-256, its reference
// number approved (or the scheme must accept unknown ones), its timeout at least 5 minutes, and its
// type described by the matching object. A refused AReq reaches no ACS.
func TestTheDSChecksTheAppElementsItOwns(t *testing.T) {
	data := ourSDKEncData(t)
	eph, err := ecdh.P256().GenerateKey(rand.Reader)
	must(t, err)
	offCurve := sdkcrypto.PublicJWK(eph.PublicKey())
	y := []byte(offCurve.Y)
	y[len(y)-2] ^= 1
	offCurve.Y = string(y)
	const unknownSDK = "3DS_LOA_SDK_UNKN_020301_00001"
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			n := newNetwork(t, netOptions{open: b.open})
			n.acs.setAnswer(appFrictionless)
			setUnknownSDK := func(p ds.SDKPolicy) {
				sc, err := n.store.Scheme(ctx)
				must(t, err)
				sc.UnknownSDK = p
				_, err = n.store.SetScheme(ctx, sc)
				must(t, err)
			}
			steps := []struct {
				name    string
				before  func()
				change  func(*emv.AReq)
				code    string // "" for the ACS's Y
				detail  string
				reached bool
			}{
				{name: "an sdkEphemPubKey off the curve is 203",
					change: func(a *emv.AReq) { a.SDKEphemPubKey, _ = json.Marshal(offCurve) }, code: "203", detail: "sdkEphemPubKey"},
				{name: "an sdkMaxTimeout of 04 is 203",
					change: func(a *emv.AReq) { a.SDKMaxTimeout = "04" }, code: "203", detail: "sdkMaxTimeout"},
				{name: "a split SDK that carries defaultSdkType is 203",
					change: func(a *emv.AReq) { a.SDKType, a.SplitSDKType = "02", &emv.SplitSDKType{SDKVariant: "01"} }, code: "203", detail: "defaultSdkType"},
				{name: "an SDK the scheme has not approved is 303 by default",
					change: func(a *emv.AReq) { a.SDKReferenceNumber = unknownSDK }, code: "303", detail: "sdkReferenceNumber"},
				{name: "the same SDK passes once approved",
					before: func() { must(t, n.store.AddSDK(ctx, ds.SDK{ReferenceNumber: unknownSDK})) },
					change: func(a *emv.AReq) { a.SDKReferenceNumber = unknownSDK }, reached: true},
				{name: "and is 303 again once its approval is withdrawn",
					before: func() { must(t, n.store.RemoveSDK(ctx, unknownSDK)) },
					change: func(a *emv.AReq) { a.SDKReferenceNumber = unknownSDK }, code: "303", detail: "sdkReferenceNumber"},
				{name: "an unknown SDK passes, logged, when the scheme accepts unknown SDKs",
					before: func() { setUnknownSDK(ds.SDKAccept) },
					change: func(a *emv.AReq) { a.SDKReferenceNumber = unknownSDK }, reached: true},
				{name: "and is refused again when the scheme goes back to rejecting them",
					before: func() { setUnknownSDK(ds.SDKReject) },
					change: func(a *emv.AReq) { a.SDKReferenceNumber = unknownSDK }, code: "303", detail: "sdkReferenceNumber"},
			}
			for _, st := range steps {
				if st.before != nil {
					st.before()
				}
				areq := n.appAReq(t, emv.Version231, data)
				st.change(areq)
				before := len(n.acs.received(emv.TypeAReq))
				m := n.send(t, n.psp, areq)
				if st.code != "" {
					wantErro(t, m, st.code, st.detail)
				} else if ares, ok := m.(*emv.ARes); !ok || ares.TransStatus != "Y" {
					t.Errorf("%s: got %+v, want the ACS's Y", st.name, m)
				}
				if reached := len(n.acs.received(emv.TypeAReq)) > before; reached != st.reached {
					t.Errorf("%s: the ACS received the AReq: %v, want %v", st.name, reached, st.reached)
				}
			}
			if !strings.Contains(n.logs.String(), unknownSDK) {
				t.Error("the accepted unknown SDK is not in the log")
			}
		})
	}
}

// TestOnlyTheDSWritesDeviceInfo: a deviceInfo the 3DS Server put in its AReq never reaches the ACS:
// a browser AReq's is dropped, and an app AReq's gives way to the DS's own from sdkEncData.
func TestOnlyTheDSWritesDeviceInfo(t *testing.T) {
	n := newNetwork(t, netOptions{})
	n.acs.setAnswer(appFrictionless)
	forged := json.RawMessage(`"eyJEViI6IjEuNyIsIkREIjp7IkMwMDEiOiJmb3JnZWQifX0"`)
	browser := n.areq(t, "4000000000001091")
	browser.DeviceInfo = forged
	app := n.appAReq(t, emv.Version231, ourSDKEncData(t))
	app.DeviceInfo = forged
	for name, c := range map[string]struct {
		areq *emv.AReq
		want string
	}{"browser": {browser, ""}, "app": {app, b64DeviceJSON}} {
		ares, ok := n.send(t, n.psp, c.areq).(*emv.ARes)
		if !ok || ares.TransStatus != "Y" {
			t.Fatalf("%s: got %+v, want the ACS's Y", name, ares)
		}
		if got := n.forwarded(t, ares.DSTransID).DeviceInfo; string(got) != c.want {
			t.Errorf("%s: the ACS got deviceInfo %s, want %q", name, got, c.want)
		}
	}
}
