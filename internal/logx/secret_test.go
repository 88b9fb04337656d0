package logx_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/logx"
)

func TestSecretShowsOnlyThroughReveal(t *testing.T) {
	s := logx.Secret("correct horse")
	if s.Reveal() != "correct horse" {
		t.Fatalf("Reveal() = %q", s.Reveal())
	}
	js, _ := json.Marshal(map[string]any{"s": s})
	text, _ := s.MarshalText()
	outputs := map[string]string{
		"String":      s.String(),
		"GoString":    s.GoString(),
		"MarshalJSON": string(js),
		"MarshalText": string(text),
		"LogValue":    s.LogValue().String(),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s"} {
		outputs[verb] = fmt.Sprintf(verb, s)
	}
	for how, out := range outputs {
		if strings.Contains(out, "horse") || strings.Contains(out, fmt.Sprintf("%x", "correct")) {
			t.Errorf("%s shows the secret: %s", how, out)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("%s = %q, want it to say [redacted]", how, out)
		}
	}
	if logx.Secret("").IsZero() != true || s.IsZero() {
		t.Error("IsZero should tell an empty secret from a set one")
	}
}
