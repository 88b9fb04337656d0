package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/open3ds/open3ds/internal/logx"
)

// kind is one of the field types the loader knows how to read from text.
type kind int

const (
	kindString kind = iota
	kindBool
	kindInt
	kindDuration
	kindStrings
	kindSecret
)

var (
	durationType = reflect.TypeOf(time.Duration(0))
	secretType   = reflect.TypeOf(logx.Secret(""))
)

// field is one leaf of the configuration struct, with the name it has in each source. An empty name
// means the source cannot set the field.
type field struct {
	yaml string // dotted YAML key path: "tls.cert"
	env  string // full variable name: "OPEN3DS_TLS_CERT"
	flag string // flag name without the dash: "tls.cert"
	help string
	kind kind
	v    reflect.Value // settable
}

// group is a nested struct: its YAML path, and the value, for its Validate hook.
type group struct {
	yaml string
	v    reflect.Value
}

// names is the naming context of a struct: the prefixes its fields' names are joined to. A source whose
// prefix is "-" is switched off for the whole struct.
type names struct{ yaml, env, flag string }

// walk lists the fields and nested structs of the struct v, depth first.
func walk(v reflect.Value, at names, fields *[]*field, groups *[]group) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		fv := v.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			// An embedded struct's fields are promoted, as they are in Go: no prefix of their own.
			if err := walk(fv, at, fields, groups); err != nil {
				return err
			}
			continue
		}
		n := names{
			yaml: join(at.yaml, tagName(sf, "yaml", snake(sf.Name)), "."),
			env:  join(at.env, strings.ToUpper(tagName(sf, "env", tagName(sf, "yaml", snake(sf.Name)))), "_"),
			flag: join(at.flag, tagName(sf, "flag", strings.ReplaceAll(tagName(sf, "yaml", snake(sf.Name)), "_", "-")), "."),
		}
		if sf.Type.Kind() == reflect.Struct && sf.Type != durationType {
			*groups = append(*groups, group{yaml: n.yaml, v: fv})
			if err := walk(fv, n, fields, groups); err != nil {
				return err
			}
			continue
		}
		k, ok := kindOf(sf.Type)
		if !ok {
			return fmt.Errorf("config: field %s has type %s, which the loader cannot read", sf.Name, sf.Type)
		}
		f := &field{yaml: n.yaml, env: n.env, flag: n.flag, help: sf.Tag.Get("help"), kind: k, v: fv}
		if k == kindSecret {
			// A secret on the command line is readable by every user of the machine (ps, /proc).
			if tag, set := sf.Tag.Lookup("flag"); set && tag != "-" {
				return fmt.Errorf("config: field %s is a secret and cannot have a flag; use its _FILE variable", sf.Name)
			}
			f.flag = "-"
		}
		*fields = append(*fields, f)
	}
	return nil
}

func kindOf(t reflect.Type) (kind, bool) {
	switch {
	case t == secretType:
		return kindSecret, true
	case t == durationType:
		return kindDuration, true
	case t.Kind() == reflect.String:
		return kindString, true
	case t.Kind() == reflect.Bool:
		return kindBool, true
	case t.Kind() == reflect.Int:
		return kindInt, true
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return kindStrings, true
	}
	return 0, false
}

// tagName is the name a struct tag gives, up to its first comma (yaml:"name,omitempty"), or def when
// the tag is absent or gives no name. "-" comes back as "-": the field is not in that source.
func tagName(sf reflect.StructField, key, def string) string {
	tag, ok := sf.Tag.Lookup(key)
	if !ok {
		return def
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		return def
	}
	return name
}

// join adds name to a prefix; "-" on either side switches the source off.
func join(prefix, name, sep string) string {
	switch {
	case prefix == "-" || name == "-":
		return "-"
	case prefix == "":
		return name
	}
	return prefix + sep + name
}

// snake turns a Go field name into a YAML key: ListenAddr is listen_addr, TLSCert is tls_cert.
func snake(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
