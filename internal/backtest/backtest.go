package backtest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/risk"
)

// ErrUnknownIssuer is Run's error for an Options.Issuer the store does not have.
var ErrUnknownIssuer = errors.New("backtest: unknown issuer")

// Source is what a backtest reads: the issuers (for the policy each runs) and the stored risk
// inputs. acs.SQLStore is one.
type Source interface {
	Issuers(ctx context.Context) ([]acs.Issuer, error)
	Replays(ctx context.Context, q acs.ReplayQuery, fn func(acs.Replay) error) error
}

// Options say what to replay and through which rules.
type Options struct {
	// Rules is the new rule set; each issuer's live policy in it decides the "new" outcome (its
	// shadow policy, if any, is not used).
	Rules *risk.Set
	// RulesName names the rule file in the report.
	RulesName    string
	Since, Until time.Time
	// Issuer limits the replay to one issuer; "" replays all.
	Issuer string
}

// Counts are one group's numbers. Live is what the ACS's risk engine decided when the AReq came;
// New is what the new rules decide on the same input.
type Counts struct {
	Transactions     int `json:"transactions"`
	FrictionlessLive int `json:"frictionlessLive"`
	FrictionlessNew  int `json:"frictionlessNew"`
	ChallengeLive    int `json:"challengeLive"`
	ChallengeNew     int `json:"challengeNew"`
	DenyLive         int `json:"denyLive"`
	DenyNew          int `json:"denyNew"`
	// Fraud counts the transactions a fraud report names; CaughtLive and CaughtNew those of them
	// that were (or would be) challenged or denied.
	Fraud      int `json:"fraud"`
	CaughtLive int `json:"fraudCaughtLive"`
	CaughtNew  int `json:"fraudCaughtNew"`
	// NewlyChallenged counts purchases no fraud report names that went through frictionless live
	// and that the new rules challenge or deny: the friction the change costs good customers.
	NewlyChallenged int `json:"goodNewlyChallenged"`
	// Changed counts the transactions whose outcome the new rules change.
	Changed int `json:"changed"`
}

// FrictionlessRate is the share (0–1) of frictionless outcomes, live or new.
func (c Counts) FrictionlessRate(live bool) float64 {
	if c.Transactions == 0 {
		return 0
	}
	if live {
		return float64(c.FrictionlessLive) / float64(c.Transactions)
	}
	return float64(c.FrictionlessNew) / float64(c.Transactions)
}

func (c *Counts) add(live, next string, fraud bool) {
	c.Transactions++
	stopped := func(o string) bool { return o == acs.Challenge || o == acs.Deny }
	for _, x := range []struct {
		o          string
		f, ch, den *int
	}{{live, &c.FrictionlessLive, &c.ChallengeLive, &c.DenyLive}, {next, &c.FrictionlessNew, &c.ChallengeNew, &c.DenyNew}} {
		switch x.o {
		case acs.Frictionless:
			*x.f++
		case acs.Challenge:
			*x.ch++
		case acs.Deny:
			*x.den++
		}
	}
	if live != next {
		c.Changed++
	}
	if fraud {
		c.Fraud++
		if stopped(live) {
			c.CaughtLive++
		}
		if stopped(next) {
			c.CaughtNew++
		}
	} else if live == acs.Frictionless && stopped(next) {
		c.NewlyChallenged++
	}
}

// Group is one row of the report: an issuer, a BIN or a day, and its counts.
type Group struct {
	Key string `json:"key"`
	Counts
}

// Report is a backtest's result.
type Report struct {
	Rules     string    `json:"rules"`
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	Issuer    string    `json:"issuer,omitempty"`
	Generated time.Time `json:"generated"`
	Total     Counts    `json:"total"`
	Issuers   []Group   `json:"issuers"`
	BINs      []Group   `json:"bins"`
	Days      []Group   `json:"days"`
}

// BIN is the first six digits of a masked PAN: all that the ACS keeps in clear.
func BIN(masked string) string {
	if len(masked) < 6 {
		return masked
	}
	return masked[:6]
}

// Run replays every stored risk input in the window through o.Rules, beside the stored live
// outcome, and counts the two by issuer, by BIN and by day (UTC).
func Run(ctx context.Context, src Source, o Options, now time.Time) (*Report, error) {
	if o.Rules == nil {
		return nil, errors.New("backtest: no rules")
	}
	if !o.Until.After(o.Since) {
		return nil, fmt.Errorf("backtest: the window ends (%s) before it starts (%s)", o.Until.Format(time.RFC3339), o.Since.Format(time.RFC3339))
	}
	issuers, err := src.Issuers(ctx)
	if err != nil {
		return nil, err
	}
	policy := map[string]string{}
	for _, is := range issuers {
		policy[is.ID] = is.RiskPolicy
	}
	if o.Issuer != "" {
		if _, ok := policy[o.Issuer]; !ok {
			return nil, fmt.Errorf("%w: no issuer %q in the ACS store", ErrUnknownIssuer, o.Issuer)
		}
	}
	engine := acs.Risk(o.Rules)
	rep := &Report{Rules: o.RulesName, Since: o.Since.UTC(), Until: o.Until.UTC(), Issuer: o.Issuer, Generated: now.UTC()}
	byIssuer, byBIN, byDay := map[string]*Counts{}, map[string]*Counts{}, map[string]*Counts{}
	count := func(m map[string]*Counts, k string) *Counts {
		c := m[k]
		if c == nil {
			c = &Counts{}
			m[k] = c
		}
		return c
	}
	err = src.Replays(ctx, acs.ReplayQuery{Since: o.Since, Until: o.Until, Issuer: o.Issuer}, func(r acs.Replay) error {
		// The policy name is the issuer's as it is now; an issuer since removed is looked up by its
		// id, which is the name an issuer gets unless it was given another.
		name, ok := policy[r.IssuerID]
		if !ok {
			name = r.IssuerID
		}
		next, _ := engine.Evaluate(name, r.Input)
		fraud := r.FraudType != ""
		rep.Total.add(r.LiveDecision, next.Outcome, fraud)
		count(byIssuer, r.IssuerID).add(r.LiveDecision, next.Outcome, fraud)
		count(byBIN, BIN(r.MaskedPAN)).add(r.LiveDecision, next.Outcome, fraud)
		count(byDay, r.CreatedAt.UTC().Format(time.DateOnly)).add(r.LiveDecision, next.Outcome, fraud)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.Issuers, rep.BINs, rep.Days = groups(byIssuer), groups(byBIN), groups(byDay)
	return rep, nil
}

func groups(m map[string]*Counts) []Group {
	out := make([]Group, 0, len(m))
	for k, c := range m {
		out = append(out, Group{Key: k, Counts: *c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
