package risk

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// PolicyError is a problem in a policy file: the line, the dotted path of the key
// ("issuers.bank-a.live.rules.high_amount.points") and what is wrong there.
type PolicyError struct {
	Line int
	Key  string
	Msg  string
}

func (e *PolicyError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("risk policy: line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("risk policy: line %d: %s: %s", e.Line, e.Key, e.Msg)
}

func errAt(n *yaml.Node, key, format string, a ...any) error {
	return &PolicyError{Line: n.Line, Key: key, Msg: fmt.Sprintf(format, a...)}
}

// pair is one key and value of a YAML mapping.
type pair struct {
	key  string
	k, v *yaml.Node
}

// pairs checks that n is a mapping whose keys are all in allowed and unique, and returns them.
func pairs(n *yaml.Node, path string, allowed ...string) ([]pair, error) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n, path, "want a mapping")
	}
	var out []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		key := join(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			return nil, errAt(k, path, "keys must be plain names")
		}
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			return nil, errAt(k, key, "unknown key (want one of %s)", strings.Join(allowed, ", "))
		}
		for _, p := range out {
			if p.key == k.Value {
				return nil, errAt(k, key, "defined twice (first on line %d)", p.k.Line)
			}
		}
		out = append(out, pair{key: k.Value, k: k, v: v})
	}
	return out, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// parseSnapshot reads a whole policy file.
func parseSnapshot(data []byte) (*snapshot, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("risk policy: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, errors.New("risk policy: the file is empty")
	}
	top, err := pairs(doc.Content[0], "", "default", "issuers")
	if err != nil {
		return nil, err
	}
	s := &snapshot{def: issuerPolicies{live: builtinPolicy("default")}, issuers: map[string]issuerPolicies{}}
	// The default comes first whatever the order in the file, because issuers build on it.
	for _, p := range top {
		if p.key == "default" {
			if s.def, err = parseIssuer(p.v, "default", s.def, s.def.live); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range top {
		if p.key != "issuers" {
			continue
		}
		list, err := pairs(p.v, "issuers")
		if err != nil {
			return nil, err
		}
		for _, iss := range list {
			if iss.key == "" {
				return nil, errAt(iss.k, "issuers", "an issuer needs a name")
			}
			ip, err := parseIssuer(iss.v, "issuers."+iss.key, s.def, s.def.live)
			if err != nil {
				return nil, err
			}
			s.issuers[iss.key] = ip
		}
	}
	return s, nil
}

// parseIssuer reads {live, shadow}; what the entry leaves out comes from inherit.
func parseIssuer(n *yaml.Node, path string, inherit issuerPolicies, fileDefault *Policy) (issuerPolicies, error) {
	ps, err := pairs(n, path, "live", "shadow")
	if err != nil {
		return inherit, err
	}
	out := inherit
	name := strings.TrimPrefix(path, "issuers.")
	for _, p := range ps {
		pol, err := parsePolicy(p.v, join(path, p.key), name+"/"+p.key, fileDefault)
		if err != nil {
			return inherit, err
		}
		if p.key == "live" {
			out.live = pol
		} else {
			out.shadow = pol
		}
	}
	return out, nil
}

// parsePolicy reads one policy: name, extends, thresholds and rules.
func parsePolicy(n *yaml.Node, path, name string, fileDefault *Policy) (*Policy, error) {
	ps, err := pairs(n, path, "name", "extends", "frictionless_below", "deny_above", "rules")
	if err != nil {
		return nil, err
	}
	p := emptyPolicy(name)
	for _, kv := range ps {
		if kv.key != "extends" {
			continue
		}
		switch kv.v.Value {
		case "builtin":
			p = builtinPolicy(name)
		case "default":
			cp := *fileDefault
			p = &cp
			p.name = name
		default:
			return nil, errAt(kv.v, join(path, "extends"), "want builtin or default, got %q", kv.v.Value)
		}
	}
	t1, t2 := p.frictionlessBelow, p.denyAbove
	for _, kv := range ps {
		key := join(path, kv.key)
		switch kv.key {
		case "name":
			if kv.v.Kind != yaml.ScalarNode || kv.v.Value == "" {
				return nil, errAt(kv.v, key, "want a non-empty name")
			}
			p.name = kv.v.Value
		case "frictionless_below":
			if t1, err = intIn(kv.v, key, 1, 1000); err != nil {
				return nil, err
			}
		case "deny_above":
			if t2, err = intIn(kv.v, key, 1, 1000); err != nil {
				return nil, err
			}
		case "rules":
			if err := parseRules(kv.v, key, p); err != nil {
				return nil, err
			}
		}
	}
	if t2 < t1 {
		return nil, errAt(n, path, "deny_above (%d) must not be below frictionless_below (%d)", t2, t1)
	}
	p.frictionlessBelow, p.denyAbove = t1, t2
	return p, nil
}

// parseRules reads the rules mapping. A listed rule is on unless it says enabled: false; the
// parameters it leaves out keep the value of the policy it extends, or the built-in default.
func parseRules(n *yaml.Node, path string, p *Policy) error {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	ps, err := pairs(n, path)
	if err != nil {
		return err
	}
	for _, kv := range ps {
		i := ruleIndex(kv.key)
		key := join(path, kv.key)
		if i < 0 {
			return errAt(kv.k, key, "unknown rule (known rules: %s)", strings.Join(RuleNames(), ", "))
		}
		d := &ruleDefs[i]
		c := d.def
		if p.rules[i].On {
			c = p.rules[i]
		}
		c.On = true
		if kv.v.Kind == yaml.ScalarNode && kv.v.Tag == "!!null" {
			p.rules[i] = c
			continue
		}
		allowed := []string{"enabled", "points"}
		if d.param != "" {
			allowed = append(allowed, d.param)
		}
		if d.list != "" {
			allowed = append(allowed, d.list)
		}
		params, err := pairs(kv.v, key, allowed...)
		if err != nil {
			return err
		}
		for _, pv := range params {
			pkey := join(key, pv.key)
			switch pv.key {
			case "enabled":
				if err := pv.v.Decode(&c.On); err != nil || pv.v.Kind != yaml.ScalarNode {
					return errAt(pv.v, pkey, "want true or false, got %q", pv.v.Value)
				}
			case "points":
				pts, err := intIn(pv.v, pkey, -1000, 1000)
				if err != nil {
					return err
				}
				c.Points = int(pts)
			case d.list:
				if c.List, err = codeList(pv.v, pkey, listDigits(d.list)); err != nil {
					return err
				}
			default: // d.param
				lo, hi := paramRange(d.param)
				v, err := intIn(pv.v, pkey, lo, hi)
				if err != nil {
					return err
				}
				c.N = int64(v)
			}
		}
		p.rules[i] = c
	}
	return nil
}

// paramRange bounds each kind of numeric parameter, so that no policy can overflow a rule's
// arithmetic or set a threshold that cannot mean anything.
func paramRange(param string) (lo, hi int) {
	switch param {
	case "multiple_of_usual":
		return 1, 1000
	case "within_days":
		return 1, 3650
	case "within_minutes":
		return 1, 1440
	default: // "over": counts and amounts in major units
		return 0, 1_000_000_000
	}
}

func intIn(n *yaml.Node, key string, lo, hi int) (int, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, errAt(n, key, "want a whole number")
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		return 0, errAt(n, key, "want a whole number, got %q", n.Value)
	}
	if v < lo || v > hi {
		return 0, errAt(n, key, "%d is out of range %d to %d", v, lo, hi)
	}
	return v, nil
}

// listDigits is the length of the codes of each kind of list: merchant category codes have four
// digits, the protocol's status sources two.
func listDigits(list string) int {
	if list == "sources" {
		return 2
	}
	return 4
}

// codeList reads a list of codes of the given number of digits, quoted or not.
func codeList(n *yaml.Node, key string, digits int) ([]string, error) {
	word := map[int]string{2: "two", 4: "four"}[digits]
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n, key, "want a list of %s-digit codes", word)
	}
	out := make([]string, 0, len(n.Content))
	for _, e := range n.Content {
		e = deref(e)
		if _, ok := atoi(e.Value); e.Kind != yaml.ScalarNode || len(e.Value) != digits || !ok {
			return nil, errAt(e, key, "want a %s-digit code, got %q", word, e.Value)
		}
		out = append(out, e.Value)
	}
	return out, nil
}
