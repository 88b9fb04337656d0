package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchRunsEveryModeAgainstTheDemoWithNoFlagButItsDirectory drives `open3ds demo` as a person
// would after starting it: only --demo, which tells the bench everything else.
func TestBenchRunsEveryModeAgainstTheDemoWithNoFlagButItsDirectory(t *testing.T) {
	d := startTestDemo(t, t.TempDir(), 0)
	for _, c := range []struct {
		mode  string
		count string
	}{{"acs-areq", "100"}, {"ds-areq", "100"}, {"e2e", "60"}, {"challenge", "12"}, {"app-challenge", "12"}} {
		t.Run(c.mode, func(t *testing.T) {
			r := benchJSON(t, c.mode, "--demo", d.net.paths.dir, "--count", c.count, "-c", "3", "--warmup", "0").Target
			if r.OK != r.Requests || r.Requests == 0 || len(r.Errors) != 0 {
				t.Fatalf("%d operations, %d ok, errors %v %v\ndemo log:\n%s", r.Requests, r.OK, r.Errors, r.Examples, d.logs)
			}
			if s := r.Server; s == nil || s.CPUSeconds <= 0 || s.Problem != "" {
				t.Errorf("the demo's process was not measured: %+v", s)
			}
		})
	}
}

// TestBenchOutsideTheDemoFolderSaysWhereItLookedAndWhatToGive runs bench with no flag in a directory
// without open3ds-data, the first mistake of someone who started the demo in another terminal.
func TestBenchOutsideTheDemoFolderSaysWhereItLookedAndWhatToGive(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	looked := filepath.Join(dir, "open3ds-data", "demo.json")
	for mode, flags := range map[string][]string{
		"acs-areq":      {"--url", "--pki", "--cards"},
		"ds-areq":       {"--url", "--pki", "--requestor-id", "--ref-number"},
		"e2e":           {"--api-url", "--api-key", "--cards"},
		"challenge":     {"--api-url", "--outbox-url", "--cards"},
		"app-challenge": {"--api-url", "--pki", "--outbox-url", "--cards"},
	} {
		_, _, err := benchRun(mode)
		if exitCode(err) != 2 {
			t.Fatalf("%s: exit %d (%v), want 2", mode, exitCode(err), err)
		}
		for _, want := range append([]string{looked, "--demo"}, flags...) {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: the error does not mention %s:\n%v", mode, want, err)
			}
		}
	}
}
