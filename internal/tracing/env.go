package tracing

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/config"
)

// settings is what the OTEL_* variables ask for. The variables are the ones every OpenTelemetry SDK
// reads, with the meanings the specification gives them, so that an operator sets them once for every
// service in a cluster; they are read here, through the getenv the command was given, rather than by
// the SDK from the process environment, so that one process (the demo, a test) can run several roles
// from one environment, and so that a mistake is a start-up problem instead of a silent default.
type settings struct {
	enabled     bool
	endpoint    string            // the full URL spans are posted to
	headers     map[string]string // sent with every export: credentials, often; never logged
	timeout     time.Duration
	gzip        bool
	tls         *tls.Config // nil: the system roots
	sampler     string
	samplerArg  float64
	serviceName string            // empty: the role's own
	attributes  map[string]string // OTEL_RESOURCE_ATTRIBUTES
}

// tracesPath is where an OTLP/HTTP receiver takes spans below OTEL_EXPORTER_OTLP_ENDPOINT.
const tracesPath = "v1/traces"

// readSettings reads the OTEL_* variables. Tracing is on only when asked for: an endpoint is set, or
// OTEL_TRACES_EXPORTER says otlp (then the specification's default endpoint, localhost:4318, applies).
// OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn it off whatever else is set. Every
// problem found is returned at once, named by its variable.
func readSettings(getenv func(string) string) (settings, config.Problems) {
	var s settings
	var p config.Problems
	bad := func(name, format string, args ...any) {
		p = append(p, config.Problem{Source: config.SourceEnv, Name: name, Msg: fmt.Sprintf(format, args...)})
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("OTEL_SDK_DISABLED"))); v {
	case "", "false":
	case "true":
		return s, nil
	default:
		bad("OTEL_SDK_DISABLED", "must be true or false")
	}
	explicit := false
	switch v := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); v {
	case "":
	case "none":
		return s, p
	case "otlp":
		explicit = true
	default:
		bad("OTEL_TRACES_EXPORTER", "must be otlp or none (open3ds exports traces over OTLP only), not %q", v)
	}
	// The traces variable is the URL itself; the general one is a base below which the traces path goes.
	if v := signal(getenv, "ENDPOINT"); v.value != "" {
		s.endpoint = v.value
		if v.name == "OTEL_EXPORTER_OTLP_ENDPOINT" {
			s.endpoint = strings.TrimRight(v.value, "/") + "/" + tracesPath
		}
		if u, err := url.Parse(s.endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(v.name, "must be an http or https URL")
		}
	} else if explicit {
		s.endpoint = "http://localhost:4318/" + tracesPath
	}
	s.enabled = s.endpoint != ""
	if !s.enabled {
		return s, p
	}
	switch v := signal(getenv, "PROTOCOL"); v.value {
	case "", "http/protobuf":
	case "grpc", "http/json":
		bad(v.name, "%s is not supported: open3ds exports over http/protobuf only; point the variable at an OTLP/HTTP receiver (port 4318) or unset it", v.value)
	default:
		bad(v.name, "must be http/protobuf, not %q", v.value)
	}
	if v := signal(getenv, "HEADERS"); v.value != "" {
		h, err := parsePairs(v.value)
		if err != nil {
			bad(v.name, "%v", err)
		}
		s.headers = h
	}
	s.timeout = 10 * time.Second
	if v := signal(getenv, "TIMEOUT"); v.value != "" {
		ms, err := strconv.Atoi(v.value)
		if err != nil || ms <= 0 {
			bad(v.name, "must be a positive number of milliseconds")
		}
		s.timeout = time.Duration(ms) * time.Millisecond
	}
	switch v := signal(getenv, "COMPRESSION"); v.value {
	case "", "none":
	case "gzip":
		s.gzip = true
	default:
		bad(v.name, "must be gzip or none")
	}
	s.tls = readTLS(getenv, bad)
	readSampler(getenv, &s, bad)
	s.serviceName = strings.TrimSpace(getenv("OTEL_SERVICE_NAME"))
	if v := getenv("OTEL_RESOURCE_ATTRIBUTES"); v != "" {
		a, err := parsePairs(v)
		if err != nil {
			bad("OTEL_RESOURCE_ATTRIBUTES", "%v", err)
		}
		s.attributes = a
	}
	return s, p
}

// variable is a value and the name of the variable it came from, for the problems.
type variable struct{ name, value string }

// signal reads OTEL_EXPORTER_OTLP_TRACES_<key>, or else the general OTEL_EXPORTER_OTLP_<key>: the
// specification lets the signal's own variable win.
func signal(getenv func(string) string, key string) variable {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_" + key, "OTEL_EXPORTER_OTLP_" + key} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return variable{name, v}
		}
	}
	return variable{}
}

// parsePairs reads the specification's list form, "key1=value1,key2=value2", values percent-encoded.
// The error never repeats a value: header values are often credentials.
func parsePairs(s string) (map[string]string, error) {
	out := map[string]string{}
	for i, item := range strings.Split(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("item %d is not key=value", i+1)
		}
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("the value of %s is not percent-encoded correctly", k)
		}
		out[k] = val
	}
	return out, nil
}

// readTLS builds the exporter's TLS from the certificate variables: a CA file to trust instead of the
// system roots, and a client certificate and key for a receiver that asks for one.
func readTLS(getenv func(string) string, bad func(string, string, ...any)) *tls.Config {
	ca, cert, key := signal(getenv, "CERTIFICATE"), signal(getenv, "CLIENT_CERTIFICATE"), signal(getenv, "CLIENT_KEY")
	if ca.value == "" && cert.value == "" && key.value == "" {
		return nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca.value != "" {
		pem, err := os.ReadFile(ca.value)
		pool := x509.NewCertPool()
		if err != nil || !pool.AppendCertsFromPEM(pem) {
			bad(ca.name, "cannot read a PEM certificate from %s", ca.value)
		}
		cfg.RootCAs = pool
	}
	switch {
	case cert.value != "" && key.value != "":
		pair, err := tls.LoadX509KeyPair(cert.value, key.value)
		if err != nil {
			bad(cert.name, "cannot load the client certificate and key: %v", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case cert.value != "":
		bad("OTEL_EXPORTER_OTLP_CLIENT_KEY", "is required with %s", cert.name)
	case key.value != "":
		bad("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "is required with %s", key.name)
	}
	return cfg
}

// readSampler reads OTEL_TRACES_SAMPLER and its argument. The default is the specification's,
// parentbased_always_on: a trace a caller sampled is kept whole, and every new one is sampled.
func readSampler(getenv func(string) string, s *settings, bad func(string, string, ...any)) {
	s.sampler = strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER"))
	if s.sampler == "" {
		s.sampler = "parentbased_always_on"
	}
	switch s.sampler {
	case "always_on", "always_off", "parentbased_always_on", "parentbased_always_off":
		return
	case "traceidratio", "parentbased_traceidratio":
	default:
		bad("OTEL_TRACES_SAMPLER", "must be always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio, not %q", s.sampler)
		return
	}
	s.samplerArg = 1
	if v := strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER_ARG")); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			bad("OTEL_TRACES_SAMPLER_ARG", "must be a ratio from 0 to 1")
		}
		s.samplerArg = r
	}
}
