package smpp_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/notify/smpp"
)

// FuzzDecodePDU feeds arbitrary bytes to the decoder: it must never panic, and whatever it accepts
// must encode and decode back to the same PDU.
func FuzzDecodePDU(f *testing.F) {
	for _, p := range []*smpp.PDU{
		submit(),
		{Command: smpp.BindTransmitter, Sequence: 1, SystemID: "open3ds", Password: "secret", InterfaceVersion: 0x34},
		{Command: smpp.BindTransmitterResp, Sequence: 1, SystemID: "smsc"},
		{Command: smpp.SubmitSMResp, Sequence: 2, MessageID: "msg-1"},
		{Command: smpp.DeliverSM, Sequence: 3, ESMClass: 4, ShortMessage: []byte("id:1 stat:DELIVRD err:000")},
		{Command: smpp.GenericNack, Status: smpp.ESME_RINVCMDID, Sequence: 4},
		{Command: smpp.EnquireLink, Sequence: 5},
	} {
		b, err := smpp.Encode(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := smpp.Decode(data)
		if err != nil {
			return
		}
		b, err := smpp.Encode(p)
		if err != nil {
			t.Fatalf("decoded PDU does not encode: %v (%+v)", err, p)
		}
		q, err := smpp.Decode(b)
		if err != nil {
			t.Fatalf("re-encoded PDU does not decode: %v", err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the PDU:\n%+v\n%+v", p, q)
		}
	})
}

// FuzzParseReceipt reads arbitrary receipt texts: it must never panic, and an id it reports must
// come from the text.
func FuzzParseReceipt(f *testing.F) {
	for _, s := range []string{
		"id:abc123 sub:001 dlvrd:001 submit date:2611251000 done date:2611251000 stat:DELIVRD err:000 text:",
		"id:", "stat:DELIVRD", "xid:1 id:2", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, ok := smpp.ParseReceipt(&smpp.PDU{Command: smpp.DeliverSM, ESMClass: 4, ShortMessage: []byte(text)})
		if ok && !strings.Contains(text, r.MessageID) {
			t.Fatalf("id %q is not in %q", r.MessageID, text)
		}
	})
}
