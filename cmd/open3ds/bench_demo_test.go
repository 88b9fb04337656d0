package main

import (
	"testing"
)

// TestBenchRunsEveryModeAgainstTheDemoWithNoFlagButItsDirectory drives `open3ds demo` as a person
// would after starting it: only --demo, which tells the bench everything else.
func TestBenchRunsEveryModeAgainstTheDemoWithNoFlagButItsDirectory(t *testing.T) {
	d := startTestDemo(t, t.TempDir(), 0)
	for _, c := range []struct {
		mode  string
		count string
	}{{"acs-areq", "100"}, {"ds-areq", "100"}, {"e2e", "60"}, {"challenge", "12"}} {
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
