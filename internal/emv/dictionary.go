package emv

import (
	"fmt"
	"strconv"
	"strings"
)

// The data-element dictionary is one table per message type (dict_*.go) of element entries. Everything the
// validator knows about an element's format, length, values, versions and presence is in its entry; the
// walker in validate.go only reads the table. An element whose shape or limits change between versions has
// one entry per shape, with disjoint version sets (threeDSRequestorChallengeInd is a string in 2.2.0 and an
// array in 2.3.1).

// vset is a set of protocol versions.
type vset uint8

const (
	v210 vset = 1 << iota
	v220
	v231

	allV    = v210 | v220 | v231
	from220 = v220 | v231
	upTo220 = v210 | v220
)

// versionIndex maps a supported version to 0, 1 or 2, anything else to -1.
func versionIndex(v string) int {
	switch v {
	case Version210:
		return 0
	case Version220:
		return 1
	case Version231:
		return 2
	}
	return -1
}

func (s vset) has(vi int) bool { return vi >= 0 && s&(1<<vi) != 0 }

// chset is a set of device channels, catset a set of message categories.
type chset uint8

const (
	app chset = 1 << iota
	brw
	tri
	anyCh = app | brw | tri
)

type catset uint8

const (
	pa catset = 1 << iota
	npa
	anyCat = pa | npa
)

// need says where an element is required: one bit per (version, channel, category), 18 in all. Where an
// element is not required it is conditional or optional; a conditional element's condition lives in a
// named cross-field rule (rules.go), so the table does not need to tell the two apart.
type need uint32

// req is the need for the product of the given versions, channels and categories; combine several with |.
func req(v vset, ch chset, cat catset) need {
	var n need
	for vi := 0; vi < 3; vi++ {
		if v&(1<<vi) == 0 {
			continue
		}
		for ci := 0; ci < 3; ci++ {
			if ch&(1<<ci) == 0 {
				continue
			}
			for ki := 0; ki < 2; ki++ {
				if cat&(1<<ki) != 0 {
					n |= 1 << (vi*6 + ci*2 + ki)
				}
			}
		}
	}
	return n
}

var (
	always    = req(allV, anyCh, anyCat)
	optional  need // the zero need: never required
	payment   = req(allV, anyCh, pa)
	browser   = req(allV, brw, anyCat)
	appOnly   = req(allV, app, anyCat)
	threeRI   = req(allV, tri, anyCat)
	appOrBrw  = req(allV, app|brw, anyCat)
	browser21 = req(v210, brw, anyCat)
)

// format is how an element's value is written.
type format uint8

const (
	fAN          format = iota // any string; min and max count characters
	fN                         // decimal digits only
	fUUID                      // RFC 4122 canonical form, 36 characters
	fURL                       // absolute http or https URL
	fHTTPS                     // absolute https URL
	fDate                      // YYYYMMDD
	fYYMM                      // card expiry month
	fDateTime                  // YYYYMMDDHHMMSS (UTC)
	fDateTimeMin               // YYYYMMDDHHMM (UTC)
	fBool                      // JSON true or false
	fObject                    // JSON object whose members are sub
	fAnyObject                 // JSON object we pass on without looking inside; max bounds its size
	fAny                       // any JSON value: shape not fixed by our sources, passed on as is
	fStringMap                 // JSON object whose members are all strings (challengeSelectInfo items)
	fArray                     // JSON array; min and max count items, item describes each
	fExtensions                // messageExtension: an array of extension objects
	fJWS                       // JWS compact serialisation
	fJWK                       // JWK object; max bounds its encoded size
	fBase64                    // standard base64 with padding (authenticationValue up to 2.2.0)
	fBase64URL                 // base64url, padded or not (acsHTML)
	fIP                        // IPv4 or IPv6 address
	fTZ                        // browserTZ: optional sign and 1 to 4 digits
	fVersion                   // a protocol version such as 2.2.0
	fPAN                       // a card number: decimal digits ending in their Luhn check digit
)

// element is one entry of the dictionary.
type element struct {
	name string
	in   vset // the versions that define the element; anything else is 203 when present
	req  need
	// unless names a sibling whose presence lifts req: the element is then optional.
	unless string
	f      format
	min    int // characters of a string, items of an array; 0 means no lower bound beyond non-blank
	max    int // 0 means unbounded
	enum   *enum
	item   *element  // fArray: every item
	sub    []element // fObject, and fExtensions' items: the members

	subs [3]*schema // compiled from sub per version, at init
}

// enum is the set of values an element may take, per version.
type enum struct {
	sets [3]map[string]struct{}
}

// codes builds an enum from one value list for every version, or three lists for 2.1.0, 2.2.0 and
// 2.3.1. A list is comma-separated; "01-21" stands for every two-digit code from 01 to 21.
func codes(lists ...string) *enum {
	if len(lists) != 1 && len(lists) != 3 {
		panic("emv: codes takes one list or three")
	}
	var e enum
	for vi := range e.sets {
		e.sets[vi] = expand(lists[min(vi, len(lists)-1)])
	}
	return &e
}

func expand(list string) map[string]struct{} {
	set := make(map[string]struct{})
	if list == "" {
		return set
	}
	for _, tok := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(tok, "-")
		if !isRange {
			set[tok] = struct{}{}
			continue
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || len(lo) != len(hi) || a > b {
			panic("emv: bad code range " + tok)
		}
		for i := a; i <= b; i++ {
			set[fmt.Sprintf("%0*d", len(lo), i)] = struct{}{}
		}
	}
	return set
}

func (e *enum) has(vi int, v string) bool {
	_, ok := e.sets[vi][v]
	return ok
}

// arrayOf describes an array whose items are each like it.
func arrayOf(it element) *element { return &it }

// schema is a table compiled for one version: every name the table knows, in table order, with the
// entry valid in that version or nil where the version does not define the name.
type schema struct {
	slots  []slot
	index  map[string]int
	folded map[string]int // names folded as encoding/json folds them, to catch other capitals
}

type slot struct {
	name string
	el   *element
	// alt is the slot of el.unless, resolved once here rather than by name in every message, or -1.
	alt int
}

func compile(table []element, vi int) *schema {
	s := &schema{index: make(map[string]int), folded: make(map[string]int)}
	for i := range table {
		el := &table[i]
		at, seen := s.index[el.name]
		if !seen {
			at = len(s.slots)
			s.index[el.name] = at
			s.folded[foldKey(el.name)] = at
			s.slots = append(s.slots, slot{name: el.name, alt: -1})
		}
		if el.in.has(vi) {
			if s.slots[at].el != nil {
				panic("emv: two entries for " + el.name + " in one version")
			}
			s.slots[at].el = el
		}
		compileSubs(el)
	}
	// The sibling an element's unless names may come later in the table, so it is looked up once
	// every name has its slot.
	for i := range s.slots {
		if el := s.slots[i].el; el != nil && el.unless != "" {
			at, ok := s.index[el.unless]
			if !ok {
				panic("emv: " + el.name + " is unless " + el.unless + ", which is not its sibling")
			}
			s.slots[i].alt = at
		}
	}
	return s
}

func compileSubs(el *element) {
	if el.item != nil {
		compileSubs(el.item)
	}
	if el.sub != nil && el.subs[0] == nil {
		for vi := range el.subs {
			el.subs[vi] = compile(el.sub, vi)
		}
	}
}

// dictionary holds every message type's table; schemas its compiled form, per version.
var (
	dictionary = map[string][]element{
		TypeAReq: areqElements,
		TypeARes: aresElements,
		TypeCReq: creqElements,
		TypeCRes: cresElements,
		TypeRReq: rreqElements,
		TypeRRes: rresElements,
		TypePReq: preqElements,
		TypePRes: presElements,
		TypeErro: erroElements,
	}
	schemas = map[string][3]*schema{}
)

func init() {
	for typ, table := range dictionary {
		var s [3]*schema
		for vi := range s {
			s[vi] = compile(table, vi)
		}
		schemas[typ] = s
	}
}
