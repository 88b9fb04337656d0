package check

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Variables is what variables.txt says: for each command ("serve acs", "migrate"), the environment
// variables it reads. A name ending in * stands for every name that starts with what comes before it.
type Variables map[string]map[string]bool

// ReadVariables reads the list a test of cmd/open3ds writes.
func ReadVariables(path string) (Variables, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vars := Variables{}
	var section map[string]bool
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = map[string]bool{}
			vars[strings.Trim(line, "[]")] = section
		case section == nil:
			return nil, fmt.Errorf("%s:%d: a variable before the first [command]", path, n)
		default:
			section[line] = true
		}
	}
	return vars, sc.Err()
}

// Reads says whether command reads the variable name.
func (v Variables) Reads(command, name string) bool {
	names := v[command]
	if names[name] {
		return true
	}
	for n := range names {
		if prefix, ok := strings.CutSuffix(n, "*"); ok && strings.HasPrefix(name, prefix) && len(name) > len(prefix) {
			return true
		}
	}
	return false
}

// Secret says whether name holds a secret for command: the loader reads a _FILE twin of every secret,
// a family (a name ending in *) is one of keys, and the DSN carries the database password.
func (v Variables) Secret(command, name string) bool {
	if strings.HasSuffix(name, "_FILE") {
		return false
	}
	if name == "OPEN3DS_DSN" || v[command][name+"_FILE"] {
		return true
	}
	return !v[command][name] && v.Reads(command, name)
}
