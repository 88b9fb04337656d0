// Package keyspec parses the one-line text form in which open3ds receives versioned symmetric keys
// from configuration or the environment, for example
//
//	current=2;1=<base64 of 32 bytes>;2=<base64 of 32 bytes>;lookup=<base64 of 32 bytes>
//
// The vault (PAN encryption) and authvalue (authentication value MAC) packages share it so that an
// operator learns one format for every key set. Parts are separated by ";", surrounding white space
// and empty parts are ignored (a spec read from a file usually ends in a newline), numbered parts are
// key versions 1–255 and named parts are whatever the caller allows.
//
// Errors name the part and the problem but never echo the text of a part: a mistyped spec may hold
// key material anywhere, even where a name was expected.
package keyspec

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// KeySize is the length of every key in a spec: 32 bytes suits both AES-256 and HMAC-SHA-256.
const KeySize = 32

// MaxID is the largest key version. Versions travel in one byte inside sealed values.
const MaxID = 255

// Spec is a parsed key spec.
type Spec struct {
	Current int            // the version used for new values
	Keys    map[int][]byte // every version still kept, for reading old values
	Named   map[string][]byte
}

// Parse reads spec. named lists the extra key names the caller requires (such as "lookup"); any
// other name is an error, so that a typo does not silently drop a key.
func Parse(spec string, named ...string) (Spec, error) {
	s := Spec{Keys: map[int][]byte{}, Named: map[string][]byte{}}
	allowed := map[string]bool{}
	for _, n := range named {
		allowed[n] = true
	}
	seenCurrent := false
	for i, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		pos := i + 1
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return Spec{}, fmt.Errorf("part %d has no \"=\" (want name=value)", pos)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case name == "current":
			if seenCurrent {
				return Spec{}, fmt.Errorf("part %d: current is given twice", pos)
			}
			seenCurrent = true
			id, err := parseID(value)
			if err != nil {
				return Spec{}, fmt.Errorf("part %d: current %w", pos, err)
			}
			s.Current = id
		case allowed[name]:
			if _, dup := s.Named[name]; dup {
				return Spec{}, fmt.Errorf("part %d: %s is given twice", pos, name)
			}
			key, err := decodeKey(value)
			if err != nil {
				return Spec{}, fmt.Errorf("part %d: the %s key %w", pos, name, err)
			}
			s.Named[name] = key
		case isDigits(name):
			id, err := parseID(name)
			if err != nil {
				return Spec{}, fmt.Errorf("part %d: key version %w", pos, err)
			}
			if _, dup := s.Keys[id]; dup {
				return Spec{}, fmt.Errorf("part %d: key %d is given twice", pos, id)
			}
			key, err := decodeKey(value)
			if err != nil {
				return Spec{}, fmt.Errorf("part %d: key %d %w", pos, id, err)
			}
			s.Keys[id] = key
		default:
			// The name is not repeated: it could be key material that lost its "N=" prefix.
			return Spec{}, fmt.Errorf("part %d: unknown name (want current, %s)", pos, wantNames(named))
		}
	}
	return s, s.check(named)
}

// check applies the rules that need the whole spec.
func (s Spec) check(named []string) error {
	if len(s.Keys) == 0 {
		return errors.New("no key versions (want at least one part like 1=<base64 of 32 bytes>)")
	}
	if s.Current == 0 {
		return errors.New("current is missing (want current=<key version>)")
	}
	if _, ok := s.Keys[s.Current]; !ok {
		return fmt.Errorf("current is %d but there is no key %d", s.Current, s.Current)
	}
	for _, n := range named {
		if _, ok := s.Named[n]; !ok {
			return fmt.Errorf("the %s key is missing (want %s=<base64 of 32 bytes>)", n, n)
		}
	}
	// Reusing one key for two versions or two purposes defeats rotation and domain separation.
	var all [][]byte
	var labels []string
	for id := 1; id <= MaxID; id++ {
		if k, ok := s.Keys[id]; ok {
			all, labels = append(all, k), append(labels, "key "+strconv.Itoa(id))
		}
	}
	for _, n := range named {
		all, labels = append(all, s.Named[n]), append(labels, "the "+n+" key")
	}
	for i := range all {
		for j := range i {
			if bytes.Equal(all[i], all[j]) {
				return fmt.Errorf("%s repeats %s; every key must be distinct", labels[i], labels[j])
			}
		}
	}
	return nil
}

// New returns a fresh spec with one key version, current=1, and a fresh key for each name.
func New(named ...string) (string, error) {
	var b strings.Builder
	b.WriteString("current=1")
	for _, n := range append([]string{"1"}, named...) {
		key := make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return "", fmt.Errorf("read random key: %w", err)
		}
		b.WriteString(";" + n + "=" + base64.StdEncoding.EncodeToString(key))
	}
	return b.String(), nil
}

func parseID(s string) (int, error) {
	if !isDigits(s) {
		return 0, fmt.Errorf("is not a number from 1 to %d", MaxID)
	}
	id, err := strconv.Atoi(s)
	if err != nil || id < 1 || id > MaxID {
		return 0, fmt.Errorf("is not a number from 1 to %d", MaxID)
	}
	return id, nil
}

// decodeKey accepts standard or URL-safe base64, padded or not: operators paste keys from many tools.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("decodes to %d bytes, want %d", len(key), KeySize)
			}
			return key, nil
		}
	}
	return nil, errors.New("is not valid base64")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func wantNames(named []string) string {
	if len(named) == 0 {
		return "or a key version"
	}
	return strings.Join(named, ", ") + " or a key version"
}
