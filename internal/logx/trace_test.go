package logx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/open3ds/open3ds/internal/logx"
)

// A line logged in a span names its trace and span exactly, even when the random trace id holds a
// run of digits the card-number rule would mask anywhere else; a line outside a span names none.
func TestLinesInASpanCarryItsIDsUnmasked(t *testing.T) {
	const digits = "4000000000001000" // a Luhn-valid card number, as a random id may spell by chance
	tid, _ := trace.TraceIDFromHex(digits + "0000000000000001")
	sid, _ := trace.SpanIDFromHex(digits)
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	var buf bytes.Buffer
	log := logx.New(&buf, slog.LevelInfo, "json")
	log.With("request_id", "r1").InfoContext(ctx, "in a span", "note", digits)
	log.Info("outside", "note", digits)
	dec := json.NewDecoder(&buf)
	var in, out map[string]any
	if dec.Decode(&in) != nil || dec.Decode(&out) != nil {
		t.Fatal(buf.String())
	}
	if in[logx.TraceIDKey] != tid.String() || in[logx.SpanIDKey] != sid.String() || in["request_id"] != "r1" {
		t.Errorf("the line in a span says %v, want trace %s span %s", in, tid, sid)
	}
	if in["note"] == digits {
		t.Error("the card number in an ordinary attribute was not masked, so this test shows nothing")
	}
	if _, ok := out[logx.TraceIDKey]; ok {
		t.Errorf("the line outside a span names a trace: %v", out)
	}
}
