package emv_test

import (
	"bytes"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

func TestBuiltMessagesAreValid(t *testing.T) {
	for _, v := range emv.Versions {
		areq3RI := sampleAReq(v, emv.Channel3RI)
		msgs := map[string]struct {
			m emv.Message
			c *emv.Context
		}{
			"browser AReq":      {sampleAReq(v, emv.ChannelBrowser), nil},
			"app AReq":          {sampleAReq(v, emv.ChannelApp), nil},
			"3RI AReq":          {areq3RI, nil},
			"frictionless ARes": {sampleARes(v), nil},
			"browser challenge": {sampleChallengeARes(v, emv.ChannelBrowser), &emv.Context{AReq: sampleAReq(v, emv.ChannelBrowser)}},
			"app challenge":     {sampleChallengeARes(v, emv.ChannelApp), &emv.Context{AReq: sampleAReq(v, emv.ChannelApp)}},
			"RReq":              {sampleRReq(v), nil},
			"RRes":              {sampleRRes(v), nil},
			"browser CReq":      {sampleCReq(v, emv.ChannelBrowser), nil},
			"app CReq":          {sampleCReq(v, emv.ChannelApp), nil},
			"browser CRes":      {sampleCRes(v, emv.ChannelBrowser), nil},
			"app CRes":          {sampleCRes(v, emv.ChannelApp), nil},
			"PReq":              {samplePReq(v), nil},
			"PRes":              {samplePRes(v), nil},
			"Erro":              {sampleErro(v), nil},
		}
		for name, tc := range msgs {
			t.Run(v+" "+name+" passes Validate and Parse", func(t *testing.T) {
				if err := emv.Validate(tc.m, tc.c); err != nil {
					t.Fatalf("Validate: %v", err)
				}
				got, err := emv.Parse(encode(t, tc.m), tc.c)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if got.Type() != tc.m.Type() || got.Version() != v {
					t.Fatalf("Parse gave %s %s, want %s %s", got.Type(), got.Version(), tc.m.Type(), v)
				}
			})
		}
	}
}

func TestParseMarshalRoundTripKeepsAnAReq(t *testing.T) {
	for _, v := range emv.Versions {
		t.Run(v, func(t *testing.T) {
			m := sampleAReq(v, emv.ChannelBrowser)
			m.AcctInfo = &emv.AcctInfo{ChAccAgeInd: "05", ChAccDate: "20200229", TxnActivityDay: "1"}
			m.MobilePhone = &emv.Phone{CC: "44", Subscriber: "7700900000"}
			m.MerchantRiskIndicator = &emv.MerchantRisk{ShipIndicator: "01", GiftCardAmount: "100"}
			m.MessageExtension = []emv.MessageExtension{{Name: "ours", ID: "A000000003-1", Data: []byte(`{"a":[1,2]}`)}}
			if v == emv.Version231 {
				m.ThreeDSRequestorChallengeInd = emv.Many("03", "04")
				m.ThreeDSRequestorAuthenticationInfo = emv.Many(emv.ThreeDSRequestorAuthenticationInfo{
					ThreeDSReqAuthMethod: "02", ThreeDSReqAuthTimestamp: "202501311200"})
			} else {
				m.ThreeDSRequestorChallengeInd = emv.One("03")
				m.ThreeDSRequestorAuthenticationInfo = emv.One(emv.ThreeDSRequestorAuthenticationInfo{
					ThreeDSReqAuthMethod: "02", ThreeDSReqAuthTimestamp: "202501311200"})
			}
			first := encode(t, m)
			parsed, err := emv.Parse(first, nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			second := encode(t, parsed)
			if !bytes.Equal(first, second) {
				t.Fatalf("round trip changed the message:\n%s\n%s", first, second)
			}
			again, err := emv.Parse(second, nil)
			if err != nil {
				t.Fatalf("second Parse: %v", err)
			}
			if got := again.(*emv.AReq).ThreeDSRequestorChallengeInd; got.List != (v == emv.Version231) {
				t.Fatalf("challenge indicator shape = list %v after the round trip", got.List)
			}
		})
	}
}
