package smpp_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/notify/smpp"
)

func submit() *smpp.PDU {
	return &smpp.PDU{Command: smpp.SubmitSM, Sequence: 7, SourceTON: 5, Source: "DemoBank", DestTON: 1, DestNPI: 1,
		Dest: "819012345678", RegisteredDelivery: 1, DataCoding: smpp.CodingUCS2, ShortMessage: smpp.EncodeUCS2("認証コード 482913")}
}

// A bind_transmitter written out by hand from the SMPP 3.4 layout, so the codec is checked
// against the specification and not only against itself.
func TestEncodeMatchesTheSpecificationLayout(t *testing.T) {
	got, err := smpp.Encode(&smpp.PDU{Command: smpp.BindTransmitter, Sequence: 1, SystemID: "open3ds", Password: "secret", InterfaceVersion: 0x34})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString("00000024" + "00000002" + "00000000" + "00000001" +
		hex.EncodeToString([]byte("open3ds\x00secret\x00\x00")) + "34" + "00" + "00" + "00")
	if !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	long := submit()
	long.ShortMessage = nil
	long.TLVs = []smpp.TLV{{Tag: smpp.TagMessagePayload, Value: bytes.Repeat([]byte{0x30, 0xb3}, 300)}}
	cases := []struct {
		name string
		pdu  *smpp.PDU
	}{
		{"a submit_sm in UCS-2", submit()},
		{"a submit_sm with its text in message_payload", long},
		{"a submit_sm_resp", &smpp.PDU{Command: smpp.SubmitSMResp, Sequence: 7, MessageID: "msg-1"}},
		{"an error submit_sm_resp", &smpp.PDU{Command: smpp.SubmitSMResp, Status: smpp.ESME_RINVDSTADR, Sequence: 8}},
		{"a bind_transmitter_resp with sc_interface_version", &smpp.PDU{Command: smpp.BindTransmitterResp, Sequence: 1, SystemID: "smsc", TLVs: []smpp.TLV{{Tag: 0x0210, Value: []byte{0x34}}}}},
		{"a generic_nack", &smpp.PDU{Command: smpp.GenericNack, Status: smpp.ESME_RINVCMDID, Sequence: 9}},
		{"an enquire_link", &smpp.PDU{Command: smpp.EnquireLink, Sequence: 10}},
		{"an unknown command keeps its body", &smpp.PDU{Command: 0x00000103, Sequence: 11, Body: []byte{1, 2, 3}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := smpp.Encode(tc.pdu)
			if err != nil {
				t.Fatal(err)
			}
			got, err := smpp.ReadPDU(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.pdu) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.pdu)
			}
		})
	}
}

func TestDecodeRejectsBadInput(t *testing.T) {
	good, _ := smpp.Encode(submit())
	cases := []struct {
		name  string
		bytes []byte
		field string
	}{
		{"a short header", good[:10], "header"},
		{"a length that disagrees with the data", append(append([]byte(nil), good...), 0), "command_length"},
		{"a C string without its NUL", fix(good[:16+5]), "source_addr"},
		{"a short message longer than what is left", fix(good[:len(good)-4]), "short_message"},
		{"a system_id over 16 octets", mustEncodeRaw(smpp.BindTransmitterResp, []byte(strings.Repeat("x", 20)+"\x00")), "system_id"},
		{"a truncated TLV", mustEncodeRaw(smpp.BindTransmitterResp, []byte("s\x00\x02\x10")), "optional parameters"},
		{"an enquire_link with a body", mustEncodeRaw(smpp.EnquireLink, []byte{0}), "body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := smpp.Decode(tc.bytes)
			var de *smpp.DecodeError
			if !errors.As(err, &de) || de.Field != tc.field {
				t.Fatalf("err = %v, want a DecodeError on %s", err, tc.field)
			}
		})
	}
	if _, err := smpp.ReadPDU(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff})); err == nil {
		t.Fatal("ReadPDU accepted a 4 GiB length")
	}
}

// fix rewrites command_length to the length of b.
func fix(b []byte) []byte {
	b = append([]byte(nil), b...)
	n := len(b)
	b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return b
}

func mustEncodeRaw(cmd smpp.CommandID, body []byte) []byte {
	h := make([]byte, 16)
	c := uint32(cmd)
	h[4], h[5], h[6], h[7] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
	return fix(append(h, body...))
}

func TestEncodeRefusesOversizedFields(t *testing.T) {
	cases := []struct {
		name string
		pdu  *smpp.PDU
	}{
		{"a password over 8 characters", &smpp.PDU{Command: smpp.BindTransmitter, Password: "123456789"}},
		{"a destination over 20 characters", &smpp.PDU{Command: smpp.SubmitSM, Dest: strings.Repeat("1", 21)}},
		{"a short message over 254 octets", &smpp.PDU{Command: smpp.SubmitSM, ShortMessage: make([]byte, 255)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := smpp.Encode(tc.pdu); !errors.Is(err, smpp.ErrTooLong) {
				t.Fatalf("err = %v, want ErrTooLong", err)
			}
		})
	}
}

func TestTextCoding(t *testing.T) {
	cases := []struct {
		name, text string
		coding     byte
	}{
		{"ASCII letters and digits fit the GSM alphabet", "Code 482913", smpp.CodingDefault},
		{"the euro sign uses the extension table", "€5", smpp.CodingDefault},
		{"Japanese needs UCS-2", "認証コード", smpp.CodingUCS2},
		{"an emoji needs UCS-2 with a surrogate pair", "ok 👍", smpp.CodingUCS2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, coding := smpp.EncodeText(tc.text)
			if coding != tc.coding {
				t.Fatalf("coding %d, want %d", coding, tc.coding)
			}
			back := smpp.DecodeUCS2(b)
			if coding == smpp.CodingDefault {
				back = smpp.DecodeGSM7(b)
			}
			if back != tc.text {
				t.Fatalf("round trip gave %q", back)
			}
		})
	}
	if b, _ := smpp.EncodeGSM7("€"); !bytes.Equal(b, []byte{0x1b, 0x65}) {
		t.Fatalf("€ = %x, want 1b65", b)
	}
}

func TestParseReceipt(t *testing.T) {
	p := &smpp.PDU{Command: smpp.DeliverSM, ESMClass: 0x04,
		ShortMessage: []byte("id:abc123 sub:001 dlvrd:000 submit date:2611251000 done date:2611251001 stat:UNDELIV err:042 text:")}
	r, ok := smpp.ParseReceipt(p)
	if !ok || r.MessageID != "abc123" || r.Stat != "UNDELIV" || r.Err != "042" || r.Delivered() {
		t.Fatalf("receipt = %+v, %v", r, ok)
	}
	p.TLVs = []smpp.TLV{{Tag: smpp.TagReceiptedMessageID, Value: []byte("ABC123\x00")}}
	if r, _ := smpp.ParseReceipt(p); r.MessageID != "ABC123" {
		t.Fatalf("receipted_message_id not preferred: %+v", r)
	}
	p.ESMClass = 0
	if _, ok := smpp.ParseReceipt(p); ok {
		t.Fatal("an ordinary deliver_sm was taken for a receipt")
	}
}
