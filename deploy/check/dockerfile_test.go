package check_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/deploy/check"
)

func TestTheDockerfilePassesBuildKitsLintAndOurRules(t *testing.T) {
	dt, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if problems := check.LintDockerfile(dt); len(problems) > 0 {
		t.Fatalf("the Dockerfile fails its checks:\n%s", strings.Join(problems, "\n"))
	}
}

// Each fixture breaks one rule and says on its first line, "# want: …", what the finding must say.
func TestEveryDockerfileCheckFailsOnABrokenCopy(t *testing.T) {
	paths, err := filepath.Glob("testdata/broken-dockerfile/*.Dockerfile")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".Dockerfile"), func(t *testing.T) {
			dt, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(bytes.NewReader(dt))
			sc.Scan()
			want, ok := strings.CutPrefix(sc.Text(), "# want: ")
			if !ok {
				t.Fatalf("%s does not start with # want: …", p)
			}
			problems := check.LintDockerfile(dt)
			for _, pr := range problems {
				if strings.Contains(pr, want) {
					t.Logf("found: %s", pr)
					return
				}
			}
			t.Fatalf("no finding says %q; findings:\n%s", want, strings.Join(problems, "\n"))
		})
	}
}
