package fhirmap

import (
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
)

// V2ToBundle converts an HL7 v2 order or result message to a FHIR R4 transaction Bundle
// (JSON), following the v2-to-FHIR IG message maps. It is what `radbridge convert` prints.
//
// ORM^O01, OMI^O23 and OML^O21: each order of [mapping.FromV2] gives a ServiceRequest
// (as [ToServiceRequest] maps it, with reasonReference to its Conditions), with the Patient
// (PID), Encounter (PV1-2), Practitioner (ORC-12/OBR-16), Coverage (IN1) and Condition
// (DG1, ICD-10 coded OBR-31) it refers to, and a Provenance with the signature when the
// order is signed (ORC-12 with ORC-9). The ServiceRequest status comes from ORC-1 (and
// ORC-5 for SC), as the IG's order control map does: NW, XO, RL, SC and most others
// active; CA, DC, OC, CR, OD, DR, RP, RU, RQ revoked; HD, OH, HR on-hold; SC with ORC-5
// CM completed; none unknown.
//
// ORU^R01: each result of [mapping.ResultOrdersFromV2] gives a DiagnosticReport (as
// [ToDiagnosticReport] maps it) and its Observations, with the Patient (PID), Encounter
// (PV1-2), the ServiceRequest its OBR describes (ORC/OBR numbers, OBR-4, OBR-31,
// ORC-12/OBR-16; status completed for a final or corrected report, active for a
// preliminary one, revoked when cancelled) and the interpreter's Practitioner (OBR-32).
//
// Every entry is a POST with a urn:uuid: fullUrl: a name-based UUID of the resource's
// content, so that the output is the same for the same input and a Patient shared by two
// orders appears once. A Patient or Practitioner with an identifier system gets an
// ifNoneExist condition on it. Nothing is written that the message does not carry: no
// empty elements, no invented code or identifier systems.
//
// It returns nil and the issues when the message is of another type or holds no order
// or result; otherwise the Bundle and the mapping's issues (see [mapping.FromV2]). It is
// pure and safe for concurrent use.
func V2ToBundle(m *hl7.Message) ([]byte, []hl7.Issue) {
	b := newBundleBuilder()
	var issues []hl7.Issue
	switch m.Header().Type {
	case "ORU":
		var ok bool
		if issues, ok = b.addResults(m); !ok {
			return nil, issues
		}
	default:
		orders, is := mapping.FromV2(m)
		issues = is
		if len(orders) == 0 {
			return nil, issues
		}
		for _, vo := range orders {
			b.addOrder(vo.Order, controlRequestStatus(vo.Control))
		}
	}
	out, err := b.bytes()
	if err != nil {
		return nil, append(issues, hl7.Issue{Code: hl7.CodeInternal, Severity: hl7.SeverityError,
			Text: "writing the FHIR Bundle: " + err.Error()})
	}
	return out, issues
}

// controlRequestStatus maps an order control (ORC-1, with ORC-5 for SC) to a
// ServiceRequest status.
func controlRequestStatus(c order.Control) string {
	switch c.Code {
	case "":
		return "unknown"
	case "CA", "DC", "OC", "CR", "OD", "DR", "RP", "RU", "RQ":
		return "revoked"
	case "HD", "OH", "HR":
		return "on-hold"
	case "SC":
		if st, ok := order.ParseOrderStatus(c.OrderStatus); ok {
			switch st {
			case order.StatusResulted:
				return "completed"
			case order.StatusCancelled:
				return "revoked"
			case order.StatusOnHold:
				return "on-hold"
			}
		}
	}
	return "active"
}

// resultRequestStatus is the status of the ServiceRequest an ORU reports on.
func resultRequestStatus(s order.ResultStatus) string {
	switch s {
	case order.ResultFinal, order.ResultCorrected:
		return "completed"
	case order.ResultPreliminary:
		return "active"
	case order.ResultCancelled:
		return "revoked"
	case order.ResultEnteredInError:
		return "entered-in-error"
	}
	return "unknown"
}

// addResults adds the entries of an ORU^R01. It reports false when the message has no
// result.
func (b *bundleBuilder) addResults(m *hl7.Message) ([]hl7.Issue, bool) {
	results, issues := mapping.ResultOrdersFromV2(m)
	if len(results) == 0 {
		return issues, false
	}
	for _, r := range results {
		oe := b.addOrder(r.Order, resultRequestStatus(r.Result.Status))
		b.addResult(r.Order, r.Result, oe)
	}
	return issues, true
}
