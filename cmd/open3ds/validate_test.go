package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// emvTestdata is internal/emv's fixture directory: validate is checked against the same golden and
// invalid messages as the parser itself.
var emvTestdata = filepath.Join("..", "..", "internal", "emv", "testdata")

// runValidateCmd runs `open3ds validate args…` in-process with stdin as standard input.
func runValidateCmd(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"validate"}, args...), func(string) string { return "" },
		stdin, &out, &errOut)
	return out.String(), errOut.String(), err
}

// printedErro decodes the Erro validate printed, failing the test if there is none.
func printedErro(t *testing.T, stdout string) map[string]string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatalf("stdout is not an Erro: %v\n%s", err, stdout)
	}
	out := map[string]string{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	if out["messageType"] != "Erro" {
		t.Fatalf("printed a %q, want an Erro:\n%s", out["messageType"], stdout)
	}
	return out
}

// wantExit checks that err ends the process with code.
func wantExit(t *testing.T, err error, code int) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want exit %d", code)
	}
	if got := exitCode(err); got != code {
		t.Fatalf("exit %d (%v), want %d", got, err, code)
	}
}

func TestValidateIsRegistered(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, func(string) string { return "" }, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "  validate ") {
		t.Fatalf("help does not list validate:\n%s", out.String())
	}
}

func TestValidateSaysValidWithTypeAndVersion(t *testing.T) {
	tests := []struct {
		name, file, areq, want string
	}{
		{"a browser AReq is valid on its own", "valid/2.2.0/areq-browser-pa.json", "", "valid AReq 2.2.0\n"},
		{"a 2.3.1 app ARes is valid with its AReq", "valid/2.3.1/ares-challenge-app.json", "valid/2.3.1/areq-app-pa.json", "valid ARes 2.3.1\n"},
		{"a 2.1.0 PRes is valid", "valid/2.1.0/pres.json", "", "valid PRes 2.1.0\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{filepath.Join(emvTestdata, tc.file)}
			if tc.areq != "" {
				args = append([]string{"--areq", filepath.Join(emvTestdata, tc.areq)}, args...)
			}
			out, _, err := runValidateCmd(t, strings.NewReader(""), args...)
			if err != nil || out != tc.want {
				t.Fatalf("stdout %q, err %v; want %q", out, err, tc.want)
			}
		})
	}
}

func TestValidatePrintsTheErroOfEveryInvalidFixture(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(emvTestdata, "invalid", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name, File, Context, ParseAs, Component, Code, Detail string
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("the manifest lists no case")
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			args := []string{"--component", c.Component}
			if c.Context != "" {
				args = append(args, "--areq", filepath.Join(emvTestdata, filepath.FromSlash(c.Context)))
			}
			if c.ParseAs != "" {
				args = append(args, "--type", c.ParseAs)
			}
			args = append(args, filepath.Join(emvTestdata, "invalid", c.File))
			out, _, err := runValidateCmd(t, strings.NewReader(""), args...)
			wantExit(t, err, 1)
			var ex exitError
			if !errors.As(err, &ex) || ex.msg != "" {
				t.Errorf("error %v should be a silent exit: the Erro says it all", err)
			}
			e := printedErro(t, out)
			if e["errorCode"] != c.Code || e["errorComponent"] != c.Component {
				t.Errorf("errorCode %s, errorComponent %s; want %s %s", e["errorCode"], e["errorComponent"], c.Code, c.Component)
			}
		})
	}
}

func TestValidateReadsStandardInputForDash(t *testing.T) {
	msg, err := os.ReadFile(filepath.Join(emvTestdata, "valid", "2.2.0", "rres.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := runValidateCmd(t, bytes.NewReader(msg), "-")
	if err != nil || out != "valid RRes 2.2.0\n" {
		t.Fatalf("stdout %q, err %v", out, err)
	}

	out, _, err = runValidateCmd(t, strings.NewReader(`{"messageType":"RRes"}`), "--component", "A", "-")
	wantExit(t, err, 1)
	if e := printedErro(t, out); e["errorCode"] != "102" || e["errorComponent"] != "A" {
		t.Fatalf("an RRes without a version from stdin gave %v, want 102 from A", e)
	}
}

// An ARes D is valid on its own, because only its AReq can say whether decoupled authentication was
// asked for; with an AReq that did not ask, it is 203.
func TestValidateAppliesTheAReqGivenWithAreq(t *testing.T) {
	ares := filepath.Join(emvTestdata, "invalid", "rule-decoupled-not-requested.json")
	out, _, err := runValidateCmd(t, strings.NewReader(""), ares)
	if err != nil || out != "valid ARes 2.2.0\n" {
		t.Fatalf("without --areq: stdout %q, err %v", out, err)
	}
	out, _, err = runValidateCmd(t, strings.NewReader(""),
		"--areq", filepath.Join(emvTestdata, "valid", "2.2.0", "areq-browser-pa.json"), ares)
	wantExit(t, err, 1)
	if e := printedErro(t, out); e["errorCode"] != "203" || e["errorDetail"] != "transStatus" || e["errorComponent"] != "D" {
		t.Fatalf("with --areq: %v, want 203 transStatus from the default component D", e)
	}
}

func TestValidateFailsPlainly(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-message.json")
	valid := filepath.Join(emvTestdata, "valid", "2.2.0", "ares-frictionless-y.json")
	tests := []struct {
		name string
		args []string
		code int
		say  string // what the error must mention
	}{
		{"a missing file is exit 2, not the 1 of an invalid message", []string{missing}, 2, "no-such-message.json"},
		{"a missing --areq file is exit 2", []string{"--areq", missing, valid}, 2, "no-such-message.json"},
		{"a directory is exit 2", []string{t.TempDir()}, 2, "validate:"},
		{"an --areq that is not an AReq is exit 1", []string{"--areq", valid, valid}, 1, "not a valid AReq"},
		{"no file is a usage error", nil, 2, "want one FILE"},
		{"two files are a usage error", []string{valid, valid}, 2, "want one FILE"},
		{"an unknown component is a usage error", []string{"--component", "X", valid}, 2, "--component"},
		{"an unknown type is a usage error", []string{"--type", "OReq", valid}, 2, "--type"},
		{"an unknown flag is a usage error", []string{"--strict", valid}, 2, "strict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runValidateCmd(t, strings.NewReader(""), tc.args...)
			wantExit(t, err, tc.code)
			if !strings.Contains(err.Error(), tc.say) {
				t.Errorf("error %q does not mention %q", err, tc.say)
			}
			if out != "" {
				t.Errorf("printed %q on stdout, want nothing", out)
			}
		})
	}
}
