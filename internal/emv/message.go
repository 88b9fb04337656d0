package emv

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Message is implemented by *AReq, *ARes, *CReq, *CRes, *RReq, *RRes, *PReq, *PRes and *Erro.
type Message interface {
	Type() string    // messageType
	Version() string // messageVersion
}

// Context carries what a message's rules depend on that the message itself does not carry. For ARes,
// RReq, RRes and CRes it is the transaction's AReq (device channel, message category, challenge indicator,
// decoupled request); nil means unknown: then the channel is inferred where the message shows it (e.g.
// sdkTransID present => app) and rules that cannot be decided are not applied.
type Context struct {
	AReq *AReq
}

// Device channels (deviceChannel) and message categories (messageCategory).
const (
	ChannelApp     = "01"
	ChannelBrowser = "02"
	Channel3RI     = "03"

	CategoryPayment    = "01"
	CategoryNonPayment = "02"
)

func (m *AReq) Type() string    { return TypeAReq }
func (m *ARes) Type() string    { return TypeARes }
func (m *CReq) Type() string    { return TypeCReq }
func (m *CRes) Type() string    { return TypeCRes }
func (m *RReq) Type() string    { return TypeRReq }
func (m *RRes) Type() string    { return TypeRRes }
func (m *PReq) Type() string    { return TypePReq }
func (m *PRes) Type() string    { return TypePRes }
func (m *Erro) Type() string    { return TypeErro }
func (m *AReq) Version() string { return m.MessageVersion }
func (m *ARes) Version() string { return m.MessageVersion }
func (m *CReq) Version() string { return m.MessageVersion }
func (m *CRes) Version() string { return m.MessageVersion }
func (m *RReq) Version() string { return m.MessageVersion }
func (m *RRes) Version() string { return m.MessageVersion }
func (m *PReq) Version() string { return m.MessageVersion }
func (m *PRes) Version() string { return m.MessageVersion }
func (m *Erro) Version() string { return m.MessageVersion }

// OneOrMany holds a data element that is a single value up to 2.2.0 and an array from 2.3.1 on
// (threeDSRequestorChallengeInd and the two requestor authentication-information objects). It decodes
// either shape and encodes the shape it was given, so a message round-trips unchanged; Go code picks
// the shape with One or Many to match the version it builds.
type OneOrMany[T any] struct {
	Items []T
	// List is true for the array form (2.3.1), false for the single value (2.1.0, 2.2.0).
	List bool
}

// One is the single-value form used up to 2.2.0.
func One[T any](v T) OneOrMany[T] { return OneOrMany[T]{Items: []T{v}} }

// Many is the array form used from 2.3.1 on.
func Many[T any](v ...T) OneOrMany[T] { return OneOrMany[T]{Items: v, List: true} }

// IsZero reports an absent element, so the omitzero tag leaves it out of the JSON.
func (o OneOrMany[T]) IsZero() bool { return len(o.Items) == 0 && !o.List }

// First is the first value, or the zero value when there is none.
func (o OneOrMany[T]) First() T {
	var zero T
	if len(o.Items) == 0 {
		return zero
	}
	return o.Items[0]
}

// MarshalJSON encodes the array form as an array and the single form as its one value.
func (o OneOrMany[T]) MarshalJSON() ([]byte, error) {
	if o.List {
		if o.Items == nil {
			return []byte("[]"), nil
		}
		return marshalPlain(o.Items)
	}
	if len(o.Items) != 1 {
		return nil, errors.New("emv: a single-value element must hold exactly one value")
	}
	return marshalPlain(o.Items[0])
}

// UnmarshalJSON accepts a JSON array (the 2.3.1 form) or a single value.
func (o *OneOrMany[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		o.List = true
		o.Items = nil
		return json.Unmarshal(b, &o.Items)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.List = false
	o.Items = []T{v}
	return nil
}

// Has reports whether any of the values equals v; it is meant for the code lists (OneOrMany[string]).
func Has(o OneOrMany[string], v string) bool {
	for _, s := range o.Items {
		if s == v {
			return true
		}
	}
	return false
}

// CardholderInfo is the cardholderInfo element: plain text of at most 128 characters up to 2.2.0, an
// object with the text and optional image URLs in 2.3.1. Object marks the 2.3.1 form.
type CardholderInfo struct {
	Text               string
	IssuerImage        string
	PaymentSystemImage string
	Object             bool
}

type cardholderInfoObject struct {
	Text               string `json:"text,omitempty"`
	IssuerImage        string `json:"issuerImage,omitempty"`
	PaymentSystemImage string `json:"paymentSystemImage,omitempty"`
}

// IsZero reports an absent element.
func (c CardholderInfo) IsZero() bool { return c == CardholderInfo{} }

// MarshalJSON encodes the object form as an object and the text form as a string.
func (c CardholderInfo) MarshalJSON() ([]byte, error) {
	if c.Object {
		return marshalPlain(cardholderInfoObject{c.Text, c.IssuerImage, c.PaymentSystemImage})
	}
	return marshalPlain(c.Text)
}

// UnmarshalJSON accepts the 2.3.1 object or the older string.
func (c *CardholderInfo) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var o cardholderInfoObject
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		*c = CardholderInfo{Text: o.Text, IssuerImage: o.IssuerImage, PaymentSystemImage: o.PaymentSystemImage, Object: true}
		return nil
	}
	*c = CardholderInfo{}
	return json.Unmarshal(b, &c.Text)
}

// marshalPlain is json.Marshal without HTML escaping, so that '&' in a URL or text stays '&' (see Marshal).
func marshalPlain(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
