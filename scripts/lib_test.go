// Package scripts_test checks the shell helpers of scripts/test.sh with stand-ins for the commands
// they call, so that nothing is installed.
package scripts_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// stub writes an executable script named name into dir.
func stub(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestAptInstallWaitsForTheLockAndSaysWhatAndWhy runs apt_install twice with an apt-get that only
// records its arguments, one call a line, and says on stderr that it ran.
func TestAptInstallWaitsForTheLockAndSaysWhatAndWhy(t *testing.T) {
	bin := t.TempDir()
	calls := filepath.Join(t.TempDir(), "apt-get.calls")
	stub(t, bin, "apt-get", `echo "$*" >>"$CALLS"; echo "apt-get $* ran" >&2`+"\n")
	stub(t, bin, "sudo", `exec "$@"`+"\n") // as_root's way when the tests do not run as root

	cmd := exec.Command("bash", "-c", `set -euo pipefail; . ./lib.sh
apt_install "the race detector needs cgo" gcc libc6-dev
apt_install "a real browser" chromium`)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "CALLS="+calls)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("apt_install: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(string(raw)), "\n")
	lock := `^-o DPkg::Lock::Timeout=[1-9][0-9]* `
	want := []string{lock + `update\b`, lock + `install -y -qq gcc libc6-dev$`, lock + `install -y -qq chromium$`}
	if len(got) != len(want) {
		t.Fatalf("apt-get ran %d times, want %d (one update, then each install):\n%s", len(got), len(want), raw)
	}
	for i, w := range want {
		if !regexp.MustCompile(w).MatchString(got[i]) {
			t.Errorf("apt-get call %d: %q, want it to match %q", i+1, got[i], w)
		}
	}

	// Each announcement comes before apt-get runs for it; the first one before the update too.
	said := string(out)
	for _, c := range []struct{ say, before string }{
		{"installing gcc libc6-dev: the race detector needs cgo", " update"},
		{"installing chromium: a real browser", "install -y -qq chromium ran"},
	} {
		i, j := strings.Index(said, c.say), strings.Index(said, c.before)
		if i < 0 || j < 0 || i > j {
			t.Errorf("apt_install did not say %q before apt-get ran%q:\n%s", c.say, c.before, said)
		}
	}
}

// TestTestScriptInstallsOnlyThroughTheHelpers keeps the lock timeout from being bypassed: test.sh
// sources lib.sh and calls apt-get nowhere itself.
func TestTestScriptInstallsOnlyThroughTheHelpers(t *testing.T) {
	raw, err := os.ReadFile("test.sh")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	if !regexp.MustCompile(`(?m)^\. scripts/lib\.sh$`).MatchString(s) {
		t.Error("test.sh does not source scripts/lib.sh")
	}
	if strings.Contains(s, "apt-get") {
		t.Error("test.sh calls apt-get itself, without apt_install's lock timeout")
	}
	for _, line := range strings.Split(s, "\n") {
		if code := strings.TrimSpace(line); !strings.HasPrefix(code, "#") && strings.Contains(code, "apt_install ") && !strings.Contains(code, `apt_install "`) {
			t.Errorf("an apt_install without its reason: %s", line)
		}
	}
}
