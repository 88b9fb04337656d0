package httpx

import (
	"bytes"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// Page adapts h to a page for people: a challenge screen, a checkout, an admin page. An error becomes
// a short HTML page with the status and one sentence; a *Problem's Title is shown when the handler
// set one, and nothing else of the error ever is. Pages are marked Cache-Control: no-store, which a
// handler may override for pages that hold nothing of one shopper's.
func Page(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		serve("page", w, r, h, classifyPage)
	})
}

type pageFailure struct {
	status   int
	sentence string
}

func classifyPage(err error) failure {
	var p *Problem
	if errors.As(err, &p) && p.Status >= 400 && p.Status <= 599 {
		s := p.Title
		if s == "" {
			s = sentence(p.Status)
		}
		return pageFailure{status: p.Status, sentence: s}
	}
	return pageFailure{status: http.StatusInternalServerError, sentence: sentence(http.StatusInternalServerError)}
}

func (f pageFailure) code() string       { return strconv.Itoa(f.status) }
func (f pageFailure) logAttr() slog.Attr { return slog.Int("status", f.status) }
func (f pageFailure) serverFault() bool  { return f.status >= 500 }
func (f pageFailure) write(w http.ResponseWriter, r *http.Request) {
	writePage(w, r, f.status, f.sentence)
}

// sentence is what we tell a person about a status, in words rather than numbers.
func sentence(status int) string {
	switch {
	case status == http.StatusNotFound:
		return "This page does not exist, or it has expired."
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return "You are not allowed to see this page."
	case status == http.StatusMethodNotAllowed:
		return "This page cannot be used that way."
	case status == http.StatusRequestEntityTooLarge:
		return "What was sent is too large."
	case status == http.StatusTooManyRequests:
		return "Too many attempts. Please wait a moment and try again."
	case status == http.StatusGone:
		return "This page has expired."
	case status >= 500:
		return "Something went wrong on our side. Please try again later."
	}
	return "The request could not be handled."
}

var pageTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Status}} {{.Text}}</title>
</head>
<body>
<main>
<h1>{{.Text}}</h1>
<p>{{.Sentence}}</p>
{{- if .RequestID}}
<p><small>Reference: {{.RequestID}}</small></p>
{{- end}}
</main>
</body>
</html>
`))

// writePage sends the error page. The request id is shown as a reference a person can quote to
// support, which lets an operator find the log lines of exactly their request.
func writePage(w http.ResponseWriter, r *http.Request, status int, s string) {
	var buf bytes.Buffer
	data := struct {
		Status         int
		Text, Sentence string
		RequestID      string
	}{status, http.StatusText(status), s, RequestIDFrom(r.Context())}
	if err := pageTemplate.Execute(&buf, data); err != nil {
		// The template is fixed and the data is plain strings; this cannot fail.
		panic("httpx: rendering the error page: " + err.Error())
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// wantsHTML reports whether the client reads HTML, so that a panic outside any adapter gets a page
// for a browser and a problem document for a program.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
