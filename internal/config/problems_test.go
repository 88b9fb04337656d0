package config_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/logx"
)

type storeConfig struct {
	DSN      logx.Secret `yaml:"dsn"`
	MaxConns int         `yaml:"max_conns"`
}

// Validate reports two problems at once through the collector.
func (s *storeConfig) Validate() error {
	var p config.Problems
	if s.DSN.IsZero() {
		p.Add("dsn", "is required")
	}
	if s.MaxConns < 1 {
		p.Add("max_conns", "must be at least 1, got %d", s.MaxConns)
	}
	return p.Err()
}

type checkedConfig struct {
	Listen  string        `yaml:"listen"`
	Timeout time.Duration `yaml:"timeout"`
	Debug   bool          `yaml:"debug"`
	Store   storeConfig   `yaml:"store"`
}

// Validate reports its problems joined, the other shape a hook may use.
func (c checkedConfig) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("listen is required"))
	}
	if c.Timeout > time.Hour {
		errs = append(errs, errors.New("timeout is over an hour"))
	}
	return errors.Join(errs...)
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	cfg := checkedConfig{Listen: ":1"}
	err := load(t, &cfg, source{
		yaml: "listen: ''\nstore:\n  max_conns: many\n  mx: 1\n",
		env:  map[string]string{"OPEN3DS_TIMEOUT": "90"},
		args: []string{"-debug=maybe"},
	})
	var ps config.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err = %v, want Problems", err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Source+" "+p.Name+": "+p.Msg)
	}
	want := []string{
		`file store.max_conns: want a whole number, got "many"`,
		`file store.mx: unknown key`,
		`env OPEN3DS_TIMEOUT: want a duration such as 30s or 5m, got "90"`,
		`flag -debug: want true or false, got "maybe"`,
		`check : listen is required`,
		`check store.dsn: is required`,
		`check store.max_conns: must be at least 1, got 0`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(err.Error(), "config: 7 problems:\n\t") {
		t.Errorf("Error() = %q, want one line per problem", err.Error())
	}
}

func TestValidateIsQuietWhenAllIsWell(t *testing.T) {
	cfg := checkedConfig{Listen: ":1", Store: storeConfig{DSN: "postgres://x", MaxConns: 2}}
	if err := load(t, &cfg, source{}); err != nil {
		t.Fatalf("err = %v, want nil", err)
	}
}

func TestBadValuesAreQuotedWithoutCardNumbersOrSecrets(t *testing.T) {
	type withToken struct {
		Workers   int `yaml:"workers"`
		TokenTTLs int `yaml:"api_token"`
	}
	cfg := withToken{}
	err := load(t, &cfg, source{env: map[string]string{
		"OPEN3DS_WORKERS":   "4111111111111111x",
		"OPEN3DS_API_TOKEN": "tok-abcdef",
	}})
	if err == nil {
		t.Fatal("want problems")
	}
	msg := err.Error()
	for _, leak := range []string{"4111111111111111", "tok-abcdef"} {
		if strings.Contains(msg, leak) {
			t.Errorf("problem text %q repeats %q", msg, leak)
		}
	}
	if !strings.Contains(msg, "411111******1111x") || !strings.Contains(msg, "OPEN3DS_API_TOKEN: want a whole number, got a value (not shown)") {
		t.Errorf("problem text %q does not say what was wrong", msg)
	}
}

func TestStructMistakesAreReportedByNewLoader(t *testing.T) {
	tests := []struct {
		name string
		cfg  any
		want string
	}{
		{"a secret with a flag is refused", &struct {
			Key logx.Secret `flag:"key"`
		}{}, "cannot have a flag"},
		{"an unsupported field type is refused", &struct{ Rate float64 }{}, "cannot read"},
		{"a struct that is not a pointer is refused", struct{}{}, "want a pointer to a struct"},
		{"two fields with one YAML key are refused", &struct {
			A string `yaml:"x"`
			B string `yaml:"x" env:"B"`
		}{}, "YAML key x is used twice"},
		{"a field clashing with -config is refused", &struct{ Config string }{}, "used twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.NewLoader(tt.cfg, flag.NewFlagSet("t", flag.ContinueOnError))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestFlagUsageNamesTheVariableAndDefault(t *testing.T) {
	cfg := defaults()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	if _, err := config.NewLoader(&cfg, fs); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.PrintDefaults()
	for _, want := range []string{"-tls.cert", "-tls.cert string", "certificate file (string, env OPEN3DS_TLS_CERT)", "(default 10s)", "-ds-addr"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "-password") {
		t.Errorf("usage offers a flag for a secret:\n%s", out.String())
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	const secret = "hunter2-do-not-print"
	cfg := defaults()
	if err := load(t, &cfg, source{env: map[string]string{"OPEN3DS_PASSWORD": secret, "OPEN3DS_TLS_KEY": secret}}); err != nil {
		t.Fatal(err)
	}
	if cfg.Password.Reveal() != secret {
		t.Fatalf("the secret did not load")
	}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, cfg.Password), fmt.Sprintf(verb, &cfg))
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js))
	var logs bytes.Buffer
	for _, log := range []*slog.Logger{
		slog.New(slog.NewJSONHandler(&logs, nil)), // LogValue alone protects it, even without logx's rules
		slog.New(slog.NewTextHandler(&logs, nil)),
		logx.New(&logs, slog.LevelInfo, "json"),
		logx.New(&logs, slog.LevelInfo, "text"),
	} {
		log.Info("config", "config", cfg, "password", cfg.Password, slog.Any("tls", cfg.TLS))
	}
	outputs = append(outputs, logs.String())
	for _, out := range outputs {
		if strings.Contains(out, secret) || strings.Contains(out, fmt.Sprintf("%x", secret)) {
			t.Errorf("output shows the secret: %s", out)
		}
	}
	if !strings.Contains(outputs[0], "[redacted]") {
		t.Errorf("%%v output %q does not say the secret is redacted", outputs[0])
	}
}
