package rules

import (
	"strings"

	"github.com/radbridge/radbridge/order"
)

// The weights of the match keys: a plan names fewer members than a payer, a payer
// fewer than a plan type, so a profile for the plan wins over one for the payer.
const (
	weightPlanID   = 4
	weightPayerID  = 2
	weightPlanType = 1
)

// matchWeight is how specifically the profile matches the coverage: 0 for no match.
// A profile without Match matches by ID, as a plan ID and then as a payer ID.
func (py *payer) matchWeight(c *order.Coverage) int {
	m := py.match
	if m == (Match{}) {
		switch {
		case eqFold(py.id, c.Plan):
			return weightPlanID
		case eqFold(py.id, c.Payer):
			return weightPayerID
		}
		return 0
	}
	w := 0
	for _, k := range [...]struct {
		want, got string
		weight    int
	}{{m.PlanID, c.Plan, weightPlanID}, {m.PayerID, c.Payer, weightPayerID}, {m.PlanType, c.PlanType, weightPlanType}} {
		if k.want == "" {
			continue
		}
		if !eqFold(k.want, k.got) {
			return 0
		}
		w += k.weight
	}
	return w
}

// eqFold compares a configured value with an order's, ignoring case and the order
// value's surrounding space; an empty order value matches nothing.
func eqFold(want, got string) bool {
	got = strings.TrimSpace(got)
	return got != "" && strings.EqualFold(want, got)
}

// coveragePayer finds the payer profile of the primary coverage: the one matching it
// most specifically, the first listed among equals; nil when none matches or the order
// has no coverage.
func (c *Checker) coveragePayer(cov []order.Coverage) *payer {
	if len(cov) == 0 {
		return nil
	}
	var best *payer
	bestW := 0
	for _, py := range c.payers {
		if w := py.matchWeight(&cov[0]); w > bestW {
			best, bestW = py, w
		}
	}
	return best
}

// trimMatch trims the match keys of a profile.
func trimMatch(m Match) Match {
	return Match{PayerID: strings.TrimSpace(m.PayerID), PlanID: strings.TrimSpace(m.PlanID), PlanType: strings.TrimSpace(m.PlanType)}
}
