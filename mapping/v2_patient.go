package mapping

import (
	"strings"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
)

// patientIDs reads PID-3 (every repetition) and, for v2.3.1 and earlier, PID-2 (the
// external patient ID, deprecated from v2.4), skipping repetitions without an ID and
// PID-2 values already listed in PID-3.
func patientIDs(pid hl7.Segment, v version) []order.Identifier {
	var ids []order.Identifier
	for rep := range pid.Field(3).Reps() {
		if id, ok := identifier(rep); ok {
			ids = append(ids, id)
		}
	}
	if v != 0 && v <= 231 {
		for rep := range pid.Field(2).Reps() {
			if id, ok := identifier(rep); ok && !containsID(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// identifier reads a CX: CX.1 as the value, CX.4 (its namespace, else its universal ID)
// as the system, CX.5 as the type.
func identifier(cx hl7.Value) (order.Identifier, bool) {
	id := order.Identifier{Value: comp(cx, 1), System: authority(cx.Component(4)), Type: comp(cx, 5)}
	return id, id.Value != ""
}

// authority reads an HD (an assigning authority written as subcomponents of a CX or XCN
// component): the namespace ID, else the universal ID.
func authority(hd hl7.Value) string {
	if ns := strings.TrimSpace(hd.Sub(1).String()); ns != "" {
		return ns
	}
	return strings.TrimSpace(hd.Sub(2).String())
}

func containsID(ids []order.Identifier, id order.Identifier) bool {
	for _, x := range ids {
		if x.Value == id.Value && x.System == id.System {
			return true
		}
	}
	return false
}

// patient maps PID: identifiers, the first PID-5 repetition that holds a family or given
// name, PID-7 birth date and PID-8 sex. occ is the PID occurrence, for issue locations.
func patient(pid hl7.Segment, occ int, v version, issues *[]hl7.Issue) order.Patient {
	p := order.Patient{Identifiers: patientIDs(pid, v)}
	for rep := range pid.Field(5).Reps() {
		fam, giv := comp(rep, 1), compText(rep, 2)
		if fam == "" && giv == "" {
			continue
		}
		p.Family, p.Given, p.Middle = fam, giv, compText(rep, 3)
		break
	}
	if t, prec, ok := readTime(pid.Field(7)); !ok {
		*issues = append(*issues, issue("PID", occ, 7, hl7.CodeDataType, hl7.SeverityWarning,
			"PID-7 birth date "+quote(text(pid.Field(7).Component(1)))+" is not a valid date; birth date not mapped"))
	} else {
		switch {
		case prec >= hl7.PrecisionDay:
			p.BirthDate = t.Format("2006-01-02")
		case prec == hl7.PrecisionMonth:
			p.BirthDate = t.Format("2006-01")
		case prec == hl7.PrecisionYear:
			p.BirthDate = t.Format("2006")
		}
	}
	sex := first(pid.Field(8))
	if sex != "" {
		var ok bool
		if p.Sex, ok = administrativeGender(sex); !ok {
			*issues = append(*issues, issue("PID", occ, 8, hl7.CodeTableValue, hl7.SeverityInformation,
				"PID-8 sex "+quote(sex)+" is not in HL7 table 0001; sex not mapped"))
		}
	}
	return p
}

// administrativeGender maps HL7 table 0001 to FHIR administrative-gender. A (ambiguous)
// becomes other and N (not applicable) unknown, as the v2-to-FHIR IG's
// Administrative Sex concept map does.
func administrativeGender(s string) (string, bool) {
	switch strings.ToUpper(s) {
	case "F":
		return "female", true
	case "M":
		return "male", true
	case "O", "A":
		return "other", true
	case "U", "N":
		return "unknown", true
	}
	return "", false
}

// encounterClass maps PV1-2. An empty PV1-2 is unknown without an issue; an unrecognised
// one is unknown with an informational issue.
func encounterClass(pv1 hl7.Segment, occ int, issues *[]hl7.Issue) order.EncounterClass {
	s := first(pv1.Field(2))
	if s == "" {
		return order.ClassUnknown
	}
	c, ok := order.ParseEncounterClass(s)
	if !ok {
		*issues = append(*issues, issue("PV1", occ, 2, hl7.CodeTableValue, hl7.SeverityInformation,
			"PV1-2 patient class "+quote(s)+" is not recognised; encounter class unknown"))
	}
	return c
}

// quote quotes s for an issue text, shortened to 40 bytes.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return `"` + s + `"`
}
