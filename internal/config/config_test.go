package config_test

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/logx"
)

type tlsConfig struct {
	Cert string      `yaml:"cert" help:"certificate file"`
	Key  logx.Secret `yaml:"key" help:"private key in PEM form"`
}

type testConfig struct {
	Listen   string        `yaml:"listen" env:"LISTEN" flag:"listen" help:"address to listen on"`
	Debug    bool          `yaml:"debug"`
	Workers  int           `yaml:"workers"`
	Timeout  time.Duration `yaml:"timeout"`
	Peers    []string      `yaml:"peers"`
	Password logx.Secret   `yaml:"password"`
	DSAddr   string        // no tags: ds_addr, OPEN3DS_DS_ADDR, -ds-addr
	TLS      tlsConfig     `yaml:"tls"`
}

func defaults() testConfig {
	return testConfig{Listen: ":8443", Workers: 4, Timeout: 10 * time.Second, Peers: []string{"default"}}
}

// source is one configuration run: the YAML text (written to a real temp file when not empty), the
// environment, and the command line.
type source struct {
	yaml string
	env  map[string]string
	args []string
}

func load(tb testing.TB, cfg any, src source) error {
	tb.Helper()
	env := map[string]string{}
	for k, v := range src.env {
		env[k] = v
	}
	if src.yaml != "" {
		path := filepath.Join(tb.TempDir(), "open3ds.yaml")
		if err := os.WriteFile(path, []byte(src.yaml), 0o600); err != nil {
			tb.Fatal(err)
		}
		env[config.ConfigEnv] = path
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return config.Load(cfg, fs, src.args, func(k string) string { return env[k] })
}

func writeFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestEachSourceOverridesTheOneBefore(t *testing.T) {
	const file = "listen: file:1\nworkers: 8\ntimeout: 1m\npeers: [f1, f2]\ndebug: true\ntls:\n  cert: file.pem\n"
	tests := []struct {
		name string
		src  source
		want func(*testConfig)
	}{
		{"the defaults hold when nothing is configured", source{}, func(*testConfig) {}},
		{"the file overrides the defaults", source{yaml: file}, func(c *testConfig) {
			c.Listen, c.Workers, c.Timeout, c.Peers, c.Debug, c.TLS.Cert = "file:1", 8, time.Minute, []string{"f1", "f2"}, true, "file.pem"
		}},
		{"the environment overrides the file", source{yaml: file, env: map[string]string{
			"OPEN3DS_LISTEN": "env:1", "OPEN3DS_WORKERS": "16", "OPEN3DS_TIMEOUT": "2m", "OPEN3DS_PEERS": "e1, e2,",
			"OPEN3DS_DEBUG": "false", "OPEN3DS_TLS_CERT": "env.pem", "OPEN3DS_DS_ADDR": "https://ds.env",
		}}, func(c *testConfig) {
			c.Listen, c.Workers, c.Timeout, c.Peers, c.Debug, c.TLS.Cert, c.DSAddr = "env:1", 16, 2*time.Minute, []string{"e1", "e2"}, false, "env.pem", "https://ds.env"
		}},
		{"flags that were given override the environment", source{yaml: file,
			env:  map[string]string{"OPEN3DS_LISTEN": "env:1", "OPEN3DS_WORKERS": "16", "OPEN3DS_TLS_CERT": "env.pem"},
			args: []string{"-listen", "flag:1", "-workers=32", "-debug=false", "-tls.cert", "flag.pem", "-peers", "p1", "-peers", "p2,p3", "-ds-addr", "https://ds.flag"},
		}, func(c *testConfig) {
			c.Listen, c.Workers, c.Timeout, c.Peers, c.Debug, c.TLS.Cert, c.DSAddr = "flag:1", 32, time.Minute, []string{"p1", "p2", "p3"}, false, "flag.pem", "https://ds.flag"
		}},
		{"an empty variable does not override the file", source{yaml: file, env: map[string]string{"OPEN3DS_LISTEN": ""}}, func(c *testConfig) {
			c.Listen, c.Workers, c.Timeout, c.Peers, c.Debug, c.TLS.Cert = "file:1", 8, time.Minute, []string{"f1", "f2"}, true, "file.pem"
		}},
		{"a bare bool flag means true", source{args: []string{"-debug"}}, func(c *testConfig) { c.Debug = true }},
		{"a comma-separated list in YAML is split like the environment's", source{yaml: "peers: a, b"}, func(c *testConfig) {
			c.Peers = []string{"a", "b"}
		}},
		{"a key with no value in YAML keeps the default", source{yaml: "listen:\ntls:\n"}, func(*testConfig) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := defaults()
			if err := load(t, &got, tt.src); err != nil {
				t.Fatal(err)
			}
			want := defaults()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestConfigFlagNamesTheFileAndWinsOverTheVariable(t *testing.T) {
	dir := t.TempDir()
	fromEnv := writeFile(t, dir, "env.yaml", "listen: from-env-file\n")
	fromFlag := writeFile(t, dir, "flag.yaml", "listen: from-flag-file\n")
	cfg := defaults()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	env := map[string]string{config.ConfigEnv: fromEnv}
	if err := config.Load(&cfg, fs, []string{"-config", fromFlag}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "from-flag-file" {
		t.Errorf("Listen = %q, want the value from the file named by -config", cfg.Listen)
	}
}

func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	pwFile := writeFile(t, dir, "pw", "s3cret-from-file\n")
	writeFile(t, dir, "tls.key", "-----BEGIN KEY-----\r\n")
	empty := writeFile(t, dir, "empty", "\n")

	t.Run("a _FILE variable reads the secret and drops the trailing newline", func(t *testing.T) {
		cfg := defaults()
		if err := load(t, &cfg, source{env: map[string]string{"OPEN3DS_PASSWORD_FILE": pwFile}}); err != nil {
			t.Fatal(err)
		}
		if got := cfg.Password.Reveal(); got != "s3cret-from-file" {
			t.Errorf("Password = %q, want s3cret-from-file", got)
		}
	})
	t.Run("a _file key in YAML is read relative to the YAML file", func(t *testing.T) {
		cfg := defaults()
		path := writeFile(t, dir, "c.yaml", "tls:\n  key_file: tls.key\n")
		env := map[string]string{config.ConfigEnv: path}
		if err := config.Load(&cfg, nil, nil, func(k string) string { return env[k] }); err != nil {
			t.Fatal(err)
		}
		if got := cfg.TLS.Key.Reveal(); got != "-----BEGIN KEY-----" {
			t.Errorf("TLS.Key = %q", got)
		}
	})
	t.Run("a _FILE variable overrides the secret from the YAML", func(t *testing.T) {
		cfg := defaults()
		if err := load(t, &cfg, source{yaml: "password: from-yaml\n", env: map[string]string{"OPEN3DS_PASSWORD_FILE": pwFile}}); err != nil {
			t.Fatal(err)
		}
		if got := cfg.Password.Reveal(); got != "s3cret-from-file" {
			t.Errorf("Password = %q, want the file's", got)
		}
	})

	problems := []struct {
		name    string
		src     source
		problem string
	}{
		{"a secret given directly and as a file is refused", source{env: map[string]string{
			"OPEN3DS_PASSWORD": "x", "OPEN3DS_PASSWORD_FILE": pwFile}}, "OPEN3DS_PASSWORD_FILE: set OPEN3DS_PASSWORD or OPEN3DS_PASSWORD_FILE, not both"},
		{"a key and its _file in YAML are refused", source{yaml: "password_file: " + pwFile + "\npassword: x\n"}, "password: give password or password_file, not both"},
		{"a missing secret file is a problem", source{env: map[string]string{"OPEN3DS_TLS_KEY_FILE": filepath.Join(dir, "nope")}}, "OPEN3DS_TLS_KEY_FILE: open"},
		{"an empty secret file is a problem", source{env: map[string]string{"OPEN3DS_TLS_KEY_FILE": empty}}, "OPEN3DS_TLS_KEY_FILE: " + empty + " is empty"},
		{"a _file key exists only for secrets", source{yaml: "listen_file: /x\n"}, "listen_file: unknown key"},
	}
	for _, tt := range problems {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaults()
			err := load(t, &cfg, tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.problem) {
				t.Fatalf("err = %v, want a problem containing %q", err, tt.problem)
			}
		})
	}
}

func TestUnknownYAMLKeysAreNamedWithTheirLine(t *testing.T) {
	cfg := defaults()
	err := load(t, &cfg, source{yaml: "listen: x\nlisten_adr: y\ntls:\n  crt: z\n"})
	var ps config.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err = %v, want Problems", err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, filepath.Base(p.At)+" "+p.Name+" "+p.Msg)
	}
	want := []string{"open3ds.yaml:2 listen_adr unknown key", "open3ds.yaml:4 tls.crt unknown key"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

func TestVariablesListsEveryNameTheEnvironmentCanSet(t *testing.T) {
	cfg := defaults()
	l, err := config.NewLoader(&cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"OPEN3DS_LISTEN", "OPEN3DS_DEBUG", "OPEN3DS_WORKERS", "OPEN3DS_TIMEOUT", "OPEN3DS_PEERS",
		"OPEN3DS_PASSWORD", "OPEN3DS_PASSWORD_FILE", "OPEN3DS_DS_ADDR", "OPEN3DS_TLS_CERT", "OPEN3DS_TLS_KEY",
		"OPEN3DS_TLS_KEY_FILE", "OPEN3DS_CONFIG"}
	got := l.Variables()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Variables() = %q, want %q", got, want)
	}
	// Each listed name does set its field, so the list names nothing the loader would ignore.
	env := map[string]string{}
	dir := t.TempDir()
	for _, name := range got {
		switch {
		case name == "OPEN3DS_CONFIG" || strings.HasSuffix(name, "_FILE"):
		case name == "OPEN3DS_DEBUG":
			env[name] = "true"
		case name == "OPEN3DS_WORKERS":
			env[name] = "9"
		case name == "OPEN3DS_TIMEOUT":
			env[name] = "3s"
		default:
			env[name] = "from-" + name
		}
	}
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	delete(env, "OPEN3DS_TLS_KEY")
	env["OPEN3DS_TLS_KEY_FILE"] = keyFile
	cfg = defaults()
	if err := config.Load(&cfg, nil, nil, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "from-OPEN3DS_LISTEN" || !cfg.Debug || cfg.Workers != 9 || cfg.Timeout != 3*time.Second ||
		cfg.Password != "from-OPEN3DS_PASSWORD" || cfg.DSAddr != "from-OPEN3DS_DS_ADDR" ||
		cfg.TLS.Cert != "from-OPEN3DS_TLS_CERT" || cfg.TLS.Key != "from-file" ||
		!reflect.DeepEqual(cfg.Peers, []string{"from-OPEN3DS_PEERS"}) {
		t.Fatalf("a listed variable did not set its field: %+v", cfg)
	}
}
