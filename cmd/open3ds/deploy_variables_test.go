package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/config"
)

var updateVariables = flag.Bool("update-variables", false, "rewrite deploy/check/variables.txt from the commands' configurations")

// variablesFile is the list of variables the deployment checks (deploy/check, a module of its own that
// cannot import this one) compare the Helm chart's with.
var variablesFile = filepath.Join("..", "..", "deploy", "check", "variables.txt")

// deployVariables is variables.txt as this binary would write it: for each command a deployment runs,
// every variable it reads. A name ending in * stands for a family the ACS looks up at run time.
func deployVariables(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# The environment variables each command of open3ds reads, written by a test of cmd/open3ds\n" +
		"# (go test ./cmd/open3ds -run TestDeployVariables -update-variables) and read by deploy/check,\n" +
		"# which fails when the Helm chart sets any other.\n")
	section := func(command string, names ...string) {
		b.WriteString("\n[" + command + "]\n")
		for _, n := range names {
			b.WriteString(n + "\n")
		}
	}
	section("migrate", migrateDSNEnv)
	for _, role := range []struct {
		command string
		cfg     any
		extra   []string
	}{
		{"serve ds", &dsConfig{}, nil},
		{"serve acs", &acsConfig{}, []string{issuerAuthValueKeysEnv + "*"}},
		{"serve 3dss", &tdssConfig{}, nil},
	} {
		l, err := config.NewLoader(role.cfg, nil)
		if err != nil {
			t.Fatalf("%s: %v", role.command, err)
		}
		section(role.command, append(l.Variables(), role.extra...)...)
	}
	return b.String()
}

func TestDeployVariablesListIsCurrent(t *testing.T) {
	got := deployVariables(t)
	if *updateVariables {
		if err := os.WriteFile(variablesFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(variablesFile)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("%s is not what the commands read; rewrite it with\n\tgo test ./cmd/open3ds -run TestDeployVariables -update-variables\nand re-run the chart's checks (deploy/check). It should read:\n%s", variablesFile, got)
	}
}

// The list must hold the names an operator reads in `serve ROLE -h`, and the secrets, which have no
// flag and so are not in that help.
func TestDeployVariablesIncludeTheHelpsNamesAndTheSecrets(t *testing.T) {
	list := deployVariables(t)
	for _, want := range []string{"OPEN3DS_ACS_CHALLENGE_URL", "OPEN3DS_ACS_NOTIFY_SMPP_ADDR", "OPEN3DS_DS_SDK_KEYS",
		"OPEN3DS_3DSS_API_LISTEN", "OPEN3DS_LOG_LEVEL", "OPEN3DS_VAULT_KEYS_FILE", "OPEN3DS_ACS_OTP_KEY_FILE",
		"OPEN3DS_DS_ADMIN_TOKEN", "OPEN3DS_METRICS_TOKEN_FILE", "OPEN3DS_DSN"} {
		if !strings.Contains(list, "\n"+want+"\n") {
			t.Errorf("the list lacks %s", want)
		}
	}
	for _, role := range []string{"ds", "acs", "3dss"} {
		var out strings.Builder
		if err := run(t.Context(), []string{"serve", role, "-h"}, func(string) string { return "" }, strings.NewReader(""), &out, &out); err != nil {
			t.Fatalf("serve %s -h: %v", role, err)
		}
		for _, field := range strings.Fields(out.String()) {
			name := strings.Trim(field, "(),")
			if strings.HasPrefix(name, "OPEN3DS_") && !strings.Contains(list, "\n"+name+"\n") {
				t.Errorf("serve %s -h names %s, which the list lacks", role, name)
			}
		}
	}
}
