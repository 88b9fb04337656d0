package httpx

import (
	"fmt"
	"net/http"
	"strings"
)

// Problem is an error a handler means the client to see: an HTTP status, a sentence of detail and,
// for a request with bad fields, which fields and why. The API adapter writes it as an RFC 9457
// problem document; the Page adapter shows its status and Title. Err is the cause, for the log only.
type Problem struct {
	Status int          // HTTP status, 4xx or 5xx
	Type   string       // a URI naming the kind of problem; "about:blank" when empty
	Title  string       // a short summary; the status text when empty
	Detail string       // what went wrong with this request, for the client to read
	Errors []FieldError // the fields at fault, if any
	Err    error        // the underlying cause; logged, never sent
}

// FieldError names one bad field of a request and says what is wrong with it. Field is a path into
// the request document ("purchase.amount"); Detail must not repeat the value, which may be card data.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// NewProblem makes a problem with a status and a detail sentence.
func NewProblem(status int, detail string, fields ...FieldError) *Problem {
	return &Problem{Status: status, Detail: detail, Errors: fields}
}

// BadRequest is a 400 problem: the request cannot be read as it stands.
func BadRequest(detail string, fields ...FieldError) *Problem {
	return NewProblem(http.StatusBadRequest, detail, fields...)
}

// Invalid is a 422 problem: the request was read, and the named fields have values we cannot accept.
func Invalid(fields ...FieldError) *Problem {
	return NewProblem(http.StatusUnprocessableEntity, "the request has invalid fields", fields...)
}

func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", p.Status, p.title())
	if p.Detail != "" {
		b.WriteString(": ")
		b.WriteString(p.Detail)
	}
	for i, f := range p.Errors {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Field + ": " + f.Detail)
		if i == len(p.Errors)-1 {
			b.WriteString(")")
		}
	}
	if p.Err != nil {
		b.WriteString(": ")
		b.WriteString(p.Err.Error())
	}
	return b.String()
}

func (p *Problem) Unwrap() error { return p.Err }

func (p *Problem) title() string {
	if p.Title != "" {
		return p.Title
	}
	if t := http.StatusText(p.Status); t != "" {
		return t
	}
	return "Error"
}

// problemDoc is the RFC 9457 document as sent.
type problemDoc struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
}

func (p *Problem) doc() problemDoc {
	typ := p.Type
	if typ == "" {
		typ = "about:blank"
	}
	return problemDoc{Type: typ, Title: p.title(), Status: p.Status, Detail: p.Detail, Errors: p.Errors}
}

// internalProblem is what a client sees of any error the handler did not classify.
func internalProblem(err error) *Problem {
	return &Problem{Status: http.StatusInternalServerError, Detail: "internal error", Err: err}
}
