package emv

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// The validator works on its own small JSON tree rather than on Go structs, for three reasons:
// encoding/json keeps the last of two equal keys without a word (the protocol wants 204), it turns a wrong
// JSON type into one opaque error (we must name the field), and it cannot tell an absent element from
// an empty one. The scanner below is a plain recursive-descent parser of RFC 8259 that records every
// repeated key, at any depth, as it goes.

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

// node is one JSON value. str holds a string's decoded text or a number's literal text; raw is the
// value's own bytes in the message, for the few elements whose limit is on their encoded size and for
// the elements kept as raw JSON.
type node struct {
	kind    jkind
	raw     []byte
	b       bool
	str     string
	items   []node
	members []member
}

type member struct {
	key string
	val node
}

// get returns the first member named key, or nil.
func (n *node) get(key string) *node {
	for i := range n.members {
		if n.members[i].key == key {
			return &n.members[i].val
		}
	}
	return nil
}

// maxDepth bounds nesting so that a hostile message cannot exhaust the stack; real messages nest
// four levels at most, message-extension data perhaps a few more.
const maxDepth = 64

var errSyntax = errors.New("emv: malformed JSON")

// openStacks keeps the scanners' open-member stacks between messages: every message needs one of about
// the same size (an AReq has some 70 members at its top level), and growing a new one each time was a
// third of the bytes a parse allocated.
var openStacks = sync.Pool{New: func() any { return new([]member) }}

type scanner struct {
	data  []byte
	text  string // data as one string, so that keys and values are substrings of it, not copies each
	pos   int
	depth int
	path  []string // keys from the root to the value being parsed, for naming duplicates
	dups  []string // dotted paths of repeated keys, in order of appearance, each once
	seen  map[string]bool
	// open holds the members of the objects being parsed, innermost last; a finished object takes
	// its own off the top in one exact-size slice, so that no object grows its members by appending.
	open []member
	// looks counts the keys the repeated-key checks looked at: the work that a message full of
	// keys could make grow faster than the message (tests hold it linear).
	looks int
}

// scan parses one JSON text. It fails only on malformed JSON; duplicate keys are reported in dups.
func scan(data []byte) (node, []string, error) {
	v, dups, _, err := scanCounting(data)
	return v, dups, err
}

// scanCounting is scan that also returns the scanner's key looks.
func scanCounting(data []byte) (node, []string, int, error) {
	// Bytes that are not UTF-8 are malformed wherever they are: outside a string no byte above 0x7F
	// is JSON at all, and inside one the protocol wants text. One check of the whole message replaces
	// one per string.
	if !utf8.Valid(data) {
		return node{}, nil, 0, errSyntax
	}
	open := openStacks.Get().(*[]member)
	s := scanner{data: data, text: string(data), open: *open}
	defer func() {
		clear(s.open) // what a failed parse left on the stack
		*open = s.open[:0]
		openStacks.Put(open)
	}()
	s.skipSpace()
	v, err := s.value()
	if err != nil {
		return node{}, nil, s.looks, err
	}
	s.skipSpace()
	if s.pos != len(s.data) {
		return node{}, nil, s.looks, errSyntax
	}
	return v, s.dups, s.looks, nil
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value() (node, error) {
	start := s.pos
	n, err := s.bare()
	n.raw = s.data[start:s.pos]
	return n, err
}

func (s *scanner) bare() (node, error) {
	if s.pos >= len(s.data) {
		return node{}, errSyntax
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		str, err := s.string()
		return node{kind: jString, str: str}, err
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case s.literal("true"):
		return node{kind: jBool, b: true}, nil
	case s.literal("false"):
		return node{kind: jBool}, nil
	case s.literal("null"):
		return node{kind: jNull}, nil
	}
	return node{}, errSyntax
}

func (s *scanner) literal(word string) bool {
	if bytes.HasPrefix(s.data[s.pos:], []byte(word)) {
		s.pos += len(word)
		return true
	}
	return false
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return errSyntax
	}
	return nil
}

func (s *scanner) object() (node, error) {
	if err := s.enter(); err != nil {
		return node{}, err
	}
	s.pos++ // '{'
	n := node{kind: jObject}
	from := len(s.open)
	// Objects up to the size of a full AReq find repeated keys by a linear look, which costs less than
	// building a set (string comparisons mostly stop at the length); a larger one switches to a set so
	// that a hostile message with thousands of keys stays linear.
	var seen map[string]struct{}
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.depth--
		return n, nil
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return node{}, errSyntax
		}
		key, err := s.string()
		if err != nil {
			return node{}, err
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return node{}, errSyntax
		}
		s.pos++
		s.skipSpace()
		s.path = append(s.path, key)
		v, err := s.value()
		if err != nil {
			return node{}, err
		}
		mine := s.open[from:]
		if seen == nil && len(mine) >= 128 {
			seen = make(map[string]struct{}, 2*len(mine))
			for _, m := range mine {
				seen[m.key] = struct{}{}
			}
		}
		var repeated bool
		if seen != nil {
			_, repeated = seen[key]
			seen[key] = struct{}{}
			s.looks++
		} else {
			repeated = slices.ContainsFunc(mine, func(m member) bool { return m.key == key })
			s.looks += len(mine)
		}
		if repeated {
			s.duplicate()
		} else {
			s.open = append(s.open, member{key: key, val: v})
		}
		s.path = s.path[:len(s.path)-1]
		s.skipSpace()
		if s.pos >= len(s.data) {
			return node{}, errSyntax
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.depth--
			n.members = s.close(from)
			return n, nil
		default:
			return node{}, errSyntax
		}
	}
}

// close takes the members of the object that opened at from off the open stack.
func (s *scanner) close(from int) []member {
	out := slices.Clone(s.open[from:])
	clear(s.open[from:]) // the stack must not keep values alive that the tree no longer holds
	s.open = s.open[:from]
	return out
}

// duplicate records the current path once. The first occurrence of a repeated key is the one kept.
func (s *scanner) duplicate() {
	// A set keeps a message full of repeated keys linear to refuse: a hostile browser can post one.
	p := strings.Join(s.path, ".")
	s.looks++
	if s.seen[p] {
		return
	}
	if s.seen == nil {
		s.seen = make(map[string]bool)
	}
	s.seen[p] = true
	s.dups = append(s.dups, p)
}

func (s *scanner) array() (node, error) {
	if err := s.enter(); err != nil {
		return node{}, err
	}
	s.pos++ // '['
	n := node{kind: jArray}
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		s.depth--
		return n, nil
	}
	for {
		s.skipSpace()
		v, err := s.value()
		if err != nil {
			return node{}, err
		}
		n.items = append(n.items, v)
		s.skipSpace()
		if s.pos >= len(s.data) {
			return node{}, errSyntax
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.depth--
			return n, nil
		default:
			return node{}, errSyntax
		}
	}
}

func (s *scanner) number() (node, error) {
	start := s.pos
	if s.data[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(s.data) && s.data[s.pos] == '0':
		s.pos++
	case s.pos < len(s.data) && s.data[s.pos] >= '1' && s.data[s.pos] <= '9':
		s.digits()
	default:
		return node{}, errSyntax
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return node{}, errSyntax
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return node{}, errSyntax
		}
	}
	return node{kind: jNumber, str: s.text[start:s.pos]}, nil
}

func (s *scanner) digits() int {
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos - start
}

// string parses a JSON string at s.pos (the opening quote). A string without escapes, by far the
// common case, is a substring of the message's text, which costs nothing. scan has checked that the
// whole message is UTF-8.
func (s *scanner) string() (string, error) {
	s.pos++ // '"'
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			str := s.text[start:s.pos]
			s.pos++
			return str, nil
		case c == '\\':
			return s.escapedString(start)
		case c < 0x20:
			return "", errSyntax
		}
		s.pos++
	}
	return "", errSyntax
}

func (s *scanner) escapedString(start int) (string, error) {
	var b strings.Builder
	b.Write(s.data[start:s.pos])
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return b.String(), nil
		case c < 0x20:
			return "", errSyntax
		case c != '\\':
			b.WriteByte(c)
			s.pos++
			continue
		}
		s.pos++ // '\\'
		if s.pos >= len(s.data) {
			return "", errSyntax
		}
		e := s.data[s.pos]
		s.pos++
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", errSyntax
			}
			if utf16.IsSurrogate(r) {
				r = s.pair(r)
			}
			b.WriteRune(r)
		default:
			return "", errSyntax
		}
	}
	return "", errSyntax
}

func (s *scanner) hex4() (rune, bool) {
	if s.pos+4 > len(s.data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s.data[s.pos:s.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.pos += 4
	return rune(v), true
}

// pair completes the surrogate r: a high surrogate followed by an escaped low one is one rune, and
// takes that escape along; any other surrogate becomes U+FFFD on its own and leaves what follows
// alone. That is how encoding/json decodes them, which matters: the validator checks the text that
// the struct will hold.
func (s *scanner) pair(r rune) rune {
	if r >= 0xDC00 || s.pos+6 > len(s.data) || s.data[s.pos] != '\\' || s.data[s.pos+1] != 'u' {
		return utf8.RuneError
	}
	save := s.pos
	s.pos += 2
	low, ok := s.hex4()
	if !ok || low < 0xDC00 || low > 0xDFFF {
		s.pos = save
		return utf8.RuneError
	}
	return utf16.DecodeRune(r, low)
}
