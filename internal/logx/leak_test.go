package logx_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/logx"
)

// The card and code every path below tries to leak. The PAN is a Luhn-valid test card.
const (
	pan       = "4111111111111111"
	spacedPAN = "4111 1111 1111 1111"
	code      = "904712"
	masked    = "411111******1111"
)

type cardStringer struct{}

func (cardStringer) String() string { return "card " + pan + " otp=" + code }

type challenge struct {
	AcctNumber string
	OTP        string
	Inner      struct{ Code string }
	Amount     int
}

type panValuer struct{}

func (panValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("acctNumber", pan), slog.String("otp", code))
}

func TestNoCardNumberOrCodeReachesTheLog(t *testing.T) {
	paths := []struct {
		name       string
		log        func(*slog.Logger)
		wantMasked bool
	}{
		{"the message", func(l *slog.Logger) { l.Info("card " + pan + " and otp=" + code) }, true},
		{"a card typed with spaces in the message", func(l *slog.Logger) { l.Info("card " + spacedPAN) }, false},
		{"string attributes", func(l *slog.Logger) { l.Info("x", "acctNumber", pan, "otp", code) }, true},
		{"a user attribute called level", func(l *slog.Logger) { l.Info("x", "level", pan) }, true},
		{"an int attribute", func(l *slog.Logger) { l.Info("x", slog.Int64("acctNumber", 4111111111111111)) }, true},
		{"a group", func(l *slog.Logger) { l.Info("x", slog.Group("card", "number", pan, "otpCode", code)) }, true},
		{"a nested group", func(l *slog.Logger) {
			l.Info("x", slog.Group("a", slog.Group("b", "pan", pan, "verificationCode", code)))
		}, true},
		{"an error value", func(l *slog.Logger) {
			l.Error("x", "err", fmt.Errorf("declined %s: %w", pan, errors.New("bad otp="+code)))
		}, true},
		{"a Stringer", func(l *slog.Logger) { l.Info("x", "card", cardStringer{}) }, true},
		{"a struct", func(l *slog.Logger) {
			c := challenge{AcctNumber: pan, OTP: code, Amount: 5}
			c.Inner.Code = code
			l.Info("x", slog.Any("challenge", c))
		}, true},
		{"a map", func(l *slog.Logger) {
			l.Info("x", slog.Any("form", map[string]any{"acctNumber": pan, "code": code, "cards": []string{pan}}))
		}, true},
		{"a byte slice", func(l *slog.Logger) { l.Info("x", "body", []byte(`{"pan":"`+pan+`","otp":"`+code+`"}`)) }, true},
		{"a LogValuer", func(l *slog.Logger) { l.Info("x", "card", panValuer{}) }, true},
		{"a Secret", func(l *slog.Logger) { l.Info("x", "value", logx.Secret(code)) }, false},
		{"attributes given to With", func(l *slog.Logger) { l.With("pan", pan, "otp", code).Info("x") }, true},
		{"a group opened with WithGroup", func(l *slog.Logger) { l.WithGroup("challenge").Info("x", "pan", pan, "otp", code) }, true},
		{"a group whose name is a secret", func(l *slog.Logger) { l.WithGroup("otp").Info("x", "value", code) }, false},
	}
	for _, format := range []string{"json", "text"} {
		for _, p := range paths {
			t.Run(format+": "+p.name, func(t *testing.T) {
				var buf bytes.Buffer
				p.log(logx.New(&buf, slog.LevelDebug, format))
				assertClean(t, buf.String(), p.wantMasked)
			})
		}
	}
}

func TestNoCardNumberOrCodeReachesTheLogThroughHTTP(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var buf syncBuffer
			m, err := httpx.NewMetrics(prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("POST /api/cards/{pan}", httpx.API(func(w http.ResponseWriter, r *http.Request) error {
				var body struct{ Pan, Otp string }
				return httpx.DecodeJSON(r, 0, &body)
			}))
			mux.Handle("POST /areq", httpx.Protocol(emv.ComponentDS, emv.Version220, func(http.ResponseWriter, *http.Request) error {
				return &emv.Error{Code: emv.CodeAccessDenied, Detail: "acctNumber", Err: errors.New("no range for " + pan)}
			}))
			mux.Handle("POST /challenge", httpx.Page(func(http.ResponseWriter, *http.Request) error {
				panic("unexpected code=" + code + " for " + pan)
			}))
			mux.Handle("POST /raw", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				panic(fmt.Sprintf("raw handler: otp=%s pan %s", code, pan))
			}))
			srv := httptest.NewServer(httpx.Standard(logx.New(&buf, slog.LevelDebug, format), m)(mux))
			defer srv.Close()

			post := func(path, body string) {
				resp, err := srv.Client().Post(srv.URL+path, "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			post("/api/cards/"+pan+"?pan="+pan+"&otp="+code, `{"pan": `+pan+`, "otp": `+code+`}`)
			post("/api/cards/x", `{"pan": "`+pan+`", "otp": "`+code+`", "`+pan+`": 1}`)
			post("/areq", `{}`)
			post("/challenge?otp="+code, "")
			post("/raw", "")
			srv.Close() // every handler has returned, so every line is written
			assertClean(t, buf.String(), true)
			for _, want := range []string{"field Pan: got number", "stack", "unknown field"} {
				if !strings.Contains(buf.String(), want) {
					t.Errorf("the log lacks %q, so a path was not exercised:\n%s", want, buf.String())
				}
			}
		})
	}
}

func TestNoCardNumberOrCodeReachesTheLogThroughConfigProblems(t *testing.T) {
	type cfg struct {
		Workers int         `yaml:"workers"`
		Debug   bool        `yaml:"debug"`
		OTPKey  logx.Secret `yaml:"otp_key"`
	}
	env := map[string]string{
		"OPEN3DS_WORKERS": pan,
		"OPEN3DS_DEBUG":   "otp=" + code,
		"OPEN3DS_OTP_KEY": code,
	}
	var c cfg
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	err := config.Load(&c, fs, []string{"-workers", spacedPAN}, func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("want configuration problems")
	}
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		log := logx.New(&buf, slog.LevelDebug, format)
		log.Error("bad configuration", "err", err)
		log.Info("configuration", "config", c)
		assertClean(t, buf.String(), true)
	}
}

// noise is log content made of digits we did not put there (times, durations, stack addresses), which
// could spell the code by chance and make the test flaky.
var noise = regexp.MustCompile(`"?(time|duration|stack)"?[=:]("(?:[^"\\]|\\.)*"|[^ ,}\n]+)`)

func assertClean(tb testing.TB, out string, wantMasked bool) {
	tb.Helper()
	clean := noise.ReplaceAllString(out, "")
	for _, leak := range []string{pan, spacedPAN, code} {
		if strings.Contains(clean, leak) {
			tb.Errorf("the log shows %q:\n%s", leak, out)
		}
	}
	if wantMasked && !strings.Contains(out, masked) {
		tb.Errorf("the log lacks the masked card %s:\n%s", masked, out)
	}
	if out == "" {
		tb.Error("nothing was logged")
	}
}

// syncBuffer is a log sink the server's goroutines may write to at once.
type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Buffer.Write(p)
}
