package emv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// decodeTree promises the struct encoding/json would fill from the same bytes, or false. These tests
// hold it to that on every fixture and on whatever the fuzzer makes of them.

func fixtureMessages(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	err := filepath.WalkDir("testdata", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		b, err := os.ReadFile(path)
		out = append(out, b)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// checkDecodeTree fails when decodeTree accepts data and gives anything but json.Unmarshal's result.
// It reports whether decodeTree accepted.
func checkDecodeTree(t *testing.T, data []byte) bool {
	t.Helper()
	root, dups, err := scan(data)
	// Parse refuses repeated keys (204) before it decodes; the tree keeps the first of them and
	// encoding/json the last, so such a message is no test of decodeTree.
	if err != nil || len(dups) > 0 || root.kind != jObject {
		return false
	}
	typ := root.get("messageType")
	if typ == nil || typ.kind != jString || !slices.Contains(MessageTypes, typ.str) {
		return false
	}
	fast := newMessage(typ.str)
	if !decodeTree(&root, fast) {
		return false
	}
	slow := newMessage(typ.str)
	if err := json.Unmarshal(data, slow); err != nil {
		t.Fatalf("decodeTree accepted what encoding/json refuses (%v):\n%s", err, data)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("decodeTree and encoding/json disagree:\n%+v\n%+v\non %s", fast, slow, data)
	}
	return true
}

func TestDecodeTreeGivesWhatEncodingJSONGives(t *testing.T) {
	for _, data := range fixtureMessages(t) {
		checkDecodeTree(t, data)
	}
	// Were decodeTree to decline a message, Parse would be correct but slow: every valid fixture
	// must take the fast path.
	valid, _ := filepath.Glob("testdata/valid/*/*.json")
	if len(valid) == 0 {
		t.Fatal("no valid fixtures found")
	}
	for _, name := range valid {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !checkDecodeTree(t, data) {
			t.Errorf("%s: decodeTree declined it, so it took the slow path", name)
		}
	}
}

func FuzzDecodeTree(f *testing.F) {
	for _, data := range fixtureMessages(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecodeTree(t, data) })
}
