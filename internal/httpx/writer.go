package httpx

import "net/http"

// recorder remembers what was written through a ResponseWriter: the status, the bytes, and whether
// the header has gone out (after which an error can no longer change the answer). Unwrap lets
// http.ResponseController reach the Flusher and deadlines of the writer underneath.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

// record wraps w, or returns it when it is already a recorder, so that stacked middleware share one.
func record(w http.ResponseWriter) *recorder {
	if rec, ok := w.(*recorder); ok {
		return rec
	}
	return &recorder{ResponseWriter: w}
}

func (rec *recorder) WriteHeader(status int) {
	// 1xx answers are interim; the final status is still to come.
	if rec.status == 0 && status >= 200 {
		rec.status = status
	}
	rec.ResponseWriter.WriteHeader(status)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Flush passes on to the writer underneath, for handlers that stream.
func (rec *recorder) Flush() {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	_ = http.NewResponseController(rec.ResponseWriter).Flush()
}

func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// wrote reports whether the status line has been sent.
func (rec *recorder) wrote() bool { return rec.status != 0 }

// statusOr is the status sent, or 200 when the handler wrote nothing at all (net/http sends 200 then).
func (rec *recorder) statusOr() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}
