package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// TestSDKBuyIsChallengedInTheAppThroughTheDemoNetwork buys with the demo's challenge cards as an app:
// the ACS answers C with its signed content, the SDK runs the native screens (a choice of channel,
// then the code) against the demo ACS, and the purchase ends Y with its value, with the SDK's device
// data encrypted to the DS's RSA key and to its EC key. The answers come from a scripted cardholder
// (--otp-cmd) who reads each code from the development outbox; the locked card ends N with 19.
func TestSDKBuyIsChallengedInTheAppThroughTheDemoNetwork(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open3ds-data")
	d := startTestDemo(t, dir, 0)
	codeFile := filepath.Join(t.TempDir(), "code")
	// The cardholder's phone: each new code that reaches the outbox is put where the script reads it.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		seen := map[string]bool{}
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, "GET", d.net.urls.ACSAdmin+"/outbox/outbox.json", nil)
			req.Header.Set("Authorization", "Bearer "+d.net.secrets.ACSAdmin)
			if res, err := http.DefaultClient.Do(req); err == nil {
				var box struct{ Messages []outboxMessage }
				json.NewDecoder(res.Body).Decode(&box)
				res.Body.Close()
				if len(box.Messages) > 0 && !seen[box.Messages[0].Code] {
					seen[box.Messages[0].Code] = true
					os.WriteFile(codeFile+".new", []byte(box.Messages[0].Code), 0o600)
					os.Rename(codeFile+".new", codeFile)
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	script := `case "$OPEN3DS_UI_TYPE" in
02|03) echo "${OPEN3DS_OPTIONS%%,*}" ;;
01) i=0; while [ ! -s ` + codeFile + ` ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; cat ` + codeFile + `; rm -f ` + codeFile + ` ;;
esac`
	for _, tc := range []struct{ card, dsKey, want, challenge string }{
		{"4000010000001009", "rsa", "transStatus     Y", "challenge       Y after 2 CReq(s)"},
		{"4000010000003005", "ec", "transStatus     Y", "challenge       Y after 3 CReq(s)"},
		{"4000010000004003", "rsa", "reason          19", "challenge       N"},
	} {
		t.Run(tc.card+" "+tc.dsKey, func(t *testing.T) {
			os.Remove(codeFile)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"sdk", "buy", "--demo", dir, "--card", tc.card, "--ds-key", tc.dsKey, "--otp-cmd", script},
				func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
			out := stdout.String()
			if !strings.Contains(out, tc.want) || !strings.Contains(out, tc.challenge) {
				t.Fatalf("sdk buy (%v) printed\n%s\nwithout %q and %q\n%s", err, out, tc.want, tc.challenge, stderr.String())
			}
			if strings.HasSuffix(tc.want, "Y") != (err == nil) {
				t.Errorf("sdk buy exited with %v for\n%s", err, out)
			}
		})
	}
}
