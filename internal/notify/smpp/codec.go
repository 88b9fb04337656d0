package smpp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// Encode serialises p. It returns an error wrapping ErrTooLong when a field exceeds its SMPP
// limit, so a bad configuration is caught before the SMSC sees it.
func Encode(p *PDU) ([]byte, error) {
	w := writer{b: make([]byte, HeaderLen, 64)}
	switch p.Command {
	case BindTransmitter:
		w.cstr("system_id", p.SystemID, maxSystemID)
		w.cstr("password", p.Password, maxPassword)
		w.cstr("system_type", p.SystemType, maxSystemType)
		w.byte(p.InterfaceVersion, p.AddrTON, p.AddrNPI)
		w.cstr("address_range", p.AddressRange, maxAddressRange)
	case BindTransmitterResp:
		w.cstr("system_id", p.SystemID, maxSystemID)
		w.tlvs(p.TLVs)
	case SubmitSM, DeliverSM:
		w.cstr("service_type", p.ServiceType, maxServiceType)
		w.byte(p.SourceTON, p.SourceNPI)
		w.cstr("source_addr", p.Source, maxAddr)
		w.byte(p.DestTON, p.DestNPI)
		w.cstr("destination_addr", p.Dest, maxAddr)
		w.byte(p.ESMClass, p.ProtocolID, p.PriorityFlag)
		w.cstr("schedule_delivery_time", p.ScheduleDeliveryTime, maxTime)
		w.cstr("validity_period", p.ValidityPeriod, maxTime)
		w.byte(p.RegisteredDelivery, p.ReplaceIfPresent, p.DataCoding, p.SMDefaultMsgID)
		if len(p.ShortMessage) > maxShortMessage {
			w.fail("short_message", len(p.ShortMessage), maxShortMessage)
		}
		w.byte(byte(len(p.ShortMessage)))
		w.b = append(w.b, p.ShortMessage...)
		w.tlvs(p.TLVs)
	case SubmitSMResp, DeliverSMResp:
		w.cstr("message_id", p.MessageID, maxMessageID)
	case GenericNack, Unbind, UnbindResp, EnquireLink, EnquireLinkResp:
	default:
		w.b = append(w.b, p.Body...)
	}
	if w.err != nil {
		return nil, w.err
	}
	if len(w.b) > MaxPDULen {
		return nil, fmt.Errorf("%w: PDU of %d octets", ErrTooLong, len(w.b))
	}
	binary.BigEndian.PutUint32(w.b, uint32(len(w.b)))
	binary.BigEndian.PutUint32(w.b[4:], uint32(p.Command))
	binary.BigEndian.PutUint32(w.b[8:], uint32(p.Status))
	binary.BigEndian.PutUint32(w.b[12:], p.Sequence)
	return w.b, nil
}

type writer struct {
	b   []byte
	err error
}

func (w *writer) fail(field string, n, limit int) {
	if w.err == nil {
		w.err = fmt.Errorf("%w: %s is %d octets, the limit is %d", ErrTooLong, field, n, limit)
	}
}

func (w *writer) byte(bs ...byte) { w.b = append(w.b, bs...) }

// cstr writes a C-Octet String: the text and a NUL, at most limit octets in all. A NUL inside the
// text would end the field early on the other side, so it is refused.
func (w *writer) cstr(field, s string, limit int) {
	if len(s)+1 > limit {
		w.fail(field, len(s)+1, limit)
	}
	if bytes.IndexByte([]byte(s), 0) >= 0 && w.err == nil {
		w.err = fmt.Errorf("smpp: %s contains a NUL", field)
	}
	w.b = append(append(w.b, s...), 0)
}

func (w *writer) tlvs(ts []TLV) {
	for _, t := range ts {
		if len(t.Value) > 0xFFFF {
			w.fail(fmt.Sprintf("TLV 0x%04x", t.Tag), len(t.Value), 0xFFFF)
			return
		}
		w.b = binary.BigEndian.AppendUint16(w.b, t.Tag)
		w.b = binary.BigEndian.AppendUint16(w.b, uint16(len(t.Value)))
		w.b = append(w.b, t.Value...)
	}
}

// ReadPDU reads one whole PDU from r and decodes it. A length below the header size or above
// MaxPDULen is an error, since nothing after it can be trusted to be framed right.
func ReadPDU(r io.Reader) (*PDU, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n < HeaderLen || n > MaxPDULen {
		return nil, &DecodeError{Field: "command_length", Reason: fmt.Sprintf("%d is outside %d..%d", n, HeaderLen, MaxPDULen)}
	}
	b := make([]byte, n)
	copy(b, h[:])
	if _, err := io.ReadFull(r, b[4:]); err != nil {
		return nil, err
	}
	return Decode(b)
}

// Decode parses one complete PDU. It never panics on bad input; it returns a *DecodeError naming
// the field at fault.
func Decode(b []byte) (*PDU, error) {
	if len(b) < HeaderLen {
		return nil, &DecodeError{Field: "header", Reason: fmt.Sprintf("%d octets, need %d", len(b), HeaderLen)}
	}
	n, cmd, st, seq := headerOf(b)
	if int64(n) != int64(len(b)) {
		return nil, &DecodeError{Command: cmd, Field: "command_length", Reason: fmt.Sprintf("says %d, have %d octets", n, len(b))}
	}
	p := &PDU{Command: cmd, Status: st, Sequence: seq}
	r := reader{b: b[HeaderLen:], cmd: cmd}
	switch cmd {
	case BindTransmitter:
		p.SystemID = r.cstr("system_id", maxSystemID)
		p.Password = r.cstr("password", maxPassword)
		p.SystemType = r.cstr("system_type", maxSystemType)
		p.InterfaceVersion, p.AddrTON, p.AddrNPI = r.byte("interface_version"), r.byte("addr_ton"), r.byte("addr_npi")
		p.AddressRange = r.cstr("address_range", maxAddressRange)
	case BindTransmitterResp:
		// An error response may come without a body.
		if len(r.b) > 0 || st == ESME_ROK {
			p.SystemID = r.cstr("system_id", maxSystemID)
			p.TLVs = r.tlvs()
		}
	case SubmitSM, DeliverSM:
		p.ServiceType = r.cstr("service_type", maxServiceType)
		p.SourceTON, p.SourceNPI = r.byte("source_addr_ton"), r.byte("source_addr_npi")
		p.Source = r.cstr("source_addr", maxAddr)
		p.DestTON, p.DestNPI = r.byte("dest_addr_ton"), r.byte("dest_addr_npi")
		p.Dest = r.cstr("destination_addr", maxAddr)
		p.ESMClass, p.ProtocolID, p.PriorityFlag = r.byte("esm_class"), r.byte("protocol_id"), r.byte("priority_flag")
		p.ScheduleDeliveryTime = r.cstr("schedule_delivery_time", maxTime)
		p.ValidityPeriod = r.cstr("validity_period", maxTime)
		p.RegisteredDelivery, p.ReplaceIfPresent = r.byte("registered_delivery"), r.byte("replace_if_present_flag")
		p.DataCoding, p.SMDefaultMsgID = r.byte("data_coding"), r.byte("sm_default_msg_id")
		p.ShortMessage = r.octets("short_message", int(r.byte("sm_length")))
		p.TLVs = r.tlvs()
	case SubmitSMResp, DeliverSMResp:
		if len(r.b) > 0 || st == ESME_ROK {
			p.MessageID = r.cstr("message_id", maxMessageID)
		}
	case GenericNack, Unbind, UnbindResp, EnquireLink, EnquireLinkResp:
	default:
		if len(r.b) > 0 {
			p.Body = append([]byte(nil), r.b...)
		}
		r.b = nil
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = &DecodeError{Command: cmd, Field: "body", Reason: fmt.Sprintf("%d octets left over", len(r.b))}
	}
	if r.err != nil {
		return nil, r.err
	}
	return p, nil
}

type reader struct {
	b   []byte
	cmd CommandID
	err error
}

func (r *reader) fail(field, reason string) {
	if r.err == nil {
		r.err = &DecodeError{Command: r.cmd, Field: field, Reason: reason}
	}
	r.b = nil
}

func (r *reader) byte(field string) byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 1 {
		r.fail(field, "missing")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) cstr(field string, limit int) string {
	if r.err != nil {
		return ""
	}
	i := bytes.IndexByte(r.b, 0)
	switch {
	case i < 0:
		r.fail(field, "no terminating NUL")
		return ""
	case i+1 > limit:
		r.fail(field, fmt.Sprintf("%d octets, the limit is %d", i+1, limit))
		return ""
	}
	s := string(r.b[:i])
	r.b = r.b[i+1:]
	return s
}

func (r *reader) octets(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.fail(field, fmt.Sprintf("needs %d octets, %d left", n, len(r.b)))
		return nil
	}
	if n == 0 {
		return nil
	}
	v := append([]byte(nil), r.b[:n]...)
	r.b = r.b[n:]
	return v
}

func (r *reader) tlvs() []TLV {
	var ts []TLV
	for r.err == nil && len(r.b) > 0 {
		if len(r.b) < 4 {
			r.fail("optional parameters", "truncated TLV header")
			return nil
		}
		tag, n := binary.BigEndian.Uint16(r.b), int(binary.BigEndian.Uint16(r.b[2:]))
		r.b = r.b[4:]
		v := r.octets(fmt.Sprintf("TLV 0x%04x", tag), n)
		if v == nil {
			v = []byte{}
		}
		ts = append(ts, TLV{Tag: tag, Value: v})
	}
	return ts
}
