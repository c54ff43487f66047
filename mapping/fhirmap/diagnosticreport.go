package fhirmap

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// drLinks are a DiagnosticReport's references to its order's resources.
type drLinks struct {
	subject     fhir.Reference
	basedOn     fhir.Reference
	interpreter *fhir.Reference
}

// ToDiagnosticReport maps one result of an order to a FHIR R4 DiagnosticReport and its
// Observations, as the v2-to-FHIR IG maps OBR and OBX:
//
//	id                  a name-based UUID of the order (ID and key) and Result.ID, so every
//	                    version of a report has the same id; each Observation's id is one of
//	                    the report's id and the observation's position
//	identifier          Result.ID, typed FILL or ACSN when it is the order's filler or
//	                    accession number
//	basedOn             ServiceRequest/{Order.ID} (by placer number when the order has no ID)
//	status              Result.Status: preliminary, final, corrected, cancelled,
//	                    entered-in-error; unknown when unset
//	category            RAD (v2-0074 Radiology)
//	code                the order's procedure when coded in LOINC, else LOINC 18748-4
//	                    "Diagnostic imaging study"
//	subject             the order's patient (logical reference)
//	effectiveDateTime   Result.Issued: the order model keeps no exam time
//	issued              Result.Issued
//	resultsInterpreter  Result.Interpreter (logical reference: NPI and name)
//	conclusion          Result.Text
//	presentedForm       Result.Text as text/plain, then each Result.Presented attachment
//	                    (application/pdf...), base64
//	result              one Observation per observation, except encapsulated data (ED),
//	                    which is the presentedForm: code from Code/System/Text (the
//	                    report's code when the observation has none), status from
//	                    Observation.Status (OBX-11) else the report's, value by ValueType:
//	                    NM valueQuantity (Units as unit), CE/CWE/CNE valueCodeableConcept,
//	                    others valueString
func ToDiagnosticReport(o *order.Order, r order.Result) (*fhir.DiagnosticReport, []fhir.Observation) {
	id := nameUUID("DiagnosticReport", o.ID, o.Key(), r.ID)
	l := drLinks{subject: patientRef(o.Patient), basedOn: serviceRequestRef(o), interpreter: providerRef(r.Interpreter)}
	dr, obs := diagnosticReport(o, r, l)
	dr.Id = ptr(id)
	for i := range obs {
		obs[i].Id = ptr(nameUUID("Observation", id, strconv.Itoa(i)))
		dr.Result = append(dr.Result, fhir.Reference{Reference: ptr("Observation/" + *obs[i].Id)})
	}
	return dr, obs
}

// diagnosticReport builds the report and its observations; DiagnosticReport.result is
// left for the caller, who knows how the observations are referred to.
func diagnosticReport(o *order.Order, r order.Result, l drLinks) (*fhir.DiagnosticReport, []fhir.Observation) {
	st, ok := enumOf[fhir.DiagnosticReportStatus](string(r.Status))
	if !ok {
		st = fhir.DiagnosticReportStatusUnknown
	}
	code := reportCode(o.Procedure)
	issued := ptr(fhirTime(r.Issued))
	dr := &fhir.DiagnosticReport{
		Status: st,
		Category: []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: ptr(systemV2Section), Code: ptr("RAD"),
			Display: ptr("Radiology")}}}},
		Code:              code,
		Subject:           &l.subject,
		BasedOn:           []fhir.Reference{l.basedOn},
		EffectiveDateTime: issued,
		Issued:            issued,
		Conclusion:        ptr(r.Text),
	}
	if typ := resultIDType(o, r.ID); r.ID != "" {
		dr.Identifier = []fhir.Identifier{fhirIdentifier(r.ID, "", typ)}
	}
	if l.interpreter != nil {
		dr.ResultsInterpreter = []fhir.Reference{*l.interpreter}
	}
	if r.Text != "" {
		dr.PresentedForm = append(dr.PresentedForm, fhir.Attachment{ContentType: ptr("text/plain; charset=utf-8"),
			Data: ptr(base64.StdEncoding.EncodeToString([]byte(r.Text))), Title: ptr("Report text")})
	}
	for _, a := range r.Presented {
		if len(a.Data) == 0 {
			continue
		}
		dr.PresentedForm = append(dr.PresentedForm, fhir.Attachment{ContentType: ptr(a.ContentType),
			Data: ptr(base64.StdEncoding.EncodeToString(a.Data)), Title: ptr(a.Title)})
	}
	var obs []fhir.Observation
	for _, x := range r.Observations {
		if strings.EqualFold(x.ValueType, "ED") {
			continue
		}
		obs = append(obs, observation(x, r, code, l, issued))
	}
	return dr, obs
}

// reportCode is the report's code: the procedure's LOINC code (the LOINC/RSNA imaging
// procedure codes name the report too), else LOINC 18748-4.
func reportCode(p order.Procedure) fhir.CodeableConcept {
	if mapping.CodeSystemURI(p.System) == systemLOINC && p.Code != "" {
		return fhir.CodeableConcept{Coding: []fhir.Coding{*fhirCoding(p.Code, p.System, p.Text)}, Text: ptr(p.Text)}
	}
	return fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr(systemLOINC), Code: ptr("18748-4"),
		Display: ptr("Diagnostic imaging study")}}}
}

func resultIDType(o *order.Order, id string) string {
	switch id {
	case "":
		return ""
	case o.Filler:
		return "FILL"
	case o.Accession:
		return "ACSN"
	}
	return ""
}

// observation maps one OBX.
func observation(x order.Observation, r order.Result, reportCode fhir.CodeableConcept, l drLinks,
	issued *string) fhir.Observation {
	ob := fhir.Observation{
		Status:  observationStatus(x.Status, r.Status),
		Code:    reportCode,
		Subject: &l.subject,
		BasedOn: []fhir.Reference{l.basedOn},
		Issued:  issued,
	}
	if c := fhirCoding(x.Code, x.System, x.Text); c != nil {
		ob.Code = fhir.CodeableConcept{Coding: []fhir.Coding{*c}, Text: ptr(x.Text)}
	} else if x.Text != "" {
		ob.Code = fhir.CodeableConcept{Text: ptr(x.Text)}
	}
	if l.interpreter != nil {
		ob.Performer = []fhir.Reference{*l.interpreter}
	}
	v := strings.TrimSpace(x.Value)
	if v == "" {
		return ob
	}
	switch strings.ToUpper(x.ValueType) {
	case "NM", "SN":
		if n, ok := decimal(v); ok {
			ob.ValueQuantity = &fhir.Quantity{Value: &n, Unit: ptr(x.Units)}
			return ob
		}
	case "CE", "CWE", "CNE":
		parts := strings.Split(strings.SplitN(v, "~", 2)[0], "^")
		get := func(i int) string {
			if i < len(parts) {
				return strings.TrimSpace(parts[i])
			}
			return ""
		}
		cc := fhir.CodeableConcept{Text: ptr(get(1))}
		if c := fhirCoding(get(0), get(2), get(1)); c != nil {
			cc.Coding = []fhir.Coding{*c}
		}
		if cc.Text != nil || cc.Coding != nil {
			ob.ValueCodeableConcept = &cc
			return ob
		}
	}
	ob.ValueString = &v
	return ob
}

// decimal reads a FHIR decimal (an SN value "^12.5" or "=^12.5" is read by its number).
func decimal(s string) (json.Number, bool) {
	s = strings.TrimSpace(strings.TrimLeft(s, "=^"))
	if _, err := strconv.ParseFloat(s, 64); err != nil || strings.ContainsAny(s, "xXnN+_") ||
		strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return "", false
	}
	return json.Number(s), true
}

// observationStatus maps OBX-11 (table 0085) or a FHIR observation-status code; an empty
// or unknown status takes the report's.
func observationStatus(s string, rs order.ResultStatus) fhir.ObservationStatus {
	if st, ok := enumOf[fhir.ObservationStatus](strings.ToLower(s)); ok && len(s) > 1 {
		return st
	}
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "F", "U", "V":
		return fhir.ObservationStatusFinal
	case "P", "R", "S", "A":
		return fhir.ObservationStatusPreliminary
	case "C":
		return fhir.ObservationStatusCorrected
	case "X", "N":
		return fhir.ObservationStatusCancelled
	case "W", "D":
		return fhir.ObservationStatusEnteredInError
	case "I", "O":
		return fhir.ObservationStatusRegistered
	}
	switch rs {
	case order.ResultFinal:
		return fhir.ObservationStatusFinal
	case order.ResultPreliminary:
		return fhir.ObservationStatusPreliminary
	case order.ResultCorrected:
		return fhir.ObservationStatusCorrected
	case order.ResultCancelled:
		return fhir.ObservationStatusCancelled
	case order.ResultEnteredInError:
		return fhir.ObservationStatusEnteredInError
	}
	return fhir.ObservationStatusUnknown
}
