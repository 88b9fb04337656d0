// Package config loads a role's configuration struct in four layers, each overriding the one before:
// the defaults the struct already holds, a YAML file, OPEN3DS_* environment variables, and command-line
// flags that were actually given. Secrets (fields of type logx.Secret) may also come from files, as
// container platforms mount them: OPEN3DS_X_FILE=/run/secrets/x, or x_file: in the YAML.
//
// Names come from struct tags, and default to the Go field name when a tag is absent:
//
//	type Config struct {
//		Listen  string        `yaml:"listen" env:"LISTEN" flag:"listen" help:"address to listen on"`
//		Timeout time.Duration `yaml:"timeout" help:"how long to wait for the DS"`
//		TLS     TLSConfig     `yaml:"tls"`
//	}
//
// A missing yaml tag gives the field name in snake_case; a missing env tag gives the YAML name in
// upper case; a missing flag tag gives the YAML name with dashes. Nested structs join their names:
// tls.cert in the YAML, OPEN3DS_TLS_CERT in the environment, -tls.cert on the command line. A tag
// of "-" keeps the field (or a whole nested struct) out of that source. Secrets never get a flag,
// because a command line is visible to every user of the machine.
//
// Field types: string, bool, int, time.Duration, []string (comma-separated in the environment and
// flags, a list or a comma-separated string in YAML), logx.Secret, and structs of those.
//
// Everything wrong is reported at once, as Problems naming each YAML key, variable or flag; a
// struct's Validate method, when it has one, adds its own problems to the list.
package config

import (
	"flag"
	"fmt"
	"reflect"
)

// EnvPrefix starts every environment variable the loader reads.
const EnvPrefix = "OPEN3DS_"

// ConfigFlag and ConfigEnv name the YAML file to read. The flag wins over the variable.
const (
	ConfigFlag = "config"
	ConfigEnv  = EnvPrefix + "CONFIG"
)

// Validator is implemented by a configuration struct, or any struct nested in it, that checks its
// values once every source has been applied. A Validate method reports several problems by returning
// a Problems value (see Problems.Err) or errors joined with errors.Join.
type Validator interface {
	Validate() error
}

// Loader applies the sources to one configuration struct. Make it with NewLoader before parsing the
// flags, since it registers them, and call Load after.
type Loader struct {
	cfg    reflect.Value
	fields []*field
	groups map[string]bool // YAML paths of nested structs
	nested []group
	byYAML map[string]*field
	flags  map[string]*flagValue
	fs     *flag.FlagSet
	file   *string // the -config flag's value
}

// Load is the whole sequence for a sub-command: register the flags of cfg on fs, parse args, apply
// the file, environment and flags, and validate. cfg must be a pointer to a struct holding the
// defaults. getenv is the process's os.Getenv, or a map's lookup in tests. A flag parse error (or
// flag.ErrHelp for -h) is returned as it is; every other problem comes back together as Problems.
// With a nil fs there are no flags and args is ignored.
func Load(cfg any, fs *flag.FlagSet, args []string, getenv func(string) string) error {
	l, err := NewLoader(cfg, fs)
	if err != nil {
		return err
	}
	if fs != nil {
		if err := fs.Parse(args); err != nil {
			return err
		}
	}
	return l.Load(getenv)
}

// NewLoader prepares a loader for cfg, a pointer to a struct holding the defaults, and registers one
// flag per field on fs, plus -config. fs may be nil for no flags. The error reports a mistake in the
// struct (an unsupported field type, a flag on a secret, a name used twice), which is a bug, not bad
// configuration.
func NewLoader(cfg any, fs *flag.FlagSet) (*Loader, error) {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("config: want a pointer to a struct, got %T", cfg)
	}
	l := &Loader{
		cfg:    v.Elem(),
		groups: map[string]bool{},
		byYAML: map[string]*field{},
		flags:  map[string]*flagValue{},
		fs:     fs,
	}
	if err := walk(l.cfg, names{env: "OPEN3DS"}, &l.fields, &l.nested); err != nil {
		return nil, err
	}
	for _, g := range l.nested {
		if g.yaml != "-" {
			l.groups[g.yaml] = true
		}
	}
	envs := map[string]bool{ConfigEnv: true}
	for _, f := range l.fields {
		if f.yaml != "-" {
			if l.byYAML[f.yaml] != nil || l.groups[f.yaml] {
				return nil, fmt.Errorf("config: YAML key %s is used twice", f.yaml)
			}
			l.byYAML[f.yaml] = f
		}
		if f.env != "-" {
			if envs[f.env] || (f.kind == kindSecret && envs[f.env+"_FILE"]) {
				return nil, fmt.Errorf("config: variable %s is used twice", f.env)
			}
			envs[f.env] = true
			if f.kind == kindSecret {
				envs[f.env+"_FILE"] = true
			}
		}
	}
	if fs != nil {
		if err := l.registerFlags(fs); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Variables lists every environment variable the loader reads, in the order of the struct's fields:
// each field's variable, followed by the _FILE twin of a secret, and OPEN3DS_CONFIG last. A deployment
// checks the variables it sets against this list, since a misspelt one is otherwise ignored.
func (l *Loader) Variables() []string {
	var vars []string
	for _, f := range l.fields {
		if f.env == "-" {
			continue
		}
		vars = append(vars, f.env)
		if f.kind == kindSecret {
			vars = append(vars, f.env+"_FILE")
		}
	}
	return append(vars, ConfigEnv)
}

// Load applies the file, the environment and the flags that were set, in that order, then runs the
// Validate hooks, and returns every problem found as Problems (nil when there are none). Fields that
// a bad value was meant for keep the value of the layer before.
func (l *Loader) Load(getenv func(string) string) error {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var problems Problems
	path := getenv(ConfigEnv)
	if l.fs != nil && l.flagSet(ConfigFlag) {
		path = *l.file
	}
	if path != "" {
		problems = append(problems, l.loadFile(path)...)
	}
	problems = append(problems, l.loadEnv(getenv)...)
	problems = append(problems, l.loadFlags()...)
	problems = append(problems, l.validate()...)
	return problems.Err()
}

func (l *Loader) loadEnv(getenv func(string) string) Problems {
	var problems Problems
	for _, f := range l.fields {
		if f.env == "-" {
			continue
		}
		val := getenv(f.env)
		if f.kind == kindSecret {
			if path := getenv(f.env + "_FILE"); path != "" {
				if val != "" {
					problems = append(problems, Problem{Source: SourceEnv, Name: f.env + "_FILE",
						Msg: fmt.Sprintf("set %s or %s_FILE, not both", f.env, f.env)})
					continue
				}
				s, err := readSecretFile(path)
				if err != nil {
					problems = append(problems, Problem{Source: SourceEnv, Name: f.env + "_FILE", Msg: err.Error()})
					continue
				}
				val = s
			}
		}
		// An empty variable counts as unset: getenv cannot tell them apart, and an empty value
		// rarely means anything but "not configured here".
		if val == "" {
			continue
		}
		if err := f.set(val); err != nil {
			problems = append(problems, Problem{Source: SourceEnv, Name: f.env, Msg: err.Error()})
		}
	}
	return problems
}

// validate runs the top struct's Validate hook, then those of the nested structs in the order they
// are declared.
func (l *Loader) validate() Problems {
	problems := runHook(l.cfg, "")
	for _, g := range l.nested {
		problems = append(problems, runHook(g.v, g.yaml)...)
	}
	return problems
}

func runHook(v reflect.Value, prefix string) Problems {
	if prefix == "-" {
		prefix = ""
	}
	var hook Validator
	if v.CanAddr() {
		hook, _ = v.Addr().Interface().(Validator)
	}
	if hook == nil {
		hook, _ = v.Interface().(Validator)
	}
	if hook == nil {
		return nil
	}
	err := hook.Validate()
	if err == nil || isEmptyProblems(err) {
		return nil
	}
	return checkProblems(err, prefix)
}

// isEmptyProblems catches a hook that returned an empty Problems as an error instead of using Err.
func isEmptyProblems(err error) bool {
	p, ok := err.(Problems)
	return ok && len(p) == 0
}
