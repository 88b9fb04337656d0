package logx

import (
	"fmt"
	"io"
	"log/slog"
)

// Secret is a string that never shows itself: a password, an API key, a key in PEM form. Every way Go
// has of printing a value (fmt verbs, encoding/json, encoding/text, slog) gives "[redacted]"; only
// Reveal returns the value, so each place that really uses it can be found by searching for Reveal.
//
// fmt cannot call methods on unexported struct fields, so a Secret kept in an unexported field of a
// struct printed with %v is shown raw. Keep Secret fields exported, as configuration structs do.
type Secret string

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty, for validation that a required secret was given.
func (s Secret) IsZero() bool { return s == "" }

func (Secret) String() string   { return Redacted }
func (Secret) GoString() string { return `logx.Secret("` + Redacted + `")` }

// Format covers every verb, %x and %d included, which would otherwise print the underlying string.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, s.GoString())
	case verb == 'q':
		io.WriteString(f, `"`+Redacted+`"`)
	default:
		io.WriteString(f, Redacted)
	}
}

func (Secret) LogValue() slog.Value         { return slog.StringValue(Redacted) }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
