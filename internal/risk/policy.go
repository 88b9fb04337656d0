package risk

// Policy is one compiled policy: thresholds and the configuration of every rule. Policies are
// immutable once built, so a Set can hand them to many goroutines at once.
type Policy struct {
	name string
	// frictionlessBelow is T1: scores below it are frictionless. denyAbove is T2: scores above it
	// are denied; the scores between are challenged.
	frictionlessBelow, denyAbove int
	rules                        [numRules]ruleConfig
}

// Built-in thresholds, also used by a policy file that does not set them.
const (
	defaultFrictionlessBelow = 300
	defaultDenyAbove         = 700
)

// builtinPolicy is the default policy: every rule on with the values in ruleDefs.
func builtinPolicy(name string) *Policy {
	p := &Policy{name: name, frictionlessBelow: defaultFrictionlessBelow, denyAbove: defaultDenyAbove}
	for i := range ruleDefs {
		p.rules[i] = ruleDefs[i].def
	}
	return p
}

// emptyPolicy has the built-in thresholds and no rule on; a policy file without "extends"
// starts from it, so that the rules it lists are exactly the rules that run.
func emptyPolicy(name string) *Policy {
	return &Policy{name: name, frictionlessBelow: defaultFrictionlessBelow, denyAbove: defaultDenyAbove}
}

// Name is the policy's name as the file gives it (or a name derived from its place in the file);
// results carry it in Result.Policy.
func (p *Policy) Name() string { return p.name }

// Thresholds returns T1 and T2: scores below frictionlessBelow are frictionless, scores above
// denyAbove are denied, the rest are challenged.
func (p *Policy) Thresholds() (frictionlessBelow, denyAbove int) {
	return p.frictionlessBelow, p.denyAbove
}

// Evaluate scores one input against this policy alone.
func (p *Policy) Evaluate(in Input) Result { return p.evaluate(&in) }

// RuleNames lists every rule the engine knows, in evaluation order.
func RuleNames() []string {
	names := make([]string, len(ruleDefs))
	for i := range ruleDefs {
		names[i] = ruleDefs[i].name
	}
	return names
}
