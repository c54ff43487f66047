package payer

import (
	"context"
	"sort"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// Report is the prior-authorization outcome report (GET /api/reports/authorizations):
// denial and overturn rates by payer, by CPT code and by the payer's denial reason.
type Report struct {
	// Orders is how many orders were read; Truncated says the store holds more than
	// store.MaxLimit, of which the newest were read.
	Orders    int  `json:"orders"`
	Truncated bool `json:"truncated,omitempty"`
	// Decided counts the cases a payer decided, first time round.
	Decided  int      `json:"decided"`
	Denied   int      `json:"denied"`
	ByPayer  []Rates  `json:"by_payer"`
	ByCPT    []Rates  `json:"by_cpt"`
	ByReason []Reason `json:"by_reason"`
}

// Rates are the outcomes of the cases of one payer or CPT code. A case counts as
// decided once the payer decided it (approved, partially approved or denied, whatever
// became of the denial), as denied when it was denied (an appealed, overturned or
// upheld case was), and as overturned or upheld by its appeal's outcome.
type Rates struct {
	Key        string `json:"key"`
	Decided    int    `json:"decided"`
	Denied     int    `json:"denied"`
	Appealed   int    `json:"appealed"`
	Overturned int    `json:"overturned"`
	Upheld     int    `json:"upheld"`
	// DenialRate is Denied / Decided; OverturnRate Overturned / (Overturned + Upheld),
	// the appeals decided. Zero when there is nothing to divide.
	DenialRate   float64 `json:"denial_rate"`
	OverturnRate float64 `json:"overturn_rate"`
}

// Reason counts the denials given one reason ("" when the payer gave none) and what
// their appeals achieved.
type Reason struct {
	Reason       string  `json:"reason"`
	Denied       int     `json:"denied"`
	Appealed     int     `json:"appealed"`
	Overturned   int     `json:"overturned"`
	Upheld       int     `json:"upheld"`
	OverturnRate float64 `json:"overturn_rate"`
}

// Report reads the orders (the newest store.MaxLimit) and counts their cases.
func (s *Service) Report(ctx context.Context) (Report, error) {
	var list []*order.Order
	var total int
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		list, total, err = tx.Orders(store.OrderQuery{Limit: store.MaxLimit})
		return err
	})
	if err != nil {
		return Report{}, err
	}
	r := Report{Orders: len(list), Truncated: total > len(list)}
	payers, cpts, reasons := map[string]*Rates{}, map[string]*Rates{}, map[string]*Reason{}
	for _, o := range list {
		a := o.Authorization
		decided, denied := caseCounts(a.Status)
		if !decided {
			continue
		}
		r.Decided++
		for _, rt := range []*Rates{rate(payers, payerKey(o)), rate(cpts, cptOf(o))} {
			rt.Decided++
			if denied {
				rt.Denied++
			}
			appealOutcome(a.Status, &rt.Appealed, &rt.Overturned, &rt.Upheld)
		}
		if !denied {
			continue
		}
		r.Denied++
		why := a.DecisionReason
		if a.Status != order.AuthDenied {
			why = a.DenialReason // the denial's reason, not the appeal's outcome's
		}
		rs := reasons[why]
		if rs == nil {
			rs = &Reason{Reason: why}
			reasons[why] = rs
		}
		rs.Denied++
		appealOutcome(a.Status, &rs.Appealed, &rs.Overturned, &rs.Upheld)
	}
	r.ByPayer, r.ByCPT = sorted(payers), sorted(cpts)
	r.ByReason = make([]Reason, 0, len(reasons))
	for _, rs := range reasons {
		rs.OverturnRate = ratio(rs.Overturned, rs.Overturned+rs.Upheld)
		r.ByReason = append(r.ByReason, *rs)
	}
	sort.Slice(r.ByReason, func(i, j int) bool {
		a, b := r.ByReason[i], r.ByReason[j]
		return a.Denied > b.Denied || a.Denied == b.Denied && a.Reason < b.Reason
	})
	return r, nil
}

// caseCounts says whether a case in status st was decided by its payer and whether it
// was denied.
func caseCounts(st order.AuthStatus) (decided, denied bool) {
	switch st {
	case order.AuthApproved, order.AuthPartiallyApproved:
		return true, false
	case order.AuthDenied, order.AuthAppealed, order.AuthOverturned, order.AuthUpheld:
		return true, true
	}
	return false, false
}

func appealOutcome(st order.AuthStatus, appealed, overturned, upheld *int) {
	switch st {
	case order.AuthAppealed:
		*appealed++
	case order.AuthOverturned:
		*appealed++
		*overturned++
	case order.AuthUpheld:
		*appealed++
		*upheld++
	}
}

// payerKey names an order's payer in reports: its profile, else the primary coverage's
// payer ID.
func payerKey(o *order.Order) string {
	if o.Authorization.Payer != "" {
		return o.Authorization.Payer
	}
	if len(o.Coverage) > 0 {
		return o.Coverage[0].Payer
	}
	return ""
}

func rate(m map[string]*Rates, key string) *Rates {
	r := m[key]
	if r == nil {
		r = &Rates{Key: key}
		m[key] = r
	}
	return r
}

func sorted(m map[string]*Rates) []Rates {
	out := make([]Rates, 0, len(m))
	for _, r := range m {
		r.DenialRate = ratio(r.Denied, r.Decided)
		r.OverturnRate = ratio(r.Overturned, r.Overturned+r.Upheld)
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}
