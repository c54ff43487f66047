package engine

import (
	"context"
	"errors"
	"strings"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// ordersProcessor maps and checks the orders of an ORM/OMI/OML message outside the write
// transaction, and returns the processor that applies them to the stored orders.
func (e *Engine) ordersProcessor(ctx context.Context, in *inbound) processor {
	vos, mapIssues := mapping.FromV2(in.msg)
	preps := make([]prepared, len(vos))
	for i, vo := range vos {
		preps[i] = e.prepare(ctx, vo, in)
	}
	return func(tx store.Tx, in *inbound, msgID string) (outcome, error) {
		out := outcome{code: hl7.AA, issues: append([]hl7.Issue(nil), mapIssues...)}
		if len(vos) == 0 && !hasError(out.issues) {
			out.issues = append(out.issues, hl7.Issue{Location: hl7.Location{Segment: "ORC"}, Code: hl7.CodeRequiredField,
				Severity: hl7.SeverityError, Text: "the message holds no order (no ORC segment)"})
		}
		for _, p := range preps {
			o, issues, notify, err := e.applyOrder(tx, p, in, msgID)
			if isCorrupt(err) { // the stored order cannot be read: quarantined, the others go on
				out.issues = append(out.issues, corruptIssue(hl7.Location{Segment: "ORC", Occurrence: p.vo.Occurrence.ORC, Field: 2},
					"the stored order for placer number "+quoteOr(p.vo.Order.Placer, "(none)")+" from this sender"))
				out.quarantined = append(out.quarantined, Quarantined{Kind: "order", Key: p.vo.Order.Key(), Error: err.Error()})
				continue
			}
			if err != nil {
				return outcome{}, err
			}
			out.issues = append(out.issues, issues...)
			out.notify = append(out.notify, notify...)
			if o != nil {
				out.orderIDs = append(out.orderIDs, o.ID)
				for _, f := range o.Findings {
					out.findings = append(out.findings, Finding{OrderID: o.ID, Finding: f, At: FindingLocation(f, p.vo.Occurrence)})
				}
			}
		}
		if hasError(out.issues) {
			out.code = hl7.AE
		}
		return out, nil
	}
}

// prepared is a mapped order, checked, and when its control code begins an order (NW,
// RO) the new order it makes, prepared for admission before the transaction, so that
// the serialized commit only writes it.
type prepared struct {
	vo    mapping.V2Order
	code  string    // ORC-1, upper case; NW when absent
	fresh *NewOrder // the new order; nil when the code does not begin one, or err is set
	err   error     // why the code cannot begin the order
}

// isNew reports whether the control code begins an order.
func (p prepared) isNew() bool { return p.code == "NW" || p.code == "RO" }

func (e *Engine) prepare(ctx context.Context, vo mapping.V2Order, in *inbound) prepared {
	p := prepared{vo: vo, code: strings.ToUpper(vo.Control.Code)}
	if p.code == "" {
		p.code = "NW"
	}
	if !p.isNew() {
		e.Verify(ctx, vo.Order, in.at)
		e.check.Check(vo.Order, in.at) // an update: checked as it will replace the stored data
		return p
	}
	p.fresh, p.err = e.PrepareNew(ctx, vo.Order.Clone(), order.Control{Code: p.code, Filler: vo.Control.Filler}, order.Control{}, in.at, in.msgID)
	return p
}

// applyOrder applies one mapped order: a new one is admitted, a change is applied to
// the stored order with the same key. It returns the order as stored (nil when nothing
// was stored), the issues to report and the delivery destinations to notify after the
// commit.
func (e *Engine) applyOrder(tx store.Tx, p prepared, in *inbound, msgID string) (*order.Order, []hl7.Issue, []string, error) {
	vo, code := p.vo, p.code
	orc := hl7.Location{Segment: "ORC", Occurrence: vo.Occurrence.ORC, Field: 1}
	var cur *order.Order
	switch {
	case p.isNew() && p.err != nil:
		return nil, []hl7.Issue{controlIssue(orc, p.err)}, nil, nil
	case p.isNew():
		err := p.fresh.Admit(tx)
		var dup *DuplicateError
		switch {
		case err == nil:
			return p.fresh.Order, findingIssues(p.fresh.Order, vo.Occurrence), p.fresh.Queued(), nil
		case !errors.As(err, &dup):
			return nil, nil, nil, err
		case in.reprocessOf == "" || dup.Existing.Source.MessageID != in.reprocessOf:
			orc.Field = 2
			return nil, []hl7.Issue{{Location: orc, Code: hl7.CodeDuplicateKey, Severity: hl7.SeverityError,
				Text: "ORC-1 " + code + ": this sender already has an order with placer number " + quoteOr(vo.Order.Placer, "(none)") +
					" (" + dup.Existing.ID + ", " + string(dup.Existing.Status) + "); it was not changed: send ORC-1 XO to change it"}}, nil, nil
		}
		// Reprocessing the message that created the order revises it, as an XO does.
		cur, code = dup.Existing, "XO"
		vo.Order = vo.Order.Clone()
		vo.Order.Eligibility = p.fresh.Order.Eligibility // asked in PrepareNew: no I/O in the transaction
		e.check.Check(vo.Order, in.at)
	default:
		key := vo.Order.Key()
		if key == "" {
			break
		}
		var err error
		if cur, err = tx.OrderByKey(key); errors.Is(err, store.ErrNotFound) {
			cur = nil
		} else if err != nil {
			return nil, nil, nil, err
		}
	}
	inc := vo.Order.Clone() // the transaction may run again: never change vo
	inc.Source.MessageID = msgID
	var o *order.Order
	var was order.Status
	var had order.Authorization
	if cur != nil {
		was, had = cur.Status, cur.Authorization
	}
	switch {
	case cur == nil:
		orc.Field = 2
		return nil, []hl7.Issue{{Location: orc, Code: hl7.CodeUnknownKey, Severity: hl7.SeverityError,
			Text: "ORC-1 " + code + ": there is no order with placer number " + quoteOr(inc.Placer, "(none)") + " from this sender"}}, nil, nil
	case code == "XO":
		o = Merge(cur, inc)
		if err := o.ApplyControl(order.Control{Code: "XO", Filler: vo.Control.Filler}, in.at, msgID); err != nil {
			return nil, []hl7.Issue{controlIssue(orc, err)}, nil, nil
		}
	default:
		o = cur
		if err := o.ApplyControl(vo.Control, in.at, msgID); err != nil {
			return nil, []hl7.Issue{controlIssue(orc, err)}, nil, nil
		}
	}
	if o.Status == order.StatusReceived {
		if err := o.Settle(in.at, "", msgID); err != nil {
			return nil, nil, nil, err
		}
	}
	notify, err := e.FollowAuthorization(tx, o, was, had, in.at)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := tx.PutOrder(o); err != nil {
		return nil, nil, nil, err
	}
	return o, findingIssues(o, vo.Occurrence), notify, nil
}

// Merge returns the incoming order's data on the stored order's identity: its ID (and
// its ServiceRequest's), lifecycle, results, and its authorization case with any
// decision already recorded (order.Authorization.Keep).
func Merge(cur, inc *order.Order) *order.Order {
	o := inc
	o.ID, o.Status, o.History, o.Results, o.Created, o.Updated = cur.ID, cur.Status, cur.History, cur.Results, cur.Created, cur.Updated
	o.Source.MessageID, o.Source.ResourceID = cur.Source.MessageID, cur.Source.ResourceID
	if o.Filler == "" {
		o.Filler = cur.Filler
	}
	if o.Accession == "" {
		o.Accession = cur.Accession
	}
	o.Authorization.Keep(cur.Authorization)
	return o
}

// findingIssues turns the order's check findings into ERR entries located in the
// order's own segment group.
func findingIssues(o *order.Order, occ mapping.Occurrence) []hl7.Issue {
	var out []hl7.Issue
	for _, f := range o.Findings {
		out = append(out, hl7.Issue{Location: FindingLocation(f, occ), Code: findingCode(f), Severity: severity(f.Severity), Text: f.Text})
	}
	return out
}

// FindingLocation is where a finding points in the v2 message the order came from, e.g.
// "OBR(2)-4" for the second order of a message.
func FindingLocation(f order.Finding, occ mapping.Occurrence) hl7.Location {
	loc, err := hl7.ParsePath(f.Location)
	if err != nil {
		return hl7.Location{}
	}
	return occ.Locate(loc)
}

// findingCode is the HL7 table 0357 code of a finding's class: 101 for a missing
// element, 102 for a malformed one, 103 for an unknown code, none for a note.
func findingCode(f order.Finding) int {
	switch f.Kind() {
	case order.FindingInvalid:
		return hl7.CodeDataType
	case order.FindingUnknown:
		return hl7.CodeTableValue
	case order.FindingInformational:
		return 0
	}
	return hl7.CodeRequiredField
}

func severity(s order.Severity) hl7.Severity {
	switch s {
	case order.SeverityError:
		return hl7.SeverityError
	case order.SeverityWarning:
		return hl7.SeverityWarning
	}
	return hl7.SeverityInformation
}

// controlIssue is the ERR for a control code the lifecycle refused, in the words the
// order package has for the sender (order.Explain).
func controlIssue(loc hl7.Location, err error) hl7.Issue {
	code := hl7.CodeInternal
	if errors.Is(err, order.ErrUnknownControlCode) || errors.Is(err, order.ErrUnknownOrderStatus) {
		code = hl7.CodeTableValue
	}
	return hl7.Issue{Location: loc, Code: code, Severity: hl7.SeverityError, Text: explain(err)}
}

// explain is the text for a sender of an error of the order lifecycle; any other error
// is the engine's own failure, which the sender can only report.
func explain(err error) string {
	if s := order.Explain(err); s != "" {
		return s
	}
	return "The order could not be processed (internal error): send the message again, or report it."
}

func hasError(issues []hl7.Issue) bool {
	for _, is := range issues {
		if is.Severity == hl7.SeverityError || is.Severity == 0 {
			return true
		}
	}
	return false
}

func quoteOr(s, empty string) string {
	if s == "" {
		return empty
	}
	return `"` + s + `"`
}
