package smpp

import (
	"strings"
)

// DeliveryReceipt is what an SMSC reports about a submitted message in a deliver_sm.
type DeliveryReceipt struct {
	MessageID string // the message_id submit_sm_resp gave
	Stat      string // DELIVRD, EXPIRED, UNDELIV, REJECTD, …
	Err       string // the network error code, "000" when none
}

// Delivered reports whether the handset got the message.
func (r DeliveryReceipt) Delivered() bool { return r.Stat == "DELIVRD" }

// ParseReceipt reads a delivery receipt from a deliver_sm whose esm_class marks one. The
// receipted_message_id parameter wins over the text's "id:" field when both are present; the
// text format ("id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…") is the
// de-facto one of SMPP 3.4's appendix B.
func ParseReceipt(p *PDU) (DeliveryReceipt, bool) {
	if p.Command != DeliverSM || p.ESMClass&0x3C != 0x04 {
		return DeliveryReceipt{}, false
	}
	text := string(p.ShortMessage)
	if v, ok := p.TLV(TagMessagePayload); ok && len(text) == 0 {
		text = string(v)
	}
	var r DeliveryReceipt
	r.MessageID = field(text, "id:")
	r.Stat = field(text, "stat:")
	r.Err = field(text, "err:")
	if v, ok := p.TLV(TagReceiptedMessageID); ok {
		r.MessageID = strings.TrimRight(string(v), "\x00")
	}
	return r, r.MessageID != ""
}

// field returns the word after key, where key (matched ignoring ASCII case) starts the text or
// follows a space.
func field(text, key string) string {
	for j := 0; j+len(key) <= len(text); j++ {
		if (j == 0 || text[j-1] == ' ') && asciiEqualFold(text[j:j+len(key)], key) {
			v := text[j+len(key):]
			if k := strings.IndexByte(v, ' '); k >= 0 {
				v = v[:k]
			}
			return v
		}
	}
	return ""
}

func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
