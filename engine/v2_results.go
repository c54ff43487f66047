package engine

import (
	"errors"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// resultsProcessor maps the results of an ORU^R01 outside the write transaction and
// returns the processor that matches each to its order. A result whose order is unknown
// is kept (the raw message is stored) and answered AE with ERR 204.
func (e *Engine) resultsProcessor(in *inbound) processor {
	results, mapIssues := mapping.ResultsFromV2(in.msg)
	return func(tx store.Tx, in *inbound, msgID string) (outcome, error) {
		out := outcome{code: hl7.AA, issues: append([]hl7.Issue(nil), mapIssues...)}
		if len(results) == 0 && !hasError(out.issues) {
			out.issues = append(out.issues, hl7.Issue{Location: hl7.Location{Segment: "OBR"}, Code: hl7.CodeRequiredField,
				Severity: hl7.SeverityError, Text: "the message holds no result (no OBR segment)"})
		}
		for _, r := range results {
			o, err := matchOrder(tx, r, in)
			obr := hl7.Location{Segment: "OBR", Occurrence: r.Occurrence, Field: 2}
			var key string
			if isCorrupt(err) {
				o, key, err = matchOrderCorrupt(tx, r, in, err)
			}
			if isCorrupt(err) { // the order it belongs to cannot be read: quarantined
				out.issues = append(out.issues, corruptIssue(obr, "a stored order with placer number "+quoteOr(r.Placer, "(none)")))
				out.quarantined = append(out.quarantined, Quarantined{Kind: "order", Key: key, Error: err.Error()})
				continue
			}
			if err != nil {
				return outcome{}, err
			}
			if o == nil {
				out.issues = append(out.issues, hl7.Issue{Location: obr, Code: hl7.CodeUnknownKey, Severity: hl7.SeverityError,
					Text: "no order matches placer number " + quoteOr(r.Placer, "(none)") + " / filler number " + quoteOr(r.Filler, "(none)") + "; the result is kept"})
				continue
			}
			res := r.Result
			if res.Status == "" {
				continue // the mapping could not read OBR-25, and said so: the result is kept, not added
			}
			res.MessageID = msgID
			if err := o.AddResult(res, in.at, msgID); err != nil {
				obr.Field = 25
				out.issues = append(out.issues, hl7.Issue{Location: obr, Code: hl7.CodeTableValue, Severity: hl7.SeverityError, Text: explain(err)})
				continue
			}
			if o.Filler == "" {
				o.Filler = r.Filler
			}
			if err := tx.PutOrder(o); err != nil {
				return outcome{}, err
			}
			dests, err := e.EnqueueResult(tx, o, res, in.at)
			if err != nil {
				return outcome{}, err
			}
			out.notify = append(out.notify, dests...)
			out.orderIDs = append(out.orderIDs, o.ID)
		}
		if hasError(out.issues) {
			out.code = hl7.AE
		}
		return out, nil
	}
}

// matchOrderCorrupt matches a result when one of the orders with its placer number
// cannot be read (err): the order from the facility the result is addressed to is
// looked up by its key, and used when it reads. Otherwise it returns the error of the
// unreadable order and the key it was looked up by.
func matchOrderCorrupt(tx store.ReadTx, r mapping.V2Result, in *inbound, err error) (*order.Order, string, error) {
	to := firstComponent(in.header.ReceivingFacility, in.header.Delims)
	key := (&order.Order{Source: order.Source{Kind: order.SourceV2, SendingFacility: to}, Placer: r.Placer}).Key()
	if to == "" || key == "" {
		return nil, "placer " + r.Placer, err
	}
	o, kerr := tx.OrderByKey(key)
	switch {
	case kerr == nil:
		return o, "", nil
	case errors.Is(kerr, store.ErrNotFound):
		return nil, "placer " + r.Placer, err
	}
	return nil, key, kerr
}

// matchOrder finds the order a result belongs to: by placer number, preferring the
// order whose sender is the facility the result is addressed to (the ORU's MSH-6) and
// then one with the same filler number; nil when there is none.
func matchOrder(tx store.ReadTx, r mapping.V2Result, in *inbound) (*order.Order, error) {
	if r.Placer == "" {
		return nil, nil
	}
	cands, _, err := tx.Orders(store.OrderQuery{Placer: r.Placer, Limit: store.MaxLimit})
	if err != nil || len(cands) == 0 {
		return nil, err
	}
	to := firstComponent(in.header.ReceivingFacility, in.header.Delims)
	best, score := cands[0], -1
	for _, o := range cands {
		s := 0
		if to != "" && o.Source.SendingFacility == to {
			s += 2
		}
		if r.Filler != "" && o.Filler == r.Filler {
			s++
		}
		if s > score {
			best, score = o, s
		}
	}
	return best, nil
}
