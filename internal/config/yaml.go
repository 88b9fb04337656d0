package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fileSuffix marks a key or variable that names a file holding a secret rather than the secret.
const fileSuffix = "_file"

// loadFile applies the YAML file at path. It walks the document itself rather than decoding into the
// struct, so that it can name every unknown key and every bad value, with its line, in one pass.
func (l *Loader) loadFile(path string) Problems {
	data, err := os.ReadFile(path)
	if err != nil {
		return Problems{{Source: SourceFile, At: path, Msg: err.Error()}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Problems{{Source: SourceFile, At: path, Msg: err.Error()}}
	}
	if len(doc.Content) == 0 {
		return nil // an empty file configures nothing, which is fine
	}
	fl := fileLayer{l: l, path: path, dir: filepath.Dir(path)}
	fl.mapping(doc.Content[0], "")
	return fl.problems
}

type fileLayer struct {
	l        *Loader
	path     string
	dir      string // secret files named in the YAML are relative to the YAML's own directory
	problems Problems
}

func (fl *fileLayer) add(n *yaml.Node, key, format string, args ...any) {
	fl.problems = append(fl.problems, Problem{
		Source: SourceFile,
		Name:   key,
		At:     fmt.Sprintf("%s:%d", fl.path, n.Line),
		Msg:    fmt.Sprintf(format, args...),
	})
}

// mapping applies one YAML mapping whose keys sit under prefix.
func (fl *fileLayer) mapping(n *yaml.Node, prefix string) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "tls:" with nothing under it
	}
	if n.Kind != yaml.MappingNode {
		fl.add(n, prefix, "want a mapping of keys to values")
		return
	}
	seen := map[string]bool{}
	secrets := map[string]bool{} // secret fields given so far, directly or through key_file
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		key := joinPath(prefix, kn.Value)
		if seen[key] {
			// The YAML library accepts a repeated key in a node tree; we refuse it, since only one of
			// the two values could win and the operator may have meant either.
			fl.add(kn, key, "key given twice")
			continue
		}
		seen[key] = true
		if f := fl.l.byYAML[key]; f != nil {
			if f.kind != kindSecret || fl.once(secrets, f, kn) {
				fl.value(f, kn, vn)
			}
			continue
		}
		if base, ok := strings.CutSuffix(key, fileSuffix); ok {
			if f := fl.l.byYAML[base]; f != nil && f.kind == kindSecret {
				if fl.once(secrets, f, kn) {
					fl.secretFile(f, kn, vn)
				}
				continue
			}
		}
		if fl.l.groups[key] {
			fl.mapping(vn, key)
			continue
		}
		fl.add(kn, key, "unknown key")
	}
}

// once reports whether this is the first time the secret f is given in the mapping; a second time
// (key and key_file both) is a problem, because we cannot tell which one the operator meant.
func (fl *fileLayer) once(given map[string]bool, f *field, kn *yaml.Node) bool {
	if given[f.yaml] {
		fl.add(kn, f.yaml, "give %s or %s, not both", f.yaml, f.yaml+fileSuffix)
		return false
	}
	given[f.yaml] = true
	return true
}

func (fl *fileLayer) value(f *field, kn, vn *yaml.Node) {
	switch {
	case vn.Kind == yaml.ScalarNode && vn.Tag == "!!null":
		// "key:" with nothing after it leaves the value as it was.
	case vn.Kind == yaml.SequenceNode && f.kind == kindStrings:
		items := make([]string, 0, len(vn.Content))
		for _, item := range vn.Content {
			if item.Kind != yaml.ScalarNode {
				fl.add(item, f.yaml, "want a list of plain values")
				return
			}
			items = append(items, item.Value)
		}
		f.setList(items)
	case vn.Kind == yaml.ScalarNode:
		if err := f.set(vn.Value); err != nil {
			fl.add(kn, f.yaml, "%v", err)
		}
	default:
		fl.add(kn, f.yaml, "want a single value")
	}
}

func (fl *fileLayer) secretFile(f *field, kn, vn *yaml.Node) {
	if vn.Kind != yaml.ScalarNode || vn.Value == "" {
		fl.add(kn, f.yaml+fileSuffix, "want the path of a file")
		return
	}
	path := vn.Value
	if !filepath.IsAbs(path) {
		path = filepath.Join(fl.dir, path)
	}
	s, err := readSecretFile(path)
	if err != nil {
		fl.add(kn, f.yaml+fileSuffix, "%v", err)
		return
	}
	f.v.SetString(s)
}
