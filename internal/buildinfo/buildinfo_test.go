package buildinfo_test

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/buildinfo"
)

func stamped(version string, settings ...string) *debug.BuildInfo {
	bi := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: "github.com/open3ds/open3ds", Version: version}}
	for i := 0; i+1 < len(settings); i += 2 {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
	}
	return bi
}

func TestFromNamesTheBuild(t *testing.T) {
	const rev = "cb8b15a746f3efb948fbe9ae5d43bd8d6a69a18b"
	tests := []struct {
		name            string
		bi              *debug.BuildInfo
		version, commit string // what the linker set
		want            string
	}{
		{"a build in a git checkout shows the toolchain's commit", stamped("(devel)", "vcs.revision", rev, "vcs.modified", "false"), "", "",
			"open3ds devel (commit " + rev + ", go1.99.1)"},
		{"uncommitted changes are said", stamped("(devel)", "vcs.revision", rev, "vcs.modified", "true"), "", "",
			"open3ds devel (commit " + rev + ", modified, go1.99.1)"},
		{"a build without vcs information says the commit is unknown", stamped("(devel)"), "", "",
			"open3ds devel (commit unknown, go1.99.1)"},
		{"the module's version counts when the toolchain knows it", stamped("v0.3.0", "vcs.revision", rev), "", "",
			"open3ds v0.3.0 (commit " + rev + ", go1.99.1)"},
		{"the linker's values win", stamped("v0.3.0", "vcs.revision", rev, "vcs.modified", "true"), "v1.0.0", "abc123",
			"open3ds v1.0.0 (commit abc123, go1.99.1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := buildinfo.From(tc.bi, tc.version, tc.commit).String(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestFromWithoutAnyRecordStillSaysUnknown(t *testing.T) {
	i := buildinfo.From(nil, "", "")
	if i.Commit != "unknown" || i.Version != "devel" || !strings.HasPrefix(i.GoVersion, "go") {
		t.Errorf("From(nil) = %+v, want devel, unknown and the running Go version", i)
	}
}
