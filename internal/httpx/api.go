package httpx

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
)

// API adapts h to a JSON API endpoint. An error it returns becomes a problem document: a *Problem in
// the error's chain is sent as it is; anything else is a 500 "internal error", with the whole error in
// the log. Answers are marked Cache-Control: no-store, since API answers are about one transaction.
func API(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		serve("api", w, r, h, classifyAPI)
	})
}

type apiFailure struct{ p *Problem }

func classifyAPI(err error) failure {
	var p *Problem
	if errors.As(err, &p) && p.Status >= 400 && p.Status <= 599 {
		return apiFailure{p}
	}
	return apiFailure{internalProblem(err)}
}

func (f apiFailure) code() string       { return strconv.Itoa(f.p.Status) }
func (f apiFailure) logAttr() slog.Attr { return slog.Int("status", f.p.Status) }
func (f apiFailure) serverFault() bool  { return f.p.Status >= 500 }
func (f apiFailure) write(w http.ResponseWriter, _ *http.Request) {
	WriteProblem(w, f.p)
}

// WriteProblem sends p as an RFC 9457 application/problem+json document. Only the public part goes
// out: type, title, status, detail and the field errors, never p.Err.
func WriteProblem(w http.ResponseWriter, p *Problem) {
	body, err := json.Marshal(p.doc())
	if err != nil {
		// A problemDoc holds only strings and an int; it always encodes.
		panic("httpx: encoding a problem: " + err.Error())
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	w.Write(body)
}

// WriteJSON sends v as a JSON answer with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(append(body, '\n'))
	return err
}
