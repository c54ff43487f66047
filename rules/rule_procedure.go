package rules

import (
	"strconv"
	"strings"

	"github.com/radbridge/radbridge/order"
)

// The v2 locations and FHIR paths of the procedure.
const (
	locProcedure   = "OBR-4"
	fhirProcedure  = "ServiceRequest.code"
	locModality    = "OBR-24"
	fhirModality   = "ServiceRequest.category"
	locBodySite    = "OBR-15"
	fhirBodySite   = "ServiceRequest.bodySite"
	procedureHint  = ": send the exam's CPT code."
	cptFormatHint  = " is not a valid CPT code (5 digits, or 4 digits and F or T): correct it."
	notInTableHint = " is not in the imaging code table: check that it is the exam intended."
)

// checkProcedure requires an exact procedure: a well-formed CPT code, known to the code
// table, with a modality and a body part (from the order, or filled in from the table).
// cpt is the order's CPT code (procedureCPT) and p its plan, nil when unknown.
func checkProcedure(fs []order.Finding, proc *order.Procedure, cpt string, p *plan) []order.Finding {
	switch {
	case cpt == "" && strings.TrimSpace(proc.Code) != "":
		fs = append(fs, finding(CodeNotCPT, order.SeverityError, locProcedure, fhirProcedure,
			"The procedure code "+quote(proc.Code)+systemPhrase(proc.System)+" is not a CPT code"+procedureHint))
	case cpt == "" && strings.TrimSpace(proc.Text) != "":
		fs = append(fs, finding(CodeCPTMissing, order.SeverityError, locProcedure, fhirProcedure,
			"The exam "+quote(proc.Text)+" has no procedure code"+procedureHint))
	case cpt == "":
		fs = append(fs, finding(CodeCPTMissing, order.SeverityError, locProcedure, fhirProcedure,
			"The order names no exam"+procedureHint))
	case !validCPT(cpt):
		fs = append(fs, finding(CodeCPTInvalid, order.SeverityError, locProcedure, fhirProcedure,
			"The procedure code "+quote(cpt)+cptFormatHint))
	case p == nil || p.row == nil:
		fs = append(fs, finding(CodeCPTUnknown, order.SeverityWarning, locProcedure, fhirProcedure,
			"CPT "+cpt+notInTableHint))
	}
	switch {
	case p != nil && p.row != nil:
		if strings.TrimSpace(proc.Modality) == "" {
			proc.Modality = p.row.orderModality
		}
		if strings.TrimSpace(proc.BodySite) == "" {
			proc.BodySite = p.row.bodySite
		}
	case p != nil && p.guessed != nil && strings.TrimSpace(proc.Modality) == "":
		proc.Modality = orderModality(p.guessed.modality) // from the CPT range
	}
	if strings.TrimSpace(proc.Modality) == "" {
		fs = append(fs, finding(CodeModalityMissing, order.SeverityWarning, locModality, fhirModality,
			"The exam's modality (CT, MR, US...) is not given and cannot be derived from its code: send it."))
	}
	if strings.TrimSpace(proc.BodySite) == "" {
		fs = append(fs, finding(CodeBodySiteMissing, order.SeverityWarning, locBodySite, fhirBodySite,
			"The body part to image is not given and cannot be derived from the exam's code: send it."))
	}
	return fs
}

// quote puts s, trimmed, in double quotes for finding texts, Go-escaped so that control
// characters cannot reach an ACK, and cut at 64 bytes so that a hostile value cannot
// bloat one.
func quote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 64 {
		return strconv.Quote(strings.ToValidUTF8(s[:64], "") + "...")
	}
	return strconv.Quote(s)
}

// systemPhrase is " (system X)" for a named coding system, or "".
func systemPhrase(system string) string {
	if system = strings.TrimSpace(system); system == "" {
		return ""
	}
	return " (system " + quote(system) + ")"
}
