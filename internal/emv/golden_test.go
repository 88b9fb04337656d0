package emv_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

// The golden fixtures live in testdata/valid/<version>/<name>.json, one real-looking message each. A
// message whose rules depend on its transaction's AReq (ARes, CReq, CRes, RReq, RRes) has a sidecar
// <name>.context holding the file name of that AReq, in the same directory, so that the tests, the fuzz
// targets and `open3ds validate --areq` all read the same pairing.

// goldenFixture is one valid message and the AReq it goes with.
type goldenFixture struct {
	name    string // "2.2.0/ares-challenge-browser"
	version string // the directory it lives in
	path    string
	data    []byte
	context string // path of the AReq fixture; "" when the message needs none
}

// goldenFixtures reads every valid fixture, in a stable order.
func goldenFixtures(tb testing.TB) []goldenFixture {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "valid", "*", "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no golden fixtures found (err %v)", err)
	}
	slices.Sort(paths)
	out := make([]goldenFixture, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		dir := filepath.Dir(p)
		f := goldenFixture{
			name:    filepath.Base(dir) + "/" + strings.TrimSuffix(filepath.Base(p), ".json"),
			version: filepath.Base(dir),
			path:    p,
			data:    data,
		}
		side, err := os.ReadFile(strings.TrimSuffix(p, ".json") + ".context")
		switch {
		case err == nil:
			f.context = filepath.Join(dir, strings.TrimSpace(string(side)))
		case !os.IsNotExist(err):
			tb.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// goldenContext parses the AReq fixture at path into a Context; "" gives nil, the unknown context.
func goldenContext(tb testing.TB, path string) *emv.Context {
	tb.Helper()
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := emv.ParseAs(data, emv.TypeAReq, nil)
	if err != nil {
		tb.Fatalf("context %s is not a valid AReq: %v", path, err)
	}
	return &emv.Context{AReq: m.(*emv.AReq)}
}

// normalisedJSON re-encodes a JSON text compactly with its object keys sorted, so that two encodings of
// the same message compare equal byte for byte whatever their key order and white space. Numbers stay
// as written (json.Number), so that no float rounding can hide a difference.
func normalisedJSON(tb testing.TB, data []byte) []byte {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("not JSON: %v", err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// jsonField reads one top-level string member of a JSON object, or "" when there is none.
func jsonField(data []byte, key string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(m[key], &s) != nil {
		return ""
	}
	return s
}

func TestGoldenFixturesCoverEveryMessageShapeInEveryVersion(t *testing.T) {
	have := map[string]bool{}
	for _, f := range goldenFixtures(t) {
		have[f.name] = true
	}
	// The shapes every version has, then those that decoupled and informational outcomes add in 2.2.0.
	common := []string{
		"areq-browser-pa", "areq-app-pa", "areq-3ri-npa",
		"ares-frictionless-y", "ares-challenge-browser", "ares-challenge-app", "ares-denied-n",
		"creq-browser", "creq-app", "cres-browser-final", "cres-app-interim",
		"rreq", "rres", "preq-full", "preq-serial", "pres", "erro",
	}
	from220 := []string{"ares-decoupled-d", "ares-informational-i"}
	for _, v := range emv.Versions {
		want := common
		if v != emv.Version210 {
			want = append(slices.Clip(want), from220...)
		}
		for _, n := range want {
			if !have[v+"/"+n] {
				t.Errorf("fixture %s/%s.json is missing", v, n)
			}
		}
	}
}

func TestEveryGoldenFixtureParsesAsItsTypeAndVersion(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range goldenFixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			c := goldenContext(t, f.context)
			typ := jsonField(f.data, "messageType")
			m, err := emv.Parse(f.data, c)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.Type() != typ || m.Version() != f.version {
				t.Fatalf("Parse gave %s %s, want %s %s", m.Type(), m.Version(), typ, f.version)
			}
			if _, err := emv.ParseAs(f.data, typ, c); err != nil {
				t.Fatalf("ParseAs %s: %v", typ, err)
			}
			if err := emv.Validate(m, c); err != nil {
				t.Fatalf("Validate of the parsed message: %v", err)
			}
			seen[f.version+" "+typ] = true
		})
	}
	for _, v := range emv.Versions {
		for _, typ := range emv.MessageTypes {
			if !seen[v+" "+typ] {
				t.Errorf("no %s %s fixture parsed", typ, v)
			}
		}
	}
}

func TestGoldenFixturesRoundTripByteForByte(t *testing.T) {
	for _, f := range goldenFixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			m, err := emv.Parse(f.data, goldenContext(t, f.context))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			out, err := emv.Marshal(m)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if bytes.Contains(out, []byte(`:""`)) || bytes.Contains(out, []byte(`:null`)) {
				t.Errorf("Marshal wrote an empty string or a null:\n%s", out)
			}
			want, got := normalisedJSON(t, f.data), normalisedJSON(t, out)
			if !bytes.Equal(want, got) {
				t.Fatalf("Marshal(Parse(x)) differs from x:\nwant %s\ngot  %s", want, got)
			}
		})
	}
}

// The fixtures of one transaction must agree with their AReq, or the tests that pair them would pass
// for a reason no real exchange could give.
func TestGoldenFixturesShareTheirTransactionsIDsAndVersion(t *testing.T) {
	for _, f := range goldenFixtures(t) {
		if f.context == "" {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			areq, err := os.ReadFile(f.context)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := jsonField(f.data, "messageVersion"), jsonField(areq, "messageVersion"); got != want {
				t.Errorf("messageVersion %q, its AReq's %q", got, want)
			}
			for _, id := range []string{"threeDSServerTransID", "dsTransID", "sdkTransID"} {
				got, want := jsonField(f.data, id), jsonField(areq, id)
				if id == "threeDSServerTransID" && got == "" {
					t.Errorf("%s is missing", id)
				}
				if got != "" && want != "" && got != want {
					t.Errorf("%s %s, its AReq's %s", id, got, want)
				}
			}
		})
	}
}
