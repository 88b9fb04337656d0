package emv_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

// The fuzz targets feed the parser arbitrary bytes as one message type and check the promises Parse
// makes: it never panics; what it accepts it can write back, and what it writes back it accepts again
// unchanged; what it refuses it refuses with an *emv.Error of a validation code and a detail naming what
// was wrong. The seeds are the golden and invalid fixtures (testdata/fuzz holds the same seeds as a
// committed corpus, plus any crasher ever found).
//
// Every target takes a second input, a byte that picks the transaction context from fuzzContexts, so
// that the rules that depend on the AReq (channel, category, challenge and decoupled indicators,
// version) are fuzzed too. Types whose rules never read the AReq get only the nil context.

// validationCodes are the codes parsing may give (PROTOCOL.md §3.2's validation order).
var validationCodes = []emv.Code{
	emv.CodeMessageInvalid, emv.CodeVersionNotSupported, emv.CodeDuplicateElement,
	emv.CodeRequiredMissing, emv.CodeFormatInvalid, emv.CodeCriticalExtension,
}

// fuzzContexts is nil followed by every golden AReq, each index matching fuzzContextIndex.
func fuzzContexts(tb testing.TB) ([]*emv.Context, map[string]uint8) {
	tb.Helper()
	ctxs := []*emv.Context{nil}
	index := map[string]uint8{"": 0}
	for _, f := range goldenFixtures(tb) {
		if jsonField(f.data, "messageType") != emv.TypeAReq {
			continue
		}
		index[f.path] = uint8(len(ctxs))
		ctxs = append(ctxs, goldenContext(tb, f.path))
	}
	return ctxs, index
}

// fuzzSeed is one starting input: a fixture's bytes and the context it goes with.
type fuzzSeed struct {
	name    string
	data    []byte
	context string // fixture path, "" for none
}

// fuzzSeeds are the valid and invalid fixtures of type typ, and every invalid fixture whose type is not
// one we know (those exercise the first checks of every parser alike).
func fuzzSeeds(tb testing.TB, typ string) []fuzzSeed {
	tb.Helper()
	var out []fuzzSeed
	for _, f := range goldenFixtures(tb) {
		if jsonField(f.data, "messageType") == typ {
			out = append(out, fuzzSeed{"valid-" + strings.ReplaceAll(f.name, "/", "-"), f.data, f.context})
		}
	}
	for _, c := range invalidCases(tb) {
		data, err := os.ReadFile(filepath.Join("testdata", "invalid", c.File))
		if err != nil {
			tb.Fatal(err)
		}
		if t := jsonField(data, "messageType"); t == typ || !slices.Contains(emv.MessageTypes, t) {
			out = append(out, fuzzSeed{"invalid-" + strings.TrimSuffix(c.File, ".json"), data, contextPath(c)})
		}
	}
	return out
}

func fuzzParse(f *testing.F, typ string, usesContext bool) {
	ctxs, index := fuzzContexts(f)
	if !usesContext {
		ctxs = ctxs[:1]
	}
	for _, s := range fuzzSeeds(f, typ) {
		i := index[s.context]
		if !usesContext {
			i = 0
		}
		f.Add(s.data, i)
	}
	f.Fuzz(func(t *testing.T, data []byte, pick uint8) {
		c := ctxs[int(pick)%len(ctxs)]
		m, err := emv.ParseAs(data, typ, c)
		if err != nil {
			checkParseError(t, err)
			return
		}
		if m.Type() != typ || !slices.Contains(emv.Versions, m.Version()) {
			t.Fatalf("ParseAs %s accepted a %s %q", typ, m.Type(), m.Version())
		}
		// Equality is judged on the encoding: members kept as raw JSON (extension data, sellerInfo…)
		// hold the sender's white space until they are written once.
		out, err := emv.Marshal(m)
		if err != nil {
			t.Fatalf("Marshal of an accepted message: %v", err)
		}
		again, err := emv.ParseAs(out, typ, c)
		if err != nil {
			t.Fatalf("an accepted message, written back, is refused: %v\n%s", err, out)
		}
		out2, err := emv.Marshal(again)
		if err != nil {
			t.Fatalf("second Marshal: %v", err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("a second round trip changed the message:\n%s\n%s", out, out2)
		}
	})
}

// checkParseError checks what a refusal carries: a validation code, an errorDetail that says something,
// and an Erro that is itself a valid message whenever the protocol lets it be one (an Erro needs
// threeDSServerTransID up to 2.2.0 and errorMessageType in 2.3.1, which an unreadable message cannot give).
func checkParseError(t *testing.T, err error) {
	t.Helper()
	var pe *emv.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not an *emv.Error", err, err)
	}
	if !slices.Contains(validationCodes, pe.Code) {
		t.Fatalf("code %d is not a validation code: %v", pe.Code, err)
	}
	// What reaches the peer is the Erro's errorDetail. Error.Detail itself may be empty when the
	// element at fault has no name to give (a repeated key ""); ErroFor then says what the code means.
	e := emv.ErroFor(err, emv.ComponentDS, emv.Version231)
	if strings.TrimSpace(e.ErrorDetail) == "" {
		t.Fatalf("code %d answered with a blank errorDetail %q: %v", pe.Code, e.ErrorDetail, err)
	}
	complete := e.ThreeDSServerTransID != ""
	if e.MessageVersion == emv.Version231 {
		complete = e.ErrorMessageType != ""
	}
	if !complete {
		return
	}
	b, merr := emv.Marshal(e)
	if merr != nil {
		t.Fatalf("Marshal of the Erro: %v", merr)
	}
	if _, perr := emv.ParseAs(b, emv.TypeErro, nil); perr != nil {
		t.Fatalf("the Erro answering %v is itself invalid: %v\n%s", err, perr, b)
	}
}

func FuzzParseAReq(f *testing.F) { fuzzParse(f, emv.TypeAReq, false) }
func FuzzParseARes(f *testing.F) { fuzzParse(f, emv.TypeARes, true) }
func FuzzParseCReq(f *testing.F) { fuzzParse(f, emv.TypeCReq, true) }
func FuzzParseCRes(f *testing.F) { fuzzParse(f, emv.TypeCRes, true) }
func FuzzParseRReq(f *testing.F) { fuzzParse(f, emv.TypeRReq, true) }
func FuzzParseRRes(f *testing.F) { fuzzParse(f, emv.TypeRRes, true) }
func FuzzParsePReq(f *testing.F) { fuzzParse(f, emv.TypePReq, false) }
func FuzzParsePRes(f *testing.F) { fuzzParse(f, emv.TypePRes, false) }
func FuzzParseErro(f *testing.F) { fuzzParse(f, emv.TypeErro, false) }

// FuzzDecodeBase64Lenient checks the browser-field decoder against every encoding a peer may use: the
// bytes under any of the four alphabets and paddings, with stray white space around, decode to the same
// bytes; and whatever it accepts, re-encoded the way we send, decodes to the same bytes again.
func FuzzDecodeBase64Lenient(f *testing.F) {
	creq := `{"threeDSServerTransID":"8a880dc0-d2d2-4067-bcb1-b08d1690b26e","acsTransID":"d7c1ee99-9478-44a6-b1f2-391e29c6b340","messageType":"CReq","messageVersion":"2.2.0","challengeWindowSize":"03"}`
	for _, s := range []string{
		base64.RawURLEncoding.EncodeToString([]byte(creq)),
		base64.URLEncoding.EncodeToString([]byte(creq)),
		base64.StdEncoding.EncodeToString([]byte{0xfb, 0xff, 0xbf, 0x01}),
		base64.RawStdEncoding.EncodeToString([]byte{0xfb, 0xff}),
		" eyJ0aHJlZURTU2VydmVyVHJhbnNJRCI6IjEifQ\r\n",
		"", "=", "a", "ab=", "A-_+/", "Zm9v\nYmFy",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, err := emv.DecodeBase64Lenient(s); err == nil {
			if len(got) == 0 {
				t.Fatalf("%q decoded to nothing without an error", s)
			}
			again, err := emv.DecodeBase64Lenient(emv.EncodeBase64URL(got))
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("%q decoded to %x, which re-encoded decodes to %x (%v)", s, got, again, err)
			}
		}
		// Now take the input as the bytes a peer encodes.
		b := []byte(s)
		if len(b) == 0 {
			if _, err := emv.DecodeBase64Lenient(""); err == nil {
				t.Fatal("the empty string decoded without an error")
			}
			return
		}
		for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
			text := enc.EncodeToString(b)
			for _, form := range []string{text, " " + text + "\r\n"} {
				got, err := emv.DecodeBase64Lenient(form)
				if err != nil || !bytes.Equal(got, b) {
					t.Fatalf("%q decoded to %x (%v), want %x", form, got, err, b)
				}
			}
		}
		// The strict decoder, for JOSE parts, takes our unpadded base64url and nothing padded.
		if got, err := emv.DecodeBase64Strict(emv.EncodeBase64URL(b)); err != nil || !bytes.Equal(got, b) {
			t.Fatalf("strict decoding of our own encoding of %x gave %x (%v)", b, got, err)
		}
		if padded := base64.URLEncoding.EncodeToString(b); strings.Contains(padded, "=") {
			if _, err := emv.DecodeBase64Strict(padded); err == nil {
				t.Fatalf("strict decoding accepted padded %q", padded)
			}
		}
	})
}
