package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/pki"
)

func init() {
	register(command{
		name:    "pki",
		summary: "scheme CA and component certificates: pki init | pki issue",
		run:     runPKI,
	})
}

const pkiUsage = `Usage:
  open3ds pki init --dir DIR [--scheme-name NAME] [--ds-id RID] [--hosts h1,h2] [--force]
  open3ds pki issue --dir DIR --role acs|3dss|ds --name NAME [--dns a,b] [--ip x,y]
                    [--operator-id ID] [--out PREFIX] [--force]

init creates a scheme root CA and the certificates of a demo network in DIR; issue signs one more
component certificate with the CA in DIR. Run either with -h for its flags.
`

// runPKI dispatches to the pki sub-commands.
func runPKI(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		io.WriteString(e.stderr, pkiUsage)
		return usageError("pki needs a sub-command: init or issue")
	}
	switch args[0] {
	case "init":
		return runPKIInit(e, args[1:])
	case "issue":
		return runPKIIssue(e, args[1:])
	case "help", "-h", "-help", "--help":
		io.WriteString(e.stdout, pkiUsage)
		return nil
	}
	io.WriteString(e.stderr, pkiUsage)
	return usageError("unknown pki sub-command %q: want init or issue", args[0])
}

func runPKIInit(e env, args []string) error {
	flags := flag.NewFlagSet("pki init", flag.ContinueOnError)
	flags.SetOutput(e.stderr)
	dir := flags.String("dir", "", "the directory to create the PKI in (required; created with mode 0700)")
	scheme := flags.String("scheme-name", pki.DefaultSchemeName, "the scheme's name, which names the root CA")
	dsID := flags.String("ds-id", pki.DefaultDSID, "the DS's RID, ten upper-case hex digits")
	hosts := flags.String("hosts", strings.Join(pki.DefaultHosts, ","), "comma-separated DNS names and IP addresses of the three TLS certificates")
	force := flags.Bool("force", false, "replace an existing PKI in DIR")
	if ok, err := pkiParseFlags(flags, args, "Creates the scheme root CA, TLS certificates for the DS, an ACS and a 3DS Server, the ACS\n"+
		"content-signing certificate and the DS encryption keys, and prints what it wrote."); !ok {
		return err
	}
	if *dir == "" {
		return usageError("pki init needs --dir")
	}
	res, err := pki.Init(*dir, pki.InitOptions{SchemeName: *scheme, DSID: *dsID, Hosts: pkiSplitList(*hosts), Force: *force})
	if err != nil {
		return pkiError(err)
	}
	fmt.Fprintf(e.stdout, "Created the PKI of %q (DS ID %s) in %s.\n", *scheme, res.DSID, res.Layout.Dir)
	for _, w := range res.Files {
		pkiPrintWritten(e.stdout, w)
	}
	fmt.Fprintf(e.stdout, "\nEvery component and SDK trusts %s. SDKs also bundle the DS encryption certificates.\n"+
		"Each .key file belongs to one component and must never leave it.\n", res.Layout.CA.Cert)
	return nil
}

func runPKIIssue(e env, args []string) error {
	flags := flag.NewFlagSet("pki issue", flag.ContinueOnError)
	flags.SetOutput(e.stderr)
	dir := flags.String("dir", "", "the PKI directory whose CA signs (required)")
	role := flags.String("role", "", "the component's role: acs, 3dss or ds (required)")
	name := flags.String("name", "", "the component's name in the scheme (required; letters, digits, '.', '_', '-')")
	dns := flags.String("dns", "", "comma-separated DNS names the component serves under")
	ips := flags.String("ip", "", "comma-separated IP addresses the component serves under")
	operatorID := flags.String("operator-id", "", "the operator id the scheme assigned (acsOperatorID, threeDSServerOperatorID)")
	out := flags.String("out", "", "write PREFIX.crt and PREFIX.key (default DIR/ROLE-NAME)")
	force := flags.Bool("force", false, "replace existing files")
	if ok, err := pkiParseFlags(flags, args, "Issues one more component TLS certificate, for both server and client use, signed by the CA\n"+
		"in DIR and naming the component's role and name."); !ok {
		return err
	}
	switch {
	case *dir == "":
		return usageError("pki issue needs --dir")
	case *name == "":
		return usageError("pki issue needs --name")
	}
	r, err := pki.ParseRole(*role)
	if err != nil {
		return usageError("%v", err)
	}
	req := pki.IssueRequest{Role: r, Name: *name, OperatorID: *operatorID, DNSNames: pkiSplitList(*dns)}
	for _, s := range pkiSplitList(*ips) {
		ip := net.ParseIP(s)
		if ip == nil {
			return usageError("pki issue --ip: %q is not an IP address", s)
		}
		req.IPAddresses = append(req.IPAddresses, ip)
	}

	ca, err := pki.LoadCA(*dir)
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := ca.Issue(req)
	if err != nil {
		return pkiError(err)
	}
	files := pki.Paths(*dir).Component(r, *name)
	if *out != "" {
		files = pki.PrefixPaths(*out)
	}
	w, err := pki.WriteIssued(files, certPEM, keyPEM, *force)
	if err != nil {
		return pkiError(err)
	}
	w.Purpose = fmt.Sprintf("%s TLS (server and client)", r)
	pkiPrintWritten(e.stdout, w)
	if len(req.DNSNames) == 0 && len(req.IPAddresses) == 0 {
		fmt.Fprintln(e.stderr, "note: without --dns or --ip the certificate can act only as a TLS client")
	}
	return nil
}

// pkiParseFlags parses a pki sub-command's flags and refuses arguments after them; about is the text
// -h shows above the flags. It returns false when the command must stop, with a nil error after -h.
func pkiParseFlags(flags *flag.FlagSet, args []string, about string) (ok bool, err error) {
	flags.Usage = func() {
		fmt.Fprintf(flags.Output(), "Usage of open3ds %s:\n\n%s\n\n", flags.Name(), about)
		flags.PrintDefaults()
	}
	return parseNoArgs(flags, args)
}

// parseNoArgs parses the flags of a command that takes no positional arguments. It returns false
// when the command must stop: with a nil error after -h, else with the usage error (the flag
// package has printed a flag's problem and the usage already).
func parseNoArgs(flags *flag.FlagSet, args []string) (ok bool, err error) {
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, nil
		}
		return false, exitError{code: 2}
	}
	if flags.NArg() > 0 {
		return false, usageError("%s takes no arguments, got %q", flags.Name(), strings.Join(flags.Args(), " "))
	}
	return true, nil
}

// storeDSN is the store a maintenance command works on: --dsn, else $OPEN3DS_DSN, the variable the
// servers read, so that a deployment runs the command with the same environment.
func storeDSN(e env, flagged, command string) (string, error) {
	dsn := flagged
	if dsn == "" {
		dsn = e.getenv(migrateDSNEnv)
	}
	if dsn == "" {
		return "", usageError("%s needs a store: pass --dsn or set %s", command, migrateDSNEnv)
	}
	return dsn, nil
}

// pkiError turns a mistake in what the operator asked for into a usage error and adds the way out
// to a refusal to overwrite.
func pkiError(err error) error {
	switch {
	case errors.Is(err, pki.ErrInvalid):
		return usageError("%v", err)
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%w; pass --force to replace", err)
	}
	return err
}

func pkiPrintWritten(w io.Writer, f pki.Written) {
	fmt.Fprintf(w, "\n%s\n  certificate  %s\n  private key  %s (mode 0600)\n  subject      %s\n", f.Purpose, f.Files.Cert, f.Files.Key, f.Subject)
	if f.Identity.Role != "" {
		fmt.Fprintf(w, "  identity     role %s, name %s", f.Identity.Role, f.Identity.Name)
		if f.Identity.OperatorID != "" {
			fmt.Fprintf(w, ", operator %s", f.Identity.OperatorID)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  expires      %s\n", f.NotAfter.UTC().Format(time.RFC3339))
}

// pkiSplitList splits a comma-separated flag value, dropping spaces and empty items.
func pkiSplitList(s string) []string {
	var items []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}
