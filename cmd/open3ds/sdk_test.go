package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestSDKBuyPaysAsAnAppThroughTheDemoNetwork runs `open3ds sdk buy` against a running demo, with
// nothing but the card: the SDK's device data goes encrypted to the demo DS's key, the AReq goes
// through the demo's 3DS Server, DS and ACS, and a frictionless card ends in Y with its value.
func TestSDKBuyPaysAsAnAppThroughTheDemoNetwork(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open3ds-data")
	d := startTestDemo(t, dir, 0)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"sdk", "buy", "--demo", dir, "--card", "4000 0000 0000 1000"},
		func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	if err != nil {
		t.Fatalf("sdk buy: %v\n%s\n%s\n%s", err, stdout.String(), stderr.String(), d.logs)
	}
	out := stdout.String()
	for _, want := range []string{"transStatus     Y", "ECI             05", "authentication value present"} {
		if !strings.Contains(out, want) {
			t.Errorf("sdk buy printed\n%s\nwithout %q", out, want)
		}
	}
	// The demo's cards end as the README says; one that is refused exits 1.
	stdout.Reset()
	err = run(context.Background(), []string{"sdk", "buy", "--demo", dir, "--card", "4000000000002008"},
		func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	if exitCode(err) != 1 || strings.Contains(stdout.String(), "transStatus     Y") {
		t.Fatalf("sdk buy of a refused card: %v\n%s", err, stdout.String())
	}
}

func TestSDKHelpListsItsFlags(t *testing.T) {
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"sdk", "-h"}, func(string) string { return "" }, strings.NewReader(""), &stdout, &stdout); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"open3ds sdk buy --card PAN", "-otp-cmd", "-amount", "-demo", "-ds-key"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("sdk -h lacks %q:\n%s", want, stdout.String())
		}
	}
}
