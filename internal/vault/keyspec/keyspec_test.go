package keyspec_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/vault/keyspec"
)

func key(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }

func TestParseReturnsEveryVersionAndNamedKey(t *testing.T) {
	s, err := keyspec.Parse("current=7; 7="+key(7)+";3="+key(3)+";lookup="+key(9)+";extra="+key(8), "lookup", "extra")
	if err != nil {
		t.Fatal(err)
	}
	if s.Current != 7 || len(s.Keys) != 2 || len(s.Named) != 2 {
		t.Fatalf("Parse = current %d, %d keys, %d named; want 7, 2, 2", s.Current, len(s.Keys), len(s.Named))
	}
	if !bytes.Equal(s.Keys[3], bytes.Repeat([]byte{3}, 32)) || !bytes.Equal(s.Named["extra"], bytes.Repeat([]byte{8}, 32)) {
		t.Fatal("Parse returned the wrong key bytes")
	}
}

func TestParseRequiresEveryNamedKeyTheCallerNeeds(t *testing.T) {
	_, err := keyspec.Parse("current=1;1="+key(1), "lookup")
	if err == nil || !strings.Contains(err.Error(), "lookup key is missing") {
		t.Fatalf("err = %v, want the lookup key reported missing", err)
	}
}

func TestNewMakesASpecThatParsesWithDistinctKeys(t *testing.T) {
	text, err := keyspec.New("lookup")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, "current=1;1=") || !strings.Contains(text, ";lookup=") {
		t.Fatalf("New = a spec of an unexpected shape (%d parts)", strings.Count(text, ";")+1)
	}
	s, err := keyspec.Parse(text, "lookup")
	if err != nil {
		t.Fatalf("Parse(New()) = %v", err)
	}
	if bytes.Equal(s.Keys[1], s.Named["lookup"]) {
		t.Fatal("New gave the same key twice")
	}
}
