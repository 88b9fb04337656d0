// Package smpp is a small SMPP 3.4 client for sending one-time codes by SMS: a PDU codec for the
// operations a transmitter needs, and a session that binds, submits, keeps the link alive,
// answers the SMSC, reconnects and unbinds.
//
// It implements only what sending codes needs: bind_transmitter, submit_sm, enquire_link, unbind,
// generic_nack and deliver_sm (for delivery receipts). Any other PDU decodes with its body kept
// raw, so a session can refuse it with generic_nack instead of dropping the link.
package smpp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// CommandID identifies an operation. A response has the operation's id with the top bit set.
type CommandID uint32

// The operations this package knows.
const (
	GenericNack         CommandID = 0x80000000
	BindTransmitter     CommandID = 0x00000002
	BindTransmitterResp CommandID = 0x80000002
	SubmitSM            CommandID = 0x00000004
	SubmitSMResp        CommandID = 0x80000004
	DeliverSM           CommandID = 0x00000005
	DeliverSMResp       CommandID = 0x80000005
	Unbind              CommandID = 0x00000006
	UnbindResp          CommandID = 0x80000006
	EnquireLink         CommandID = 0x00000015
	EnquireLinkResp     CommandID = 0x80000015
)

var commandNames = map[CommandID]string{
	GenericNack: "generic_nack", BindTransmitter: "bind_transmitter", BindTransmitterResp: "bind_transmitter_resp",
	SubmitSM: "submit_sm", SubmitSMResp: "submit_sm_resp", DeliverSM: "deliver_sm", DeliverSMResp: "deliver_sm_resp",
	Unbind: "unbind", UnbindResp: "unbind_resp", EnquireLink: "enquire_link", EnquireLinkResp: "enquire_link_resp",
}

func (c CommandID) String() string {
	if n, ok := commandNames[c]; ok {
		return n
	}
	return fmt.Sprintf("command 0x%08x", uint32(c))
}

// IsResponse reports whether c is a response (generic_nack included).
func (c CommandID) IsResponse() bool { return c&0x80000000 != 0 }

// Status is a command_status: 0 for success, an ESME error code otherwise.
type Status uint32

// The statuses this package names; others print as hexadecimal.
const (
	ESME_ROK         Status = 0x00
	ESME_RINVMSGLEN  Status = 0x01
	ESME_RINVCMDLEN  Status = 0x02
	ESME_RINVCMDID   Status = 0x03
	ESME_RINVBNDSTS  Status = 0x04
	ESME_RALYBND     Status = 0x05
	ESME_RSYSERR     Status = 0x08
	ESME_RINVSRCADR  Status = 0x0A
	ESME_RINVDSTADR  Status = 0x0B
	ESME_RBINDFAIL   Status = 0x0D
	ESME_RINVPASWD   Status = 0x0E
	ESME_RINVSYSID   Status = 0x0F
	ESME_RMSGQFUL    Status = 0x14
	ESME_RTHROTTLED  Status = 0x58
	ESME_RUNKNOWNERR Status = 0xFF
)

var statusNames = map[Status]string{
	ESME_ROK: "ESME_ROK", ESME_RINVMSGLEN: "ESME_RINVMSGLEN", ESME_RINVCMDLEN: "ESME_RINVCMDLEN",
	ESME_RINVCMDID: "ESME_RINVCMDID", ESME_RINVBNDSTS: "ESME_RINVBNDSTS", ESME_RALYBND: "ESME_RALYBND",
	ESME_RSYSERR: "ESME_RSYSERR", ESME_RINVSRCADR: "ESME_RINVSRCADR", ESME_RINVDSTADR: "ESME_RINVDSTADR",
	ESME_RBINDFAIL: "ESME_RBINDFAIL", ESME_RINVPASWD: "ESME_RINVPASWD", ESME_RINVSYSID: "ESME_RINVSYSID",
	ESME_RMSGQFUL: "ESME_RMSGQFUL", ESME_RTHROTTLED: "ESME_RTHROTTLED", ESME_RUNKNOWNERR: "ESME_RUNKNOWNERR",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status 0x%08x", uint32(s))
}

// HeaderLen is the size of the PDU header: command_length, command_id, command_status and
// sequence_number, four octets each.
const HeaderLen = 16

// MaxPDULen bounds what ReadPDU accepts, so a corrupt length cannot make the client allocate
// gigabytes. A submit_sm with a full message_payload stays far below it.
const MaxPDULen = 64 << 10

// Optional parameter tags this package uses.
const (
	TagReceiptedMessageID uint16 = 0x001E
	TagMessagePayload     uint16 = 0x0424
	TagMessageState       uint16 = 0x0427
)

// TLV is an optional parameter.
type TLV struct {
	Tag   uint16
	Value []byte
}

// PDU is one protocol data unit. Which fields are used depends on Command; the others stay zero.
type PDU struct {
	Command  CommandID
	Status   Status
	Sequence uint32

	// bind_transmitter; SystemID also in bind_transmitter_resp.
	SystemID, Password, SystemType string
	InterfaceVersion               byte
	AddrTON, AddrNPI               byte
	AddressRange                   string

	// submit_sm and deliver_sm.
	ServiceType                          string
	SourceTON, SourceNPI                 byte
	Source                               string
	DestTON, DestNPI                     byte
	Dest                                 string
	ESMClass, ProtocolID, PriorityFlag   byte
	ScheduleDeliveryTime, ValidityPeriod string
	RegisteredDelivery, ReplaceIfPresent byte
	DataCoding, SMDefaultMsgID           byte
	ShortMessage                         []byte

	// submit_sm_resp and deliver_sm_resp.
	MessageID string

	// Optional parameters of bind_transmitter_resp, submit_sm and deliver_sm, in wire order.
	TLVs []TLV

	// Body is the undecoded body of a command this package does not know.
	Body []byte
}

// TLV returns the value of the first optional parameter with the tag.
func (p *PDU) TLV(tag uint16) ([]byte, bool) {
	for _, t := range p.TLVs {
		if t.Tag == tag {
			return t.Value, true
		}
	}
	return nil, false
}

// Field limits (the C-Octet String maxima of SMPP 3.4, terminating NUL included).
const (
	maxSystemID     = 16
	maxPassword     = 9
	maxSystemType   = 13
	maxAddressRange = 41
	maxServiceType  = 6
	maxAddr         = 21
	maxTime         = 17
	maxMessageID    = 65
	maxShortMessage = 254
)

// ErrTooLong is wrapped by encode errors for a field over its SMPP limit.
var ErrTooLong = errors.New("smpp: field too long")

// DecodeError says what is wrong with received bytes.
type DecodeError struct {
	Command CommandID
	Field   string
	Reason  string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("smpp: decode %s: %s: %s", e.Command, e.Field, e.Reason)
}

// headerOf reads the four header fields of b, which must hold at least HeaderLen octets.
func headerOf(b []byte) (length uint32, cmd CommandID, st Status, seq uint32) {
	return binary.BigEndian.Uint32(b), CommandID(binary.BigEndian.Uint32(b[4:])),
		Status(binary.BigEndian.Uint32(b[8:])), binary.BigEndian.Uint32(b[12:])
}
