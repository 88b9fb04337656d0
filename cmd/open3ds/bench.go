package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/bench"
)

func init() {
	register(command{name: "bench", summary: "load a running network and report throughput, latency, errors and server cost", run: runBench})
}

// benchModes are the scenarios `open3ds bench` runs, in the order help lists them.
var benchModes = []string{"acs-areq", "ds-areq", "e2e", "challenge", "app-challenge"}

// benchFlags are the command line of `open3ds bench`.
type benchFlags struct {
	mode                        string
	concurrency                 int
	rate                        float64
	duration, warmup, timeout   time.Duration
	count                       int64
	json, ceiling               bool
	demo, url, pki, ca, cert    string
	key, apiURL, apiKey, outbox string
	cards, requestorID, tdssURL string
	refNumber                   string
	expect                      string
	pid                         int
	set                         map[string]bool // the flags given
}

const benchUsage = `Usage: open3ds bench <mode> [flags]

Modes:
  acs-areq   AReqs straight to the ACS over mutual TLS, with the DS certificate
  ds-areq    AReqs through the DS, with the 3DS Server certificate
  e2e        frictionless authentications through the merchant API (start + authenticate)
  challenge  whole browser challenges over HTTP: CReq, code from the dev outbox, CRes, RReq
  app-challenge  whole app purchases with the reference 3DS SDK: sdkEncData, the app AReq, the
             signed content, CReq/CRes as JWE with the code from the dev outbox, RReq

Against ` + "`open3ds demo`" + ` no flag is needed: the target comes from ./open3ds-data/demo.json.

Flags:
`

// parseBenchFlags reads the mode (before or after the flags) and the flags. It returns a nil error
// and ok false after -h.
func parseBenchFlags(e env, args []string) (f benchFlags, ok bool, err error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), benchUsage); fs.PrintDefaults() }
	fs.IntVar(&f.concurrency, "c", 0, "closed loop: this many concurrent operations (default 16 unless --rate)")
	fs.Float64Var(&f.rate, "rate", 0, "open loop: start this many operations per second, latency counted from the schedule")
	fs.DurationVar(&f.duration, "duration", 0, "measure for this long (default 10s unless --count)")
	fs.Int64Var(&f.count, "count", 0, "measure this many operations")
	fs.DurationVar(&f.warmup, "warmup", time.Second, "run this long first without counting")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "bound on each HTTP request")
	fs.BoolVar(&f.json, "json", false, "print the report as JSON on standard output")
	fs.BoolVar(&f.ceiling, "ceiling", false, "first run the same load against a bare TLS server that only decodes and echoes (acs-areq, ds-areq)")
	fs.StringVar(&f.demo, "demo", "", "directory of the demo's demo.json (default ./"+benchDemoDefault+" when it has one)")
	fs.StringVar(&f.url, "url", "", "protocol URL: the ACS's AReq URL (acs-areq) or the DS's (ds-areq)")
	fs.StringVar(&f.pki, "pki", "", "PKI directory (open3ds pki init): the CA and the certificates each mode needs")
	fs.StringVar(&f.ca, "ca", "", "scheme CA certificate (PEM)")
	fs.StringVar(&f.cert, "cert", "", "client certificate: the DS's (acs-areq) or the 3DS Server's (ds-areq)")
	fs.StringVar(&f.key, "key", "", "the client certificate's private key")
	fs.StringVar(&f.apiURL, "api-url", "", "the merchant API (e2e, challenge), e.g. https://127.0.0.1:8413")
	fs.StringVar(&f.apiKey, "api-key", "", "the merchant's API key (or OPEN3DS_BENCH_API_KEY)")
	fs.StringVar(&f.outbox, "outbox-url", "", "the ACS's development outbox (challenge), e.g. http://127.0.0.1:8421/outbox")
	fs.StringVar(&f.cards, "cards", "", "card numbers, comma-separated, or @FILE: enrolled frictionless cards, or cards the ACS challenges for challenge")
	fs.StringVar(&f.requestorID, "requestor-id", "", "threeDSRequestorID (ds-areq: one the 3DS Server's certificate is registered for)")
	fs.StringVar(&f.tdssURL, "threeds-server-url", "", "threeDSServerURL the AReqs carry")
	fs.StringVar(&f.refNumber, "ref-number", "", "threeDSServerRefNumber the AReqs carry (ds-areq: the one the DS registered for the 3DS Server's certificate)")
	fs.StringVar(&f.expect, "expect", "Y", "transStatus values that count as success, comma-separated")
	fs.IntVar(&f.pid, "pid", 0, "server process whose CPU time and peak memory to report (default: the demo's)")

	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		f.mode, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, false, nil
		}
		return f, false, exitError{code: 2}
	}
	if f.mode == "" && fs.NArg() > 0 {
		f.mode, args = fs.Arg(0), fs.Args()[1:]
		if err := fs.Parse(args); err != nil {
			return f, false, exitError{code: 2}
		}
	}
	if fs.NArg() > 0 {
		return f, false, usageError("bench: unexpected argument %q", fs.Arg(0))
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	switch {
	case f.mode == "":
		return f, false, usageError("bench: mode: give one of %s", strings.Join(benchModes, ", "))
	case !slices.Contains(benchModes, f.mode):
		return f, false, usageError("bench: mode: unknown mode %q; want one of %s", f.mode, strings.Join(benchModes, ", "))
	case f.ceiling && f.mode != "acs-areq" && f.mode != "ds-areq":
		return f, false, usageError("bench: --ceiling: only acs-areq and ds-areq have a ceiling to compare with")
	case f.timeout <= 0:
		return f, false, usageError("bench: --timeout: must be positive")
	}
	return f, true, nil
}

// options turns the flags into the engine's options, with the defaults the flags promise.
func (f benchFlags) options(e env) (bench.Options, error) {
	o := bench.Options{Concurrency: f.concurrency, Rate: f.rate, Duration: f.duration, Count: f.count, Warmup: f.warmup,
		PID: f.pid, Progress: e.stderr}
	// A zero given on the command line is a mistake, not a request for the default, which the
	// engine cannot tell apart: these are checked here.
	switch {
	case f.set["c"] && f.set["rate"]:
		return o, usageError("bench: -c: give either a concurrency (-c) or an arrival rate (--rate), not both")
	case f.set["c"] && f.concurrency < 1:
		return o, usageError("bench: -c: must be at least 1")
	case f.set["rate"] && !(f.rate > 0):
		return o, usageError("bench: --rate: must be a positive number of operations per second")
	case f.set["duration"] && f.set["count"]:
		return o, usageError("bench: --count: give either a duration (--duration) or a count (--count), not both")
	case f.set["duration"] && f.duration <= 0:
		return o, usageError("bench: --duration: must be positive")
	case f.set["count"] && f.count < 1:
		return o, usageError("bench: --count: must be at least 1")
	}
	if !f.set["c"] && !f.set["rate"] {
		o.Concurrency = 16
	}
	if !f.set["duration"] && !f.set["count"] {
		o.Duration = 10 * time.Second
	}
	if err := o.Check(); err != nil {
		return o, usageError("bench: %v", err)
	}
	return o, nil
}

func runBench(ctx context.Context, e env, args []string) error {
	f, ok, err := parseBenchFlags(e, args)
	if !ok {
		return err
	}
	opts, err := f.options(e)
	if err != nil {
		return err
	}
	t, err := resolveBenchTarget(e, f, opts.Workers())
	if err != nil {
		return err
	}
	defer t.close()
	if opts.PID == 0 {
		opts.PID = t.pid
	}

	var ceiling *bench.Report
	if f.ceiling {
		if ceiling, err = t.runCeiling(ctx, e, opts); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "%s → %s\n", f.mode, t.target)
	report, err := bench.Run(ctx, t.scenario, opts)
	if report == nil {
		return err
	}
	report.Scenario, report.Target = f.mode, t.target
	c := bench.Compare(report, ceiling)
	if f.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	}
	return c.WriteTable(e.stdout)
}
