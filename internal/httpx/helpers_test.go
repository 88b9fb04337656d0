package httpx_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/logx"
)

// syncBuffer collects log output written by the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testServer is a real server with the standard middleware, its log and its metrics registry.
type testServer struct {
	*httptest.Server
	logs *syncBuffer
	reg  *prometheus.Registry
}

func start(tb testing.TB, routes func(mux *http.ServeMux)) *testServer {
	tb.Helper()
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	m, err := httpx.NewMetrics(reg)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	routes(mux)
	mux.Handle("GET /metrics", httpx.MetricsHandler(reg))
	srv := httptest.NewServer(httpx.Standard(logx.New(logs, slog.LevelDebug, "json"), m)(mux))
	tb.Cleanup(srv.Close)
	return &testServer{Server: srv, logs: logs, reg: reg}
}

// do sends a request and returns the response with its body read.
func (s *testServer) do(tb testing.TB, method, path, body string, header ...string) (*http.Response, string) {
	tb.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, string(b)
}

// lines parses the JSON log lines written so far.
func (s *testServer) lines(tb testing.TB) []map[string]any {
	tb.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s.logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// line returns the first log line with the message msg, failing the test when there is none.
func (s *testServer) line(tb testing.TB, msg string) map[string]any {
	tb.Helper()
	for _, l := range s.lines(tb) {
		if l["msg"] == msg {
			return l
		}
	}
	tb.Fatalf("no log line %q in:\n%s", msg, s.logs.String())
	return nil
}
