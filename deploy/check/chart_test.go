package check_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"helm.sh/helm/v4/pkg/chart/common"

	"github.com/open3ds/open3ds/deploy/check"
)

const chartDir = "../helm/open3ds"

func variables(t testing.TB) check.Variables {
	t.Helper()
	vars, err := check.ReadVariables("variables.txt")
	if err != nil {
		t.Fatal(err)
	}
	return vars
}

// allProblems is every finding on the chart in dir with values: the strict lint, a failed render,
// and the cross-checks of what rendered.
func allProblems(t testing.TB, dir string, values map[string]any) []string {
	t.Helper()
	problems := check.Lint(dir, values)
	r, err := check.Render(dir, "open3ds", "payments", values)
	if err != nil {
		problems = append(problems, "render: "+err.Error())
	}
	if r != nil && err == nil {
		problems = append(problems, check.CrossCheck(r, variables(t))...)
	}
	return problems
}

func productionValues(t testing.TB) map[string]any {
	t.Helper()
	v, err := common.ReadValuesFile("testdata/production-values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTheChartPassesEveryCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values func(testing.TB) map[string]any
	}{
		{"with its default values", func(testing.TB) map[string]any { return map[string]any{} }},
		{"with a production-like values file", productionValues},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if problems := allProblems(t, chartDir, tc.values(t)); len(problems) > 0 {
				t.Fatalf("the chart fails its checks:\n%s", strings.Join(problems, "\n"))
			}
		})
	}
}

// The render is what an operator installs: these are the facts of it a reviewer would look for first.
func TestTheProductionRenderRunsEveryRoleSeveralTimesAfterTheMigration(t *testing.T) {
	r, err := check.Render(chartDir, "open3ds", "payments", productionValues(t))
	if err != nil {
		t.Fatal(err)
	}
	replicas := map[string]int32{}
	for _, d := range r.Deployments {
		replicas[d.Name] = *d.Spec.Replicas
	}
	want := map[string]int32{"open3ds-ds": 3, "open3ds-acs": 4, "open3ds-3dss": 3}
	for name, n := range want {
		if replicas[name] != n {
			t.Errorf("Deployment %s has %d replicas, want %d (all: %v)", name, replicas[name], n, replicas)
		}
	}
	if len(r.Hooks) != 1 || r.Hooks[0].Job == nil || r.Hooks[0].Job.Spec.Template.Spec.Containers[0].Args[0] != "migrate" {
		t.Fatalf("want one hook, the migration Job; got %+v", r.Hooks)
	}
	if len(r.PDBs) != 3 {
		t.Errorf("%d PodDisruptionBudgets, want one per role", len(r.PDBs))
	}
	var acsEnv map[string]string
	for _, cm := range r.ConfigMaps {
		if cm.Name == "open3ds-acs" {
			acsEnv = cm.Data
		}
	}
	for name, want := range map[string]string{
		"OPEN3DS_ACS_AUTHVALUE_KEYS_BANK_A_FILE": "/etc/open3ds/secrets/authvalue-keys/bank-a",
		"OPEN3DS_ACS_ADMIN_LISTEN":               ":9444",
		"OPEN3DS_ACS_CHALLENGE_URL":              "https://acs.bank.example/challenge",
		"OPEN3DS_METRICS_TOKEN_FILE":             "/etc/open3ds/secrets/metrics-token",
	} {
		if acsEnv[name] != want {
			t.Errorf("the ACS's %s = %q, want %q", name, acsEnv[name], want)
		}
	}
	for _, d := range r.Deployments {
		if g := *d.Spec.Template.Spec.TerminationGracePeriodSeconds; d.Name == "open3ds-ds" && g != 40 {
			t.Errorf("the DS's grace period is %ds, want 10 + 20 + 10", g)
		}
	}
}

// Every role gets its drain delay and shutdown grace, under the names the binary reads, and the pod's
// grace period covers both.
func TestEveryRoleGetsTheDrainSettingsTheBinaryReads(t *testing.T) {
	r, err := check.Render(chartDir, "open3ds", "payments", nil)
	if err != nil {
		t.Fatal(err)
	}
	vars := variables(t)
	if problems := check.CrossCheck(r, vars); len(problems) > 0 {
		t.Fatalf("cross-check: %s", strings.Join(problems, "\n"))
	}
	for _, role := range []string{"ds", "acs", "3dss"} {
		for _, name := range []string{"OPEN3DS_DRAIN_DELAY", "OPEN3DS_SHUTDOWN_GRACE"} {
			if !vars.Reads("serve "+role, name) {
				t.Errorf("serve %s does not read %s", role, name)
			}
			found := false
			for _, cm := range r.ConfigMaps {
				if strings.HasSuffix(cm.Name, "-"+role) && cm.Data[name] != "" {
					found = true
				}
			}
			if !found {
				t.Errorf("the %s's settings do not set %s", role, name)
			}
		}
	}
}

// fixture is one deliberate break of the chart, from testdata/broken-chart.
type fixture struct {
	Breaks string         `json:"breaks"`
	Want   string         `json:"want"`
	Values map[string]any `json:"values"`
	Edit   *struct {
		File string `json:"file"`
		Old  string `json:"old"`
		New  string `json:"new"`
	} `json:"edit"`
}

func TestEveryCheckFailsOnABrokenChart(t *testing.T) {
	paths, err := filepath.Glob("testdata/broken-chart/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".yaml"), func(t *testing.T) {
			dt, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var f fixture
			if err := yaml.UnmarshalStrict(dt, &f); err != nil {
				t.Fatal(err)
			}
			dir := copyChart(t)
			if f.Edit != nil {
				file := filepath.Join(dir, f.Edit.File)
				src, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Count(string(src), f.Edit.Old) != 1 {
					t.Fatalf("the fixture's text %q is not once in %s: update the fixture with the chart", f.Edit.Old, f.Edit.File)
				}
				if err := os.WriteFile(file, []byte(strings.Replace(string(src), f.Edit.Old, f.Edit.New, 1)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			values := f.Values
			if values == nil {
				values = map[string]any{}
			}
			problems := allProblems(t, dir, values)
			for _, pr := range problems {
				if strings.Contains(pr, f.Want) {
					t.Logf("found: %s", pr)
					return
				}
			}
			t.Fatalf("the chart that %s passed the check for %q; problems found:\n%s", f.Breaks, f.Want, strings.Join(problems, "\n"))
		})
	}
}

// copyChart copies the chart into a temporary directory, for a fixture to break.
func copyChart(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "open3ds")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	return dir
}
