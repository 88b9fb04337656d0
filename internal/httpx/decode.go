package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// DefaultBodyLimit is the body size DecodeJSON allows when given a limit of zero or less. Our largest
// messages (an ARes with acsSignedContent and a full messageExtension) stay well under 64 KiB.
const DefaultBodyLimit = 1 << 20

// DecodeJSON reads r's body into v, refusing with a *Problem: a body over limit bytes (413), an empty
// body, malformed JSON, more than one JSON value, a field v has no place for, and a value of the wrong
// type (400, naming the field). A Problem never repeats a value from the body, which may be card data
// or a code; its Err keeps only what is safe to log. Other errors (a broken connection, a v that is not
// a pointer) come back as they are.
func DecodeJSON(r *http.Request, limit int64, v any) error {
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return fmt.Errorf("reading the request body: %w", err)
	}
	if int64(len(body)) > limit {
		return NewProblem(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", limit))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return BadRequest("the request body is empty; send a JSON document")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return BadRequest("the request body has data after its JSON document")
	}
	return nil
}

// decodeProblem turns an encoding/json error into a problem. The messages of encoding/json can quote
// the offending value ("cannot unmarshal number 123456 into ..."), so none of them is kept whole.
func decodeProblem(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var invalid *json.InvalidUnmarshalError
	switch {
	case errors.As(err, &invalid):
		return err // a bug in the caller, not in the request
	case errors.As(err, &syntax):
		return BadRequest(fmt.Sprintf("the request body is not valid JSON (at byte %d)", syntax.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("the request body is not valid JSON (it ends too early)")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(the document)"
		}
		detail := "must be " + jsonKind(typ.Type)
		return &Problem{
			Status: http.StatusBadRequest, Detail: "a field has the wrong type",
			Errors: []FieldError{{Field: field, Detail: detail}},
			Err:    fmt.Errorf("json: field %s: got %s, want %s", field, firstWord(typ.Value), typ.Type),
		}
	}
	// encoding/json has no type for an unknown field; its message is `json: unknown field "name"`.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unq, uerr := strconv.Unquote(name); uerr == nil {
			name = unq
		}
		return BadRequest("the request has a field we do not know", FieldError{Field: name, Detail: "unknown field"})
	}
	return BadRequest("the request body is not valid JSON")
}

// firstWord keeps "number" of "number 123456": the kind of value, without the value.
func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}

// jsonKind says in JSON's words what a Go type wants.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, not negative"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a " + t.String()
}
