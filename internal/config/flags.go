package config

import (
	"flag"
	"fmt"
	"strings"
)

// flagValue is the flag.Value behind every field's flag. Set only records the text: parsing waits for
// Load, so that a bad flag is reported with every other problem instead of stopping flag parsing, and
// so that the flag, which the operator gave last, is applied after the file and the environment.
type flagValue struct {
	f    *field
	def  string
	seen []string
}

func (v *flagValue) String() string {
	if v == nil || v.f == nil {
		return "" // flag.PrintDefaults calls String on a zero flagValue
	}
	return v.def
}

func (v *flagValue) Set(s string) error {
	v.seen = append(v.seen, s)
	return nil
}

// IsBoolFlag lets "-x" mean "-x=true" for a bool field, as it does with flag.Bool.
func (v *flagValue) IsBoolFlag() bool { return v != nil && v.f != nil && v.f.kind == kindBool }

func (l *Loader) registerFlags(fs *flag.FlagSet) error {
	if fs.Lookup(ConfigFlag) != nil {
		return fmt.Errorf("config: flag -%s is already defined", ConfigFlag)
	}
	l.file = fs.String(ConfigFlag, "", "YAML configuration `file` (env "+ConfigEnv+")")
	for _, f := range l.fields {
		if f.flag == "-" {
			continue
		}
		if fs.Lookup(f.flag) != nil {
			return fmt.Errorf("config: flag -%s is already defined", f.flag)
		}
		v := &flagValue{f: f, def: f.format()}
		l.flags[f.flag] = v
		fs.Var(v, f.flag, usage(f))
	}
	return nil
}

// flagSet reports whether the flag called name was given on the command line.
func (l *Loader) flagSet(name string) bool {
	set := false
	l.fs.Visit(func(fl *flag.Flag) {
		if fl.Name == name {
			set = true
		}
	})
	return set
}

// loadFlags applies the flags that were given. A list flag given several times collects every item
// ("-ds a -ds b,c" is [a b c]); any other flag given twice keeps the last value, as flag.String does.
func (l *Loader) loadFlags() Problems {
	if l.fs == nil {
		return nil
	}
	var problems Problems
	l.fs.Visit(func(fl *flag.Flag) {
		v, ok := l.flags[fl.Name]
		if !ok || len(v.seen) == 0 {
			return
		}
		if v.f.kind == kindStrings {
			var items []string
			for _, s := range v.seen {
				items = append(items, splitList(s)...)
			}
			if items == nil {
				items = []string{}
			}
			v.f.setList(items)
			return
		}
		if err := v.f.set(v.seen[len(v.seen)-1]); err != nil {
			problems = append(problems, Problem{Source: SourceFlag, Name: "-" + fl.Name, Msg: err.Error()})
		}
	})
	return problems
}

// usage is a field's help text followed by what its value looks like and its variable, as in
// "address to listen on (string, env OPEN3DS_LISTEN)". The back-quoted type becomes the placeholder in
// flag.PrintDefaults ("-listen string"), which otherwise says "value" for every custom flag.
func usage(f *field) string {
	var notes []string
	if f.kind != kindBool && !strings.Contains(f.help, "`") {
		notes = append(notes, "`"+typeNames[f.kind]+"`")
	}
	if f.env != "-" {
		notes = append(notes, "env "+f.env)
	}
	if len(notes) == 0 {
		return f.help
	}
	return strings.TrimSpace(f.help + " (" + strings.Join(notes, ", ") + ")")
}

var typeNames = map[kind]string{
	kindString: "string", kindInt: "int", kindDuration: "duration", kindStrings: "list", kindSecret: "secret",
}
