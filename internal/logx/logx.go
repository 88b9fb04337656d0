// Package logx is the one place where open3ds sets up logging and decides what a log line may show.
// Every role builds its logger with New, whose handler applies two rules to everything it writes:
// card numbers are masked to their first six and last four digits, and attributes whose key names a
// secret (a one-time code, a password, a key) are replaced by "[redacted]". The rules live here, and
// nowhere else, so that a new log line cannot forget them.
package logx

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// Redacted is what a secret value becomes in every output.
const Redacted = "[redacted]"

// New returns a logger that writes to w at level and above, as JSON lines when format is "json" and
// as logfmt-style text when it is "text". Any other format, the empty string included, gives JSON:
// it is the machine-readable choice, and configuration validation is the place to refuse a typo.
// A line logged with a context that holds a trace span carries its trace_id and span_id.
func New(w io.Writer, level slog.Leveler, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: ReplaceAttr}
	if format == "text" {
		return slog.New(traceHandler{slog.NewTextHandler(w, opts)})
	}
	return slog.New(traceHandler{slog.NewJSONHandler(w, opts)})
}

// ReplaceAttr applies the redaction rules to one attribute. New installs it; code that builds its own
// slog handler (a test writing to a buffer, say) must install it too. The standard handlers call it
// for the message, for every attribute at any depth of groups, and for the attributes given to
// Logger.With, after resolving slog.LogValuer values, so a rule applied here covers every log path.
func ReplaceAttr(groups []string, a slog.Attr) slog.Attr {
	if builtIn(groups, a) {
		return a
	}
	if a.Value.Kind() == slog.KindAny {
		if id, ok := a.Value.Any().(hexID); ok {
			return slog.String(a.Key, string(id)) // ours, from a span context: never card data
		}
	}
	a.Key = RedactText(a.Key)
	if IsSecretKey(a.Key) || anySecret(groups) {
		return slog.String(a.Key, Redacted)
	}
	a.Value = redactValue(a.Value)
	return a
}

// builtIn reports whether a is the record's own time, level or source, which hold nothing of ours.
// The check is by type as well as key, so that a user attribute that happens to be called "level"
// is still redacted.
func builtIn(groups []string, a slog.Attr) bool {
	if len(groups) != 0 {
		return false
	}
	switch a.Key {
	case slog.TimeKey:
		return a.Value.Kind() == slog.KindTime
	case slog.LevelKey:
		_, ok := a.Value.Any().(slog.Level)
		return a.Value.Kind() == slog.KindAny && ok
	case slog.SourceKey:
		_, ok := a.Value.Any().(*slog.Source)
		return a.Value.Kind() == slog.KindAny && ok
	}
	return false
}

func anySecret(groups []string) bool {
	for _, g := range groups {
		if IsSecretKey(g) {
			return true
		}
	}
	return false
}

// redactValue masks card numbers in a value of any kind. Numbers count too: a PAN held in an int64
// is still a PAN. Durations, times, floats and booleans cannot spell one and pass unchanged.
func redactValue(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(RedactText(v.String()))
	case slog.KindInt64:
		if s := strconv.FormatInt(v.Int64(), 10); digitCount(s) >= minPANDigits {
			return slog.StringValue(RedactText(s))
		}
	case slog.KindUint64:
		if s := strconv.FormatUint(v.Uint64(), 10); digitCount(s) >= minPANDigits {
			return slog.StringValue(RedactText(s))
		}
	case slog.KindAny:
		return redactAny(v.Any())
	}
	return v
}

// redactAny turns an arbitrary value into something safe to print. Errors and Stringers become their
// text. Everything else (structs, maps, slices) goes through encoding/json, so that struct fields and
// map keys are seen by name and the key rule applies to them as it does to attributes; a value JSON
// cannot encode falls back to its %+v text, which still has card numbers masked.
func redactAny(x any) slog.Value {
	switch x := x.(type) {
	case nil:
		return slog.AnyValue(nil)
	case error:
		return slog.StringValue(RedactText(x.Error()))
	case fmt.Stringer:
		return slog.StringValue(RedactText(x.String()))
	case []byte:
		return slog.StringValue(RedactText(string(x)))
	}
	raw, err := json.Marshal(x)
	if err != nil {
		return slog.StringValue(RedactText(fmt.Sprintf("%+v", x)))
	}
	clean, err := redactJSON(raw)
	if err != nil {
		return slog.StringValue(RedactText(string(raw)))
	}
	return slog.AnyValue(jsonValue(clean))
}

// jsonValue is a redacted JSON document. The JSON handler embeds it as structure (MarshalJSON); the
// text handler prints it as one quoted string (MarshalText) instead of a list of byte values.
type jsonValue []byte

func (j jsonValue) MarshalJSON() ([]byte, error) { return j, nil }
func (j jsonValue) MarshalText() ([]byte, error) { return j, nil }
