package emv

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Parse decodes one JSON message of any type and validates it. Every failure is an *Error carrying the code,
// errorDetail naming the offending field(s) comma-separated, the errorMessageType, the version and every
// transaction id that was readable, so the caller can build the Erro with ErroFor.
//
// The checks run in the order of PROTOCOL.md §3.2, and the first class that fails decides the code:
// JSON and messageType (101), messageVersion (102), repeated keys (204), required elements (201), formats
// and values (203), critical extensions (202), then the cross-field rules (203).
func Parse(data []byte, c *Context) (Message, error) { return parse(data, "", c) }

// ParseAs is Parse for a receiver that takes only one type: another (known) type is 101 too.
func ParseAs(data []byte, want string, c *Context) (Message, error) {
	if !isKnownType(want) {
		// A caller's mistake, not the peer's; still an *Error, as promised, with the cause for the log.
		return nil, &Error{Code: CodeMessageInvalid, Detail: "messageType", Err: fmt.Errorf("ParseAs: unknown message type %q", want)}
	}
	return parse(data, want, c)
}

// Validate checks a message built in Go (before sending it, or a test's) with the same rules.
func Validate(m Message, c *Context) error {
	if m == nil {
		return &Error{Code: CodeMessageInvalid, Detail: "messageType"}
	}
	data, err := Marshal(m)
	if err != nil {
		return &Error{Code: CodeFormatInvalid, MessageType: m.Type(), Detail: "message cannot be encoded", Err: err}
	}
	root, dups, err := scan(data)
	if err != nil { // cannot happen for encoding/json output, but a raw element may carry anything
		return &Error{Code: CodeFormatInvalid, MessageType: m.Type(), Detail: "message cannot be encoded", Err: err}
	}
	e, tmpl, x := check(&root, dups, m.Type(), c)
	if e != nil {
		return e
	}
	return applyRules(m, x, tmpl)
}

// Marshal encodes a message: absent fields omitted, never an empty string, never null. The messageType
// written is always the Go type's, whatever the struct's MessageType field holds.
func Marshal(m Message) ([]byte, error) {
	if rv := reflect.ValueOf(m); !rv.IsValid() || rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, errors.New("emv: Marshal: nil message")
	}
	// Encode a copy whose messageType is the Go type's, so a caller's struct is never changed.
	src := reflect.ValueOf(m)
	typ := src.Elem().FieldByName("MessageType")
	if src.Kind() != reflect.Pointer || !typ.IsValid() || typ.Kind() != reflect.String {
		return nil, fmt.Errorf("emv: Marshal: unsupported message %T", m)
	}
	c := reflect.New(src.Elem().Type())
	c.Elem().Set(src.Elem())
	c.Elem().FieldByName("MessageType").SetString(m.Type())
	v := c.Interface()
	// URLs carry '&' and challenge texts '<'; escaping them as \u0026 is legal but needlessly opaque.
	return marshalPlain(v)
}

func parse(data []byte, want string, c *Context) (Message, error) {
	root, dups, err := scan(data)
	if err != nil {
		return nil, &Error{Code: CodeMessageInvalid, Detail: "message is not valid JSON", Err: err}
	}
	if root.kind != jObject {
		return nil, &Error{Code: CodeMessageInvalid, Detail: "message is not a JSON object"}
	}
	typ := str(&root, "messageType")
	if !isKnownType(typ) || (want != "" && typ != want) {
		e := baseError(&root, "")
		e.Code, e.Detail = CodeMessageInvalid, "messageType"
		if isKnownType(typ) {
			e.MessageType = typ
		}
		return nil, e
	}
	e, tmpl, x := check(&root, dups, typ, c)
	if e != nil {
		return nil, e
	}
	m := newMessage(typ)
	if !decodeTree(&root, m) {
		m = newMessage(typ) // decodeTree may have filled some fields before it declined
		if err := json.Unmarshal(data, m); err != nil {
			// The walk has vetted every element a struct field decodes, so this is a gap between the
			// dictionary and the structs; name the field if encoding/json tells us which.
			e := tmpl
			e.Code, e.Detail, e.Err = CodeFormatInvalid, "message", err
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				e.Detail = te.Field
			}
			return nil, e
		}
	}
	if err := applyRules(m, x, tmpl); err != nil {
		return nil, err
	}
	return m, nil
}

// check runs every table-driven check on a parsed message of a known type: version, repeated keys, then
// the dictionary walk. It returns the error, or nil and what the rules need: a template error carrying the
// ids, type and version, and the rule context.
func check(root *node, dups []string, typ string, c *Context) (*Error, *Error, *ruleCtx) {
	e := baseError(root, typ)
	vi := versionIndex(str(root, "messageVersion"))
	if vi < 0 {
		e.Code, e.Detail = CodeVersionNotSupported, "messageVersion"
		return e, nil, nil
	}
	if len(dups) > 0 {
		e.Code, e.Detail = CodeDuplicateElement, joinNames(dups)
		return e, nil, nil
	}
	ch, cat := scopeOf(typ, root, c)
	w := newWalker(vi, ch, cat)
	vals := valStacks.Get().(*[]*node)
	w.vals = *vals
	w.object(root, schemas[typ][vi], "")
	*vals = w.vals // empty again, each object having cleared its own slots
	valStacks.Put(vals)
	if r := w.result(); r != nil {
		e.Code, e.Detail = r.Code, r.Detail
		return e, nil, nil
	}
	x := &ruleCtx{vi: vi, ch: ch, cat: cat}
	if c != nil {
		x.areq = c.AReq
	}
	return nil, e, x
}

// baseError starts an error with what is readable of the message: its type and every transaction id
// that is a well-formed UUID.
func baseError(root *node, typ string) *Error {
	e := &Error{MessageType: typ}
	id := func(k string) string {
		if s := str(root, k); isUUID(s) {
			return s
		}
		return ""
	}
	e.ThreeDSServerTransID = id("threeDSServerTransID")
	e.ACSTransID = id("acsTransID")
	e.DSTransID = id("dsTransID")
	e.SDKTransID = id("sdkTransID")
	if vi := versionIndex(str(root, "messageVersion")); vi >= 0 {
		e.MessageVersion = Versions[vi]
	}
	return e
}

func newMessage(typ string) Message {
	switch typ {
	case TypeAReq:
		return &AReq{}
	case TypeARes:
		return &ARes{}
	case TypeCReq:
		return &CReq{}
	case TypeCRes:
		return &CRes{}
	case TypeRReq:
		return &RReq{}
	case TypeRRes:
		return &RRes{}
	case TypePReq:
		return &PReq{}
	case TypePRes:
		return &PRes{}
	}
	return &Erro{}
}
