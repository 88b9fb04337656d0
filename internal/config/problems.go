package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/open3ds/open3ds/internal/logx"
)

// Where a problem was found.
const (
	SourceFile  = "file"  // the YAML file; Name is the key path, At the file and line
	SourceEnv   = "env"   // an environment variable; Name is its full name
	SourceFlag  = "flag"  // a command-line flag; Name is the flag with its dash
	SourceCheck = "check" // a Validate hook; Name is the key path of the field it names
)

// Problem is one thing wrong with the configuration, named the way the operator wrote it: the YAML
// key, the environment variable or the flag, so that they can find and fix it.
type Problem struct {
	Source string // SourceFile, SourceEnv, SourceFlag or SourceCheck
	Name   string // YAML key path ("tls.cert"), variable ("OPEN3DS_TLS_CERT") or flag ("-tls.cert")
	At     string // for SourceFile, the file and line ("open3ds.yaml:12"); empty otherwise
	Msg    string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.At != "" {
		b.WriteString(p.At)
		b.WriteString(": ")
	}
	if p.Source == SourceFlag {
		b.WriteString("flag ")
	}
	if p.Name != "" {
		b.WriteString(p.Name)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems collects every problem found, so that an operator fixes them all in one round instead of
// one per restart. Load returns one; a Validate hook builds one too:
//
//	func (c *Config) Validate() error {
//		var p config.Problems
//		if c.Listen == "" {
//			p.Add("listen", "is required")
//		}
//		return p.Err()
//	}
type Problems []Problem

// Add records a problem with the field whose YAML key is field; a Validate hook of a nested struct
// names its own keys, and Load prefixes them with the struct's path.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, Problem{Source: SourceCheck, Name: field, Msg: fmt.Sprintf(format, args...)})
}

// Err returns the problems as an error, or nil when there are none. Returning p itself when it is
// empty would give a non-nil error holding nothing.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return p
}

func (p Problems) Error() string {
	switch len(p) {
	case 0:
		return "config: no problems"
	case 1:
		return "config: " + p[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "config: %d problems:", len(p))
	for _, q := range p {
		b.WriteString("\n\t")
		b.WriteString(q.String())
	}
	return b.String()
}

// checkProblems turns what a Validate hook returned into problems named under prefix, the YAML path of
// the struct it belongs to. Problems keep their names; errors joined with errors.Join become one
// problem each; any other error becomes one problem naming the struct.
func checkProblems(err error, prefix string) Problems {
	var out Problems
	var ps Problems
	if errors.As(err, &ps) {
		for _, q := range ps {
			q.Name = joinPath(prefix, q.Name)
			out = append(out, q)
		}
		return out
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, checkProblems(e, prefix)...)
		}
		return out
	}
	return Problems{{Source: SourceCheck, Name: prefix, Msg: err.Error()}}
}

func joinPath(prefix, name string) string {
	switch {
	case prefix == "":
		return name
	case name == "":
		return prefix
	}
	return prefix + "." + name
}

// quote shows a value the operator gave, to help them spot the typo: cut short, with card numbers and
// key=value secrets masked, because configuration problems end up in logs and on terminals.
func quote(v string) string {
	const limit = 64
	v = logx.RedactText(v) // before cutting, so that a cut cannot leave a short, unmasked run
	if len(v) > limit {
		v = v[:limit] + "…"
	}
	return strconv.Quote(v)
}
