// Package buildinfo says which build of open3ds is running: the release it claims and the commit it
// was built from, so that an operator's bug report names the code exactly.
//
// The Go toolchain records the commit itself (vcs.revision, vcs.modified) when it builds the main
// package inside a git checkout with -buildvcs on. It records nothing in a `git worktree` (whose .git is
// a file, which the toolchain does not look for), with -buildvcs=false, or from a source archive; a
// release build then sets Version and Commit with -ldflags "-X <this package>.Commit=…".
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version and Commit are empty unless the linker sets them; when set they win over what the toolchain
// recorded.
var (
	Version string
	Commit  string
)

// Info is one build's identity. Commit is "unknown" when neither the linker nor the toolchain said.
type Info struct {
	Version   string
	Commit    string
	Modified  bool // the working tree had uncommitted changes
	GoVersion string
}

// Read describes the running binary.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return From(bi, Version, Commit)
}

// From describes a build from the toolchain's record (nil when there is none) and the values the linker
// set. Read passes the package variables; tests pass their own.
func From(bi *debug.BuildInfo, version, commit string) Info {
	i := Info{Version: version, Commit: commit, GoVersion: runtime.Version()}
	var revision string
	if bi != nil {
		i.GoVersion = bi.GoVersion
		if v := bi.Main.Version; i.Version == "" && v != "" && v != "(devel)" {
			i.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				// Only the toolchain's own commit can say the tree was modified.
				i.Modified = s.Value == "true" && commit == ""
			}
		}
	}
	if i.Commit == "" {
		i.Commit = revision
	}
	if i.Version == "" {
		i.Version = "devel"
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	return i
}

// String is the line `open3ds version` prints, e.g.
// "open3ds v1.2.0 (commit 0123abcd…, modified, go1.26.8)".
func (i Info) String() string {
	modified := ""
	if i.Modified {
		modified = ", modified"
	}
	return fmt.Sprintf("open3ds %s (commit %s%s, %s)", i.Version, i.Commit, modified, i.GoVersion)
}
