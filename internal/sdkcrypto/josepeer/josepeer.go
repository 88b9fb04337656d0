// Package josepeer runs the independent app-channel peer of internal/sdkcrypto/testdata/josesdk (the
// npm jose package under Node) for tests: the DS, the ACS and sdkcrypto itself are checked against
// it, an implementation that shares no code with open3ds.
package josepeer

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is the folder holding sdk.mjs and its package.json.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "josesdk")
}

// Need fails the test under CI (CI set) and skips it, loudly, elsewhere, when Node.js or the npm
// jose package is missing; scripts/test.sh installs both.
func Need(tb testing.TB) string {
	tb.Helper()
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "Node.js (node) is not installed"
	default:
		if _, err := os.Stat(filepath.Join(Dir(), "node_modules", "jose", "package.json")); err != nil {
			missing = "the npm package jose is not installed in " + Dir() + " (run: npm ci --prefix " + Dir() + ")"
		}
	}
	if missing != "" {
		msg := "JOSE interoperability tests need the independent peer: " + missing + "; scripts/test.sh installs it"
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip("SKIPPED LOUDLY: " + msg)
	}
	return node
}

// Run performs one operation of sdk.mjs with req as its JSON input and decodes its answer into out.
func Run(tb testing.TB, op string, req, out any) {
	tb.Helper()
	cmd, stderr := command(tb, op, req)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		tb.Fatalf("jose peer %s: %v\n%s", op, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		tb.Fatalf("jose peer %s answered %q: %v", op, stdout.String(), err)
	}
}

// Fails reports whether the operation fails (for checks that the peer refuses what it must), with
// what the peer said on stderr.
func Fails(tb testing.TB, op string, req any) (bool, string) {
	tb.Helper()
	cmd, stderr := command(tb, op, req)
	err := cmd.Run()
	return err != nil, stderr.String()
}

// command readies one run of sdk.mjs with req as its JSON input, its stderr kept for the caller.
func command(tb testing.TB, op string, req any) (*exec.Cmd, *bytes.Buffer) {
	tb.Helper()
	node := Need(tb)
	in, err := json.Marshal(req)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(node, "sdk.mjs", op)
	cmd.Dir = Dir()
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}
