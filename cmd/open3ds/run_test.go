package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runArgs(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

func TestHelpListsEveryRegisteredCommandAndNothingElse(t *testing.T) {
	out, _, err := runArgs(t, "help")
	if err != nil {
		t.Fatalf("help: %v", err)
	}
	for name, c := range commands {
		if !strings.Contains(out, "  "+name+" ") || !strings.Contains(out, c.summary) {
			t.Errorf("help does not list %q with its summary:\n%s", name, out)
		}
	}
	listed := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") {
			listed++
		}
	}
	if listed != len(commands) {
		t.Errorf("help lists %d commands, %d are registered:\n%s", listed, len(commands), out)
	}
}

func TestAGroupWithoutPartsIsNotACommand(t *testing.T) {
	g := &group{name: "probe-group", what: "thing", summary: "a probe"}
	if _, ok := commands["probe-group"]; ok {
		t.Fatal("a group registered itself before it had any part")
	}
	g.add(command{name: "one", summary: "first", run: nil})
	t.Cleanup(func() { delete(commands, "probe-group") })
	if _, ok := commands["probe-group"]; !ok {
		t.Fatal("a group with a part is not a command")
	}
}

func TestUnknownCommandsAndNoArgumentsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"no-such-command"}} {
		_, stderr, err := runArgs(t, args...)
		if exitCode(err) != 2 {
			t.Errorf("run(%q) exit %d, want 2 (err %v)", args, exitCode(err), err)
		}
		if !strings.Contains(stderr, "Commands:") {
			t.Errorf("run(%q) did not show the command list on stderr: %q", args, stderr)
		}
	}
}
