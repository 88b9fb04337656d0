package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/ids"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/shopapp"
	"github.com/open3ds/open3ds/internal/threedsserver"
	"github.com/open3ds/open3ds/pkg/sdk"
)

func init() {
	register(command{name: "sdk", summary: "act as a merchant app with the reference 3DS SDK: `open3ds sdk buy --card PAN`", run: runSDK})
}

const sdkUsage = `Usage: open3ds sdk buy --card PAN [flags]

Buys as a merchant's app does: the reference 3DS SDK (pkg/sdk) encrypts the device data to the DS,
the app's back end asks the 3DS Server's merchant API for an app authentication, and when the ACS
challenges, the SDK runs the challenge with it: on this terminal, or through --otp-cmd. It prints the
outcome and exits 0 for Y or A with an authentication value, 1 otherwise.

Against ` + "`open3ds demo`" + ` only --card is needed: the rest comes from ./open3ds-data/demo.json.

--otp-cmd runs a shell command for each screen and takes what it prints as the answer (the code, the
chosen keys, or the HTML form's data; "cancel" or "resend"). It sees the screen in OPEN3DS_UI_TYPE,
OPEN3DS_INTERACTION, OPEN3DS_OPTIONS and OPEN3DS_CHALLENGE_TEXT.

--decoupled allows approval in the bank's app. With --message-version 2.3.1 and "only" or "also", a
challenge may offer "Approve in my bank's app instead" (option bankapp); taking it, the app says
"Approve this payment in your bank's app" and waits for the result the bank sends to the back end.

Flags:
`

// sdkFlags are the command line of `open3ds sdk buy`.
type sdkFlags struct {
	card, amount, currency, otpCmd       string
	demo, apiURL, apiKey, pkiDir, caFile string
	dsCert, dsID, dsKey, version         string
	timeout                              time.Duration
	nonPayment                           bool
	decoupled                            string // "", "yes", "only" or "also"
	decoupledMinutes                     int
}

func runSDK(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, sdkUsage)
		sdkFlagSet(e, &sdkFlags{}).PrintDefaults()
		if len(args) == 0 {
			return usageError("sdk needs a sub-command: buy")
		}
		return nil
	}
	if args[0] != "buy" {
		return usageError("sdk: unknown sub-command %q; there is buy", args[0])
	}
	var f sdkFlags
	fs := sdkFlagSet(e, &f)
	if err := fs.Parse(args[1:]); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return usageError("%v", err)
	}
	if f.card == "" {
		return usageError("sdk buy: --card is required")
	}
	app, err := sdkApp(e, f)
	if err != nil {
		return err
	}
	p := shopapp.Purchase{Card: strings.ReplaceAll(f.card, " ", ""), Amount: f.amount, Currency: f.currency,
		NonPayment: f.nonPayment}
	switch f.decoupled {
	case "":
	case "yes", threedsserver.DecoupledFallbackOnly, threedsserver.DecoupledFallbackAlso:
		p.Decoupled = &threedsserver.DecoupledRequest{Allowed: true, MaxMinutes: f.decoupledMinutes}
		if f.decoupled != "yes" {
			p.Decoupled.Fallback = f.decoupled
		}
	default:
		return usageError("sdk buy: --decoupled must be yes, only or also")
	}
	out, err := shopapp.Buy(ctx, app, p)
	printSDKOutcome(e, out)
	if err != nil {
		return exitError{code: 1, msg: err.Error()}
	}
	if !out.Authenticated() {
		return exitError{code: 1}
	}
	return nil
}

func sdkFlagSet(e env, f *sdkFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("sdk buy", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), sdkUsage); fs.PrintDefaults() }
	fs.StringVar(&f.card, "card", "", "the card number")
	fs.StringVar(&f.amount, "amount", "8900", "the amount in minor units")
	fs.StringVar(&f.currency, "currency", "978", "the currency, ISO 4217 numeric")
	fs.BoolVar(&f.nonPayment, "non-payment", false, "authenticate the card without a payment (messageCategory 02, e.g. adding it to a wallet); --amount is ignored")
	fs.StringVar(&f.decoupled, "decoupled", "", "allow decoupled authentication in the bank's app: yes (up front), "+
		"only (2.3.1: only as a challenge's fallback) or also (2.3.1: up front or as a fallback)")
	fs.IntVar(&f.decoupledMinutes, "decoupled-minutes", 0, "with --decoupled, the most minutes the bank may take (default: the ACS's own limit)")
	fs.StringVar(&f.otpCmd, "otp-cmd", "", "answer each challenge screen with this shell command's output instead of the terminal")
	fs.StringVar(&f.demo, "demo", "", "directory of the demo's demo.json (default ./"+benchDemoDefault+" when it has one)")
	fs.StringVar(&f.apiURL, "api-url", "", "the 3DS Server's merchant API")
	fs.StringVar(&f.apiKey, "api-key", "", "the merchant's API key (or OPEN3DS_SDK_API_KEY)")
	fs.StringVar(&f.pkiDir, "pki", "", "the scheme's PKI directory (open3ds pki init): its CA and DS encryption certificates")
	fs.StringVar(&f.caFile, "ca", "", "the scheme CA certificate (default from --pki)")
	fs.StringVar(&f.dsCert, "ds-cert", "", "the DS encryption certificate the SDK bundles (default from --pki, see --ds-key)")
	fs.StringVar(&f.dsKey, "ds-key", "rsa", "which of the PKI's DS encryption keys: rsa or ec")
	fs.StringVar(&f.dsID, "ds-id", pki.DefaultDSID, "the DS id (RID), used to encrypt to an EC DS key")
	fs.StringVar(&f.version, "message-version", "2.2.0", "the protocol version the SDK speaks")
	fs.DurationVar(&f.timeout, "max-timeout", 5*time.Minute, "the SDK's maximum challenge time, 5m to 99m")
	return fs
}

// sdkApp builds the app and its back end from the flags and, for what they leave out, demo.json.
func sdkApp(e env, f sdkFlags) (shopapp.Config, error) {
	d, err := loadBenchDemo(f.demo)
	if err != nil {
		return shopapp.Config{}, err
	}
	pkiDir := f.pkiDir
	if pkiDir == "" && d != nil && d.PKI != "" {
		pkiDir = d.path(d.PKI)
	}
	l := pki.Paths(pkiDir)
	fromPKI := func(flagValue, inPKI string) string {
		if flagValue == "" && pkiDir != "" {
			return inPKI
		}
		return flagValue
	}
	dsFiles := l.DSEncryptionRSA
	if f.dsKey == "ec" {
		dsFiles = l.DSEncryptionEC
	}
	caFile, dsCertFile := fromPKI(f.caFile, l.CA.Cert), fromPKI(f.dsCert, dsFiles.Cert)
	apiURL, key := f.apiURL, firstOf(f.apiKey, e.getenv("OPEN3DS_SDK_API_KEY"))
	if d != nil {
		apiURL = firstOf(apiURL, d.ThreeDSS.API)
		if key == "" {
			if key, err = d.merchantKey(); err != nil {
				return shopapp.Config{}, err
			}
		}
	}
	if apiURL == "" || key == "" || caFile == "" || dsCertFile == "" {
		return shopapp.Config{}, usageError("sdk buy: give --api-url, --api-key, --ca and --ds-cert (or --pki), or run where `open3ds demo` keeps demo.json (--demo)")
	}
	roots, err := pki.LoadPool(caFile)
	if err != nil {
		return shopapp.Config{}, err
	}
	dsCert, err := loadCertificate(dsCertFile)
	if err != nil {
		return shopapp.Config{}, err
	}
	// The merchant API and the ACS's challenge endpoint are HTTPS under the scheme's CA (or plain
	// HTTP on loopback in the demo); the app presents no certificate.
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(nil, roots, "")}}
	// An app makes its sdkAppID once per installation; each run of this command is a new one.
	appID := ids.New()
	s, err := sdk.New(sdk.Config{DSCertificate: dsCert, DSID: f.dsID, Roots: roots, ReferenceNumber: sdkReferenceNumber,
		AppID: appID, MessageVersion: f.version, MaxTimeout: f.timeout, Client: client,
		Device: sdk.DeviceInfo{AppPackage: "org.open3ds.sdk.cli"},
		// The demo serves its ACS pages over plain HTTP on loopback; against a demo.json, and only
		// then, the SDK may talk to such an acsURL.
		LoopbackHTTP: d != nil})
	if err != nil {
		return shopapp.Config{}, usageError("%v", err)
	}
	var ui sdk.UI = shopapp.TerminalUI{In: bufio.NewReader(e.stdin), Out: e.stderr}
	if f.otpCmd != "" {
		ui = answerCommand(f.otpCmd, e.stderr)
	}
	return shopapp.Config{SDK: s, UI: ui, APIURL: apiURL, APIKey: key, Client: client,
		Say: func(msg string) { fmt.Fprintf(e.stderr, "\n%s\n", msg) }}, nil
}

// answerCommand is the --otp-cmd cardholder. The command gets this process's environment without
// OPEN3DS_SDK_API_KEY: it answers screens, and the merchant's API key is the back end's alone.
func answerCommand(command string, stderr io.Writer) shopapp.CommandUI {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPEN3DS_SDK_API_KEY=") {
			env = append(env, kv)
		}
	}
	return shopapp.CommandUI{Command: command, Stderr: stderr, Env: env}
}

// sdkReferenceNumber is the reference SDK's sdkReferenceNumber. EMVCo gives certified SDKs theirs;
// this one names itself so that an ACS's logs tell it apart.
const sdkReferenceNumber = "OPEN3DS-REFERENCE-SDK-1"

// loadCertificate reads the first certificate of a PEM file.
func loadCertificate(file string) (*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("sdk buy: %w", err)
	}
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return nil, fmt.Errorf("sdk buy: %s holds no certificate", file)
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

// printSDKOutcome prints what the merchant learns: never the authentication value itself.
func printSDKOutcome(e env, o shopapp.Outcome) {
	if o.ID == "" {
		return
	}
	fmt.Fprintf(e.stdout, "authentication  %s\ntransStatus     %s\n", o.ID, firstOf(o.TransStatus, "-"))
	if o.TransStatusReason != "" {
		fmt.Fprintf(e.stdout, "reason          %s\n", o.TransStatusReason)
	}
	if o.Challenge != nil {
		fmt.Fprintf(e.stdout, "challenge       %s after %d CReq(s)%s\n", o.Challenge.TransStatus, o.Challenge.Interactions,
			map[bool]string{true: ", cancelled", false: ""}[o.Challenge.Cancelled])
	}
	fmt.Fprintf(e.stdout, "ECI             %s\nauthentication value %s\n", firstOf(o.ECI, "-"),
		map[bool]string{true: "present", false: "absent"}[o.AuthenticationValue])
	if o.ErrorCode != "" {
		fmt.Fprintf(e.stdout, "error           %s %s\n", o.ErrorCode, o.ErrorDetail)
	}
}
