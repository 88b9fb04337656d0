package emv_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

// invalidFallbackVersion is the version the tests give ErroFor for a message whose own version is
// unreadable or unsupported; the manifest's messageVersion says which of the two an Erro must carry.
const invalidFallbackVersion = emv.Version231

// invalidCase is one entry of testdata/invalid/cases.json: a broken message and the Erro it must earn.
type invalidCase struct {
	Name    string `json:"name"`    // a sentence saying which rule the message breaks
	File    string `json:"file"`    // under testdata/invalid
	Context string `json:"context"` // the AReq fixture, under testdata; empty for none
	ParseAs string `json:"parseAs"` // the one type the receiver takes; empty for Parse

	Component string `json:"component"` // who detects the error: the component given to ErroFor
	Code      string `json:"code"`
	Detail    string `json:"detail"`

	// What was readable of the broken message and must come back in the Erro.
	MessageType    string            `json:"messageType"`
	MessageVersion string            `json:"messageVersion"`
	IDs            map[string]string `json:"ids"`

	// Disagreement, when set, says why the engine does not yet do what PROTOCOL.md asks: the case is
	// then reported as skipped, with that reason, until the engine follows the protocol.
}

func invalidCases(tb testing.TB) []invalidCase {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "invalid", "cases.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var cases []invalidCase
	if err := json.Unmarshal(data, &cases); err != nil {
		tb.Fatalf("cases.json: %v", err)
	}
	return cases
}

// parseInvalid runs a case's message through the parser the way its receiver would.
func parseInvalid(tb testing.TB, c invalidCase) error {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "invalid", c.File))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := goldenContext(tb, contextPath(c))
	if c.ParseAs != "" {
		_, err = emv.ParseAs(data, c.ParseAs, ctx)
	} else {
		_, err = emv.Parse(data, ctx)
	}
	return err
}

func contextPath(c invalidCase) string {
	if c.Context == "" {
		return ""
	}
	return filepath.Join("testdata", filepath.FromSlash(c.Context))
}

func TestEveryInvalidFixtureEarnsItsErro(t *testing.T) {
	for _, c := range invalidCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			err := parseInvalid(t, c)
			if err == nil {
				t.Fatalf("%s parsed without error, want %s %q", c.File, c.Code, c.Detail)
			}
			var pe *emv.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not an *emv.Error", err, err)
			}
			e := emv.ErroFor(err, emv.Component(c.Component), invalidFallbackVersion)
			if e.ErrorCode != c.Code || e.ErrorDetail != c.Detail {
				t.Errorf("errorCode %s, errorDetail %q; want %s %q", e.ErrorCode, e.ErrorDetail, c.Code, c.Detail)
			}
			if e.ErrorComponent != c.Component {
				t.Errorf("errorComponent %q, want %q", e.ErrorComponent, c.Component)
			}
			if e.MessageType != emv.TypeErro || e.ErrorDescription == "" {
				t.Errorf("messageType %q, errorDescription %q: not a complete Erro", e.MessageType, e.ErrorDescription)
			}
			if e.ErrorMessageType != c.MessageType || e.MessageVersion != c.MessageVersion {
				t.Errorf("errorMessageType %q, messageVersion %q; want %q %q",
					e.ErrorMessageType, e.MessageVersion, c.MessageType, c.MessageVersion)
			}
			got := map[string]string{
				"threeDSServerTransID": e.ThreeDSServerTransID,
				"acsTransID":           e.ACSTransID,
				"dsTransID":            e.DSTransID,
				"sdkTransID":           e.SDKTransID,
			}
			for k, v := range got {
				if v != c.IDs[k] {
					t.Errorf("%s %q in the Erro, want %q", k, v, c.IDs[k])
				}
			}
		})
	}
}

// The manifest must stay one case per file, every file must be in it, and every code the engine's
// validation can give must have at least one case; otherwise a rule could lose its test unnoticed.
func TestInvalidManifestCoversEveryFileAndCode(t *testing.T) {
	cases := invalidCases(t)
	listed := map[string]bool{}
	codes := map[string]bool{}
	for _, c := range cases {
		if listed[c.File] {
			t.Errorf("%s is listed twice", c.File)
		}
		listed[c.File] = true
		codes[c.Code] = true
		if c.Name == "" || c.Component == "" || c.Detail == "" {
			t.Errorf("%s: name, component and detail are all required", c.File)
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if b := filepath.Base(f); b != "cases.json" && !listed[b] {
			t.Errorf("%s has no entry in cases.json", b)
		}
	}
	for _, code := range []string{"101", "102", "201", "202", "203", "204"} {
		if !codes[code] {
			t.Errorf("no case for code %s", code)
		}
	}
}

// A peer may send a message of up to a megabyte (the HTTP layer's body limit), and the checks run before
// anyone knows who sent it. Refusing a message full of repeated keys must therefore cost time in
// proportion to its size: four times the keys may take about four times as long, not sixteen.
func TestRefusingRepeatedKeysTakesTimeInProportionToThem(t *testing.T) {
	message := func(keys int) []byte {
		var b strings.Builder
		b.WriteString(`{"messageType":"PReq","messageVersion":"2.2.0"`)
		for i := range keys {
			fmt.Fprintf(&b, `,"k%06d":1,"k%06d":1`, i, i)
		}
		b.WriteString("}")
		return []byte(b.String())
	}
	// Cost is counted, not timed: the keys the scanner's repeated-key checks look at. Wall time on a
	// shared machine under the race detector gave ratios from 4 to 16 for the same code.
	small, large := emv.RepeatedKeyLooks(message(4000)), emv.RepeatedKeyLooks(message(16000))
	if small == 0 {
		t.Fatal("the scanner counted no key looks")
	}
	if _, err := emv.Parse(message(16000), nil); err == nil {
		t.Fatal("a message with repeated keys parsed")
	}
	if large > 5*small {
		t.Fatalf("4000 repeated keys took %d key looks, 16000 took %d: %.1f times as many for 4 times the keys",
			small, large, float64(large)/float64(small))
	}
}
