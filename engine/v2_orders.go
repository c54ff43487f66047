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
		e.check.Check(vo.Order, in.at)
		preps[i] = e.prepare(ctx, vo, in)
	}
	return func(tx store.Tx, in *inbound, msgID string) (outcome, error) {
		out := outcome{code: hl7.AA, issues: append([]hl7.Issue(nil), mapIssues...)}
		if len(vos) == 0 && !hasError(out.issues) {
			out.issues = append(out.issues, hl7.Issue{Location: hl7.Location{Segment: "ORC"}, Code: hl7.CodeRequiredField,
				Severity: hl7.SeverityError, Text: "the message holds no order (no ORC segment)"})
		}
		for _, p := range preps {
			o, issues, err := e.applyOrder(tx, p, in, msgID)
			if err != nil {
				return outcome{}, err
			}
			out.issues = append(out.issues, issues...)
			if o != nil {
				out.orderIDs = append(out.orderIDs, o.ID)
			}
		}
		if hasError(out.issues) {
			out.code = hl7.AE
		}
		return out, nil
	}
}

// prepared is a mapped order and, when its control code creates orders (NW, RO, SN),
// the new order it makes if none exists yet: lifecycle applied, findings located, JSON
// encoded, all before the transaction, so that the serialized commit only writes it.
type prepared struct {
	vo     mapping.V2Order
	code   string       // ORC-1, upper case; NW when absent
	fresh  *order.Order // the order as new; nil when the code does not create orders
	data   []byte       // fresh, encoded
	issues []hl7.Issue  // fresh's findings, or why the code cannot create it
}

// orderJSONSize is the capacity of the buffer an order is encoded into: a typical
// order (about 1.5 KB of JSON) fits without the buffer growing.
const orderJSONSize = 2048

func (e *Engine) prepare(ctx context.Context, vo mapping.V2Order, in *inbound) prepared {
	p := prepared{vo: vo, code: strings.ToUpper(vo.Control.Code)}
	if p.code == "" {
		p.code = "NW"
	}
	if p.code != "NW" && p.code != "RO" && p.code != "SN" {
		return p
	}
	id, err := e.store.ReserveID(ctx, store.KindOrder)
	if err != nil {
		return p // the transaction takes the general path, where the order gets its ID
	}
	o := vo.Order.Clone()
	o.ID = id
	o.Source.MessageID = in.msgID
	if err := o.ApplyControl(order.Control{Code: p.code, Filler: vo.Control.Filler}, in.at, in.msgID); err != nil {
		p.issues = []hl7.Issue{controlIssue(hl7.Location{Segment: "ORC", Occurrence: vo.Occurrence.ORC, Field: 1}, err)}
		return p
	}
	if o.Status == order.StatusReceived {
		if err := o.Settle(in.at, "", in.msgID); err != nil {
			return prepared{vo: vo, code: p.code} // the transaction takes the general path and reports it
		}
	}
	data, err := o.AppendJSON(make([]byte, 0, orderJSONSize))
	if err != nil {
		return prepared{vo: vo, code: p.code}
	}
	p.fresh, p.data, p.issues = o, data, findingIssues(o, vo.Occurrence)
	return p
}

// applyOrder applies one mapped order to the stored one with the same key. It returns
// the order as stored (nil when nothing was stored) and the issues to report.
func (e *Engine) applyOrder(tx store.Tx, p prepared, in *inbound, msgID string) (*order.Order, []hl7.Issue, error) {
	vo, code := p.vo, p.code
	key := vo.Order.Key()
	cur, err := tx.OrderByKey(key)
	switch {
	case errors.Is(err, store.ErrNotFound) || key == "":
		cur = nil
	case err != nil:
		return nil, nil, err
	}
	if cur == nil && p.fresh != nil {
		if err := tx.PutOrderJSON(p.fresh, p.data); err != nil {
			return nil, nil, err
		}
		return p.fresh, p.issues, nil
	}
	if cur == nil && p.issues != nil {
		return nil, p.issues, nil
	}
	inc := vo.Order.Clone() // the transaction may run again: never change vo
	inc.Source.MessageID = msgID
	orc := hl7.Location{Segment: "ORC", Occurrence: vo.Occurrence.ORC, Field: 1}
	var o *order.Order
	switch {
	case cur == nil && (code == "NW" || code == "RO" || code == "SN"):
		o = inc
		if err := o.ApplyControl(order.Control{Code: code, Filler: vo.Control.Filler}, in.at, msgID); err != nil {
			return nil, []hl7.Issue{controlIssue(orc, err)}, nil
		}
	case cur == nil:
		orc.Field = 2
		return nil, []hl7.Issue{{Location: orc, Code: hl7.CodeUnknownKey, Severity: hl7.SeverityError,
			Text: "ORC-1 " + code + ": there is no order with placer number " + quoteOr(inc.Placer, "(none)") + " from this sender"}}, nil
	case code == "NW" || code == "XO":
		o = merge(cur, inc)
		if err := o.ApplyControl(order.Control{Code: "XO", Filler: vo.Control.Filler}, in.at, msgID); err != nil {
			if code == "NW" {
				orc.Field = 2
				return nil, []hl7.Issue{{Location: orc, Code: hl7.CodeDuplicateKey, Severity: hl7.SeverityError,
					Text: "order " + inc.Placer + " already exists (" + cur.ID + ", " + string(cur.Status) + ") and cannot be replaced"}}, nil
			}
			return nil, []hl7.Issue{controlIssue(orc, err)}, nil
		}
	default:
		o = cur
		if err := o.ApplyControl(vo.Control, in.at, msgID); err != nil {
			return nil, []hl7.Issue{controlIssue(orc, err)}, nil
		}
	}
	if o.Status == order.StatusReceived {
		if err := o.Settle(in.at, "", msgID); err != nil {
			return nil, nil, err
		}
	}
	if err := tx.PutOrder(o); err != nil {
		return nil, nil, err
	}
	return o, findingIssues(o, vo.Occurrence), nil
}

// merge returns the incoming order's data on the stored order's identity: its ID,
// lifecycle, results and any authorization decision already recorded.
func merge(cur, inc *order.Order) *order.Order {
	o := inc
	o.ID, o.Status, o.History, o.Results, o.Created, o.Updated = cur.ID, cur.Status, cur.History, cur.Results, cur.Created, cur.Updated
	o.Source.MessageID = cur.Source.MessageID
	if o.Filler == "" {
		o.Filler = cur.Filler
	}
	if o.Accession == "" {
		o.Accession = cur.Accession
	}
	if d := cur.Authorization; (d.Status == order.AuthApproved || d.Status == order.AuthDenied) && o.Authorization.Number == "" {
		o.Authorization.Status, o.Authorization.Number, o.Authorization.Decided = d.Status, d.Number, d.Decided
	}
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

// findingCode chooses the HL7 table 0357 code for a finding: a missing element is 101,
// a malformed one 102, an unknown code 103.
func findingCode(f order.Finding) int {
	switch {
	case f.Severity == order.SeverityInformation:
		return 0
	case strings.Contains(f.Code, "invalid"):
		return hl7.CodeDataType
	case strings.Contains(f.Code, "unknown") || strings.Contains(f.Code, "not-cpt"):
		return hl7.CodeTableValue
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

func controlIssue(loc hl7.Location, err error) hl7.Issue {
	code := hl7.CodeInternal
	if errors.Is(err, order.ErrUnknownControlCode) || errors.Is(err, order.ErrUnknownOrderStatus) {
		code = hl7.CodeTableValue
	}
	return hl7.Issue{Location: loc, Code: code, Severity: hl7.SeverityError, Text: err.Error()}
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
