package rules

import (
	"strings"

	"github.com/radbridge/radbridge/order"
)

// The v2 location and FHIR path of the reason for exam.
const (
	locReason  = "OBR-31"
	fhirReason = "ServiceRequest.reasonCode"
)

// checkReason requires a reason for the exam: o.Reason text, or any diagnosis with a
// code or a text.
func checkReason(fs []order.Finding, o *order.Order) []order.Finding {
	if strings.TrimSpace(o.Reason) != "" {
		return fs
	}
	for i := range o.Diagnoses {
		d := &o.Diagnoses[i]
		if strings.TrimSpace(d.Code) != "" || strings.TrimSpace(d.Text) != "" {
			return fs
		}
	}
	return append(fs, finding(CodeReasonMissing, order.SeverityError, locReason, fhirReason,
		"The order gives no reason for the exam: send the clinical indication, as text or as diagnosis codes."))
}
