package emv

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// RecognisedExtensions holds the messageExtension ids this build understands. A critical extension
// (criticalityIndicator true) with any other id is refused with 202. It is empty today; a role that
// learns an extension adds its id at program start, before any message is parsed.
var RecognisedExtensions = map[string]bool{}

// valStacks keeps the walkers' slot buffers between messages, as openStacks does the scanners' stacks.
var valStacks = sync.Pool{New: func() any { return new([]*node) }}

// walker collects, in dictionary order, the elements that are missing (201), invalid (203) and the
// unrecognised critical extensions (202) of one message.
type walker struct {
	vi       int
	poss     need // the (version, channel, category) cells this message may be in
	missing  []string
	invalid  []string
	critical []string
	// vals holds, for each object being walked, its members by dictionary slot, innermost last; one
	// buffer for the whole walk rather than one per object.
	vals []*node
}

func newWalker(vi int, ch chset, cat catset) *walker {
	return &walker{vi: vi, poss: req(1<<vi, ch, cat)}
}

// required reports whether el is required in every cell the message may be in: with the channel or the
// category unknown, only what is required regardless of them is.
func (w *walker) required(el *element) bool { return el.req&w.poss == w.poss }

// object walks the members of n against s. prefix is the dotted path of n, ending in '.', or "" at the
// top; names are joined to it only when one goes into a list, as nearly every element is fine.
func (w *walker) object(n *node, s *schema, prefix string) {
	from := len(w.vals)
	w.vals = slices.Grow(w.vals, len(s.slots))[:from+len(s.slots)]
	vals := w.vals[from:]
	var variants map[int]string
	for i := range n.members {
		m := &n.members[i]
		if at, ok := s.index[m.key]; ok {
			vals[at] = &m.val
			continue
		}
		// An unknown key is ignored, as the protocol wants, unless it is a known name in other
		// capitals: encoding/json would decode that one into the known field, past this check.
		if at, ok := s.folded[foldKey(m.key)]; ok {
			if variants == nil {
				variants = map[int]string{}
			}
			variants[at] = m.key
		}
	}
	for i := range s.slots {
		sl := &s.slots[i]
		if k, ok := variants[i]; ok {
			w.invalid = append(w.invalid, prefix+k)
		}
		// The walk below may grow w.vals into a new array; vals still reads this object's own.
		v := vals[i]
		if sl.el == nil {
			if v != nil {
				w.invalid = append(w.invalid, prefix+sl.name) // not defined in this version
			}
			continue
		}
		if sl.alt >= 0 && v == nil && vals[sl.alt] != nil {
			continue // absent, and not required since its alternative is present
		}
		w.element(sl.el, v, prefix, sl.name)
	}
	clear(w.vals[from:])
	w.vals = w.vals[:from]
}

func (w *walker) element(el *element, v *node, prefix, name string) {
	if v == nil || blank(v) {
		if w.required(el) {
			w.missing = append(w.missing, prefix+name)
		} else if v != nil {
			w.invalid = append(w.invalid, prefix+name) // present but null or blank
		}
		return
	}
	if !scalarOK(el, v, w.vi) {
		w.invalid = append(w.invalid, prefix+name)
		return
	}
	switch el.f {
	case fObject:
		w.object(v, el.subs[w.vi], prefix+name+".")
	case fArray:
		w.items(el.item, v, prefix+name)
	case fExtensions:
		w.extensions(el, v, prefix+name)
	}
}

// items checks every item of an array; a bad item names the array once.
func (w *walker) items(it *element, v *node, name string) {
	for i := range v.items {
		item := &v.items[i]
		if blank(item) || !scalarOK(it, item, w.vi) {
			w.invalid = append(w.invalid, name)
			return
		}
		if it.f == fObject {
			w.object(item, it.subs[w.vi], name+".")
		}
	}
}

func (w *walker) extensions(el *element, v *node, name string) {
	for i := range v.items {
		item := &v.items[i]
		if item.kind != jObject {
			w.invalid = append(w.invalid, name)
			return
		}
		w.object(item, el.item.subs[w.vi], name+".")
		crit, id := item.get("criticalityIndicator"), item.get("id")
		if crit != nil && crit.kind == jBool && crit.b && id != nil && id.kind == jString && !RecognisedExtensions[id.str] {
			w.critical = append(w.critical, id.str)
		}
	}
}

// blank is the protocol's "missing" for a present value: null, an empty or all-white-space string, an
// empty object or an empty array.
func blank(n *node) bool {
	switch n.kind {
	case jNull:
		return true
	case jString:
		return strings.TrimSpace(n.str) == ""
	case jObject:
		return len(n.members) == 0
	case jArray:
		return len(n.items) == 0
	}
	return false
}

// result turns what the walk found into the error of the highest class, or nil.
func (w *walker) result() *Error {
	switch {
	case len(w.missing) > 0:
		return &Error{Code: CodeRequiredMissing, Detail: joinNames(w.missing)}
	case len(w.invalid) > 0:
		return &Error{Code: CodeFormatInvalid, Detail: joinNames(w.invalid)}
	case len(w.critical) > 0:
		return &Error{Code: CodeCriticalExtension, Detail: joinNames(w.critical)}
	}
	return nil
}

// joinNames lists names comma-separated, each once, in the order found.
func joinNames(names []string) string {
	// A set, not a nested scan: the list can be as long as a hostile message makes it.
	out := names[:0:0]
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return strings.Join(out, ",")
}

// foldKey folds a key the way encoding/json matches names to fields without regard to case: ASCII
// letters to upper case, any other rune through lower then upper case (so that 'ſ' meets 's' and the
// Kelvin sign meets 'k').
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteByte(byte(r - 'a' + 'A'))
		case r < utf8.RuneSelf:
			b.WriteByte(byte(r))
		default:
			b.WriteRune(unicode.ToUpper(unicode.ToLower(r)))
		}
	}
	return b.String()
}

// scopeOf works out which device channels and message categories a message may belong to, from the
// message itself where it shows them and otherwise from the transaction's AReq in c.
func scopeOf(typ string, root *node, c *Context) (chset, catset) {
	var areq *AReq
	if c != nil {
		areq = c.AReq
	}
	ch, cat := anyCh, anyCat
	if areq != nil {
		ch, cat = channelSet(areq.DeviceChannel), categorySet(areq.MessageCategory)
	}
	has := func(k string) bool { return root.get(k) != nil }
	switch typ {
	case TypeAReq:
		ch, cat = channelSet(str(root, "deviceChannel")), categorySet(str(root, "messageCategory"))
	case TypeRReq:
		if v := categorySet(str(root, "messageCategory")); v != anyCat {
			cat = v
		}
		fallthrough
	case TypeARes, TypeRRes:
		if areq == nil && has("sdkTransID") {
			ch = app
		}
	case TypeCReq, TypeCRes:
		// A challenge message is app or browser. Without the AReq, the app-only elements tell
		// the app apart; a message with none of them is a browser one.
		if areq == nil {
			ch = brw
			if has("sdkTransID") || has("sdkCounterStoA") || has("acsCounterAtoS") {
				ch = app
			}
		}
	default:
		ch, cat = anyCh, anyCat
	}
	return ch, cat
}

func channelSet(code string) chset {
	switch code {
	case ChannelApp:
		return app
	case ChannelBrowser:
		return brw
	case Channel3RI:
		return tri
	}
	return anyCh
}

func categorySet(code string) catset {
	switch code {
	case CategoryPayment:
		return pa
	case CategoryNonPayment:
		return npa
	}
	return anyCat
}

// str is a member's string value, or "" when it is absent or not a string.
func str(n *node, key string) string {
	if v := n.get(key); v != nil && v.kind == jString {
		return v.str
	}
	return ""
}
