package emv

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// Parse has already built the message's JSON tree and walked it against the dictionary, so decoding the
// same bytes again with encoding/json would scan and unquote every value a second time. decodeTree fills
// the struct from the tree instead. It promises exactly what json.Unmarshal would give, and it keeps
// that promise by declining: on anything it is not sure to decode as encoding/json does (a value of the
// wrong JSON kind, a key that matches a field only in other capitals, a struct shape it does not know)
// it returns false, and Parse falls back to encoding/json on the original bytes. After a successful walk
// that never happens for a message of ours; the fallback is there so that the rare case stays correct
// rather than fast.

// nodeDecoder is implemented by the types that decode themselves (json.Unmarshaler) so that decodeTree
// need not hand them bytes to scan again. decodeNode must fill the value as its UnmarshalJSON would.
type nodeDecoder interface {
	decodeNode(n *node) bool
}

var (
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	nodeDecoderType = reflect.TypeFor[nodeDecoder]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textType        = reflect.TypeFor[encoding.TextUnmarshaler]()
	stringType      = reflect.TypeFor[string]()
)

// decodeTree fills m, a pointer to a fresh message struct, from root. False means: use encoding/json.
func decodeTree(root *node, m Message) bool {
	return decodeValue(root, reflect.ValueOf(m).Elem())
}

// decodeValue decodes n into v, which is settable and holds its type's zero value.
func decodeValue(n *node, v reflect.Value) bool {
	t := v.Type()
	if t == rawMessageType {
		// encoding/json hands a RawMessage the value's bytes, copied, "null" included.
		v.SetBytes(bytes.Clone(n.raw))
		return true
	}
	if reflect.PointerTo(t).Implements(nodeDecoderType) {
		// encoding/json gives null to an Unmarshaler too; what each one makes of it is its own affair.
		return n.kind != jNull && v.Addr().Interface().(nodeDecoder).decodeNode(n)
	}
	if pt := reflect.PointerTo(t); pt.Implements(unmarshalerType) || pt.Implements(textType) {
		return false // a type with its own decoding that decodeTree does not know
	}
	switch t.Kind() {
	case reflect.String:
		// null leaves a string, a bool or a struct as it was: here, its zero value.
		if n.kind == jString {
			v.SetString(n.str)
		}
		return n.kind == jString || n.kind == jNull
	case reflect.Bool:
		if n.kind == jBool {
			v.SetBool(n.b)
		}
		return n.kind == jBool || n.kind == jNull
	case reflect.Struct:
		return n.kind == jNull || n.kind == jObject && decodeStruct(n, v)
	case reflect.Pointer:
		if n.kind == jNull {
			return true // null makes a pointer nil, which it is
		}
		p := reflect.New(t.Elem())
		if !decodeValue(n, p.Elem()) {
			return false
		}
		v.Set(p)
		return true
	case reflect.Slice:
		return n.kind == jNull || n.kind == jArray && decodeSlice(n, v)
	case reflect.Map:
		return n.kind == jNull || n.kind == jObject && decodeMap(n, v)
	}
	return false
}

func decodeSlice(n *node, v reflect.Value) bool {
	s := reflect.MakeSlice(v.Type(), len(n.items), len(n.items))
	for i := range n.items {
		if !decodeValue(&n.items[i], s.Index(i)) {
			return false
		}
	}
	v.Set(s)
	return true
}

// decodeMap decodes the only maps the messages have: string keys to string values.
func decodeMap(n *node, v reflect.Value) bool {
	t := v.Type()
	if t.Key() != stringType || t.Elem() != stringType {
		return false
	}
	m := make(map[string]string, len(n.members))
	for _, mb := range n.members {
		switch mb.val.kind {
		case jString:
			m[mb.key] = mb.val.str
		case jNull:
			m[mb.key] = ""
		default:
			return false
		}
	}
	v.Set(reflect.ValueOf(m))
	return true
}

func decodeStruct(n *node, v reflect.Value) bool {
	p := planOf(v.Type())
	if p == nil {
		return false
	}
	for i := range n.members {
		mb := &n.members[i]
		at, ok := p.fields[mb.key]
		if !ok {
			// encoding/json matches a key to a field regardless of case; the dictionary walk refuses
			// such a key wherever it looks, but where it does not, encoding/json has the last word.
			if _, other := p.folded[foldKey(mb.key)]; other {
				return false
			}
			continue
		}
		if !decodeValue(&mb.val, v.Field(at)) {
			return false
		}
	}
	return true
}

// structPlan maps a struct's JSON names to its field indexes.
type structPlan struct {
	fields map[string]int
	folded map[string]struct{}
}

var plans sync.Map // reflect.Type -> *structPlan, or a nil *structPlan for a struct decodeTree leaves alone

// planOf returns the plan of struct type t, or nil when t has a field encoding/json treats in a way
// decodeTree does not follow (an embedded struct, the ",string" option, two fields of one name).
func planOf(t reflect.Type) *structPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*structPlan)
	}
	p := &structPlan{fields: map[string]int{}, folded: map[string]struct{}{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous || strings.Contains(tag, ",string") {
			p = nil
			break
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		if _, twice := p.folded[foldKey(name)]; twice {
			p = nil
			break
		}
		p.fields[name] = i
		p.folded[foldKey(name)] = struct{}{}
	}
	plans.Store(t, p)
	return p
}

// decodeNode is UnmarshalJSON on the tree: an array is the list form, anything else the single value.
func (o *OneOrMany[T]) decodeNode(n *node) bool {
	if n.kind == jArray {
		o.List = true
		o.Items = nil
		return decodeValue(n, reflect.ValueOf(&o.Items).Elem())
	}
	var v T
	if !decodeValue(n, reflect.ValueOf(&v).Elem()) {
		return false
	}
	o.List = false
	o.Items = []T{v}
	return true
}

// decodeNode is UnmarshalJSON on the tree: an object is the 2.3.1 form, a string the older one.
func (c *CardholderInfo) decodeNode(n *node) bool {
	switch n.kind {
	case jObject:
		var o cardholderInfoObject
		if !decodeValue(n, reflect.ValueOf(&o).Elem()) {
			return false
		}
		*c = CardholderInfo{Text: o.Text, IssuerImage: o.IssuerImage, PaymentSystemImage: o.PaymentSystemImage, Object: true}
		return true
	case jString:
		*c = CardholderInfo{Text: n.str}
		return true
	}
	return false
}
