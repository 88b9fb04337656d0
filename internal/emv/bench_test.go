package emv_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

// The benchmarks measure the golden fixtures as they travel: compacted, the way a peer sends them, not
// as the indented files hold them. Each reports bytes per operation so that MB/s compares across types.

// benchFixture reads a golden fixture, compacted, and its context.
func benchFixture(b *testing.B, version, name string) ([]byte, *emv.Context) {
	b.Helper()
	path := filepath.Join("testdata", "valid", version, name+".json")
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		b.Fatal(err)
	}
	var c *emv.Context
	if side, err := os.ReadFile(filepath.Join("testdata", "valid", version, name+".context")); err == nil {
		c = goldenContext(b, filepath.Join("testdata", "valid", version, string(bytes.TrimSpace(side))))
	}
	return buf.Bytes(), c
}

func benchParse(b *testing.B, version, name string) {
	data, c := benchFixture(b, version, name)
	if _, err := emv.Parse(data, c); err != nil {
		b.Fatalf("the fixture does not parse: %v", err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := emv.Parse(data, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseAReq(b *testing.B)    { benchParse(b, emv.Version220, "areq-browser-pa") }
func BenchmarkParseAReq231(b *testing.B) { benchParse(b, emv.Version231, "areq-browser-pa") }
func BenchmarkParseRReq(b *testing.B)    { benchParse(b, emv.Version220, "rreq") }

func BenchmarkMarshalARes(b *testing.B) {
	data, c := benchFixture(b, emv.Version220, "ares-challenge-browser")
	m, err := emv.Parse(data, c)
	if err != nil {
		b.Fatalf("the fixture does not parse: %v", err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := emv.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}
