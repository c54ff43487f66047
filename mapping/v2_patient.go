package mapping

import (
	"strings"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
)

// patientIDs reads PID-3 (every repetition) and, for v2.3.1 and earlier, PID-2 (the
// external patient ID, deprecated from v2.4), skipping repetitions without an ID and
// PID-2 values already listed in PID-3.
func (mp *mapper) patientIDs(pid hl7.Segment) []order.Identifier {
	var ids []order.Identifier
	for rep := range pid.Field(3).Reps() {
		if id, ok := mp.identifier(rep); ok {
			ids = append(ids, id)
		}
	}
	if mp.v != 0 && mp.v <= 231 {
		for rep := range pid.Field(2).Reps() {
			if id, ok := mp.identifier(rep); ok && !containsID(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// identifier reads a CX: CX.1 as the value, CX.4 (its namespace, else its universal ID)
// as the system, CX.5 as the type.
func (mp *mapper) identifier(cx hl7.Value) (order.Identifier, bool) {
	id := order.Identifier{Value: mp.comp(cx, 1), System: mp.authority(cx, 4), Type: mp.comp(cx, 5)}
	return id, id.Value != ""
}

// authority reads the HD (an assigning authority written as subcomponents) in
// component n: its namespace ID, else its universal ID.
func (mp *mapper) authority(v hl7.Value, n int) string {
	if ns := mp.get(v, n, 1); ns != "" {
		return ns
	}
	return mp.get(v, n, 2)
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
func (mp *mapper) patient(pid hl7.Segment, occ int) order.Patient {
	p := order.Patient{Identifiers: mp.patientIDs(pid)}
	for rep := range pid.Field(5).Reps() {
		fam, giv := mp.comp(rep, 1), mp.compText(rep, 2)
		if fam == "" && giv == "" {
			continue
		}
		p.Family, p.Given, p.Middle = fam, giv, mp.compText(rep, 3)
		break
	}
	if t, prec, ok := mp.readTime(pid.Field(7)); !ok {
		mp.report("PID", occ, 7, hl7.CodeDataType, hl7.SeverityWarning,
			"PID-7 birth date "+quote(mp.comp(pid.Field(7), 1))+" is not a valid date; birth date not mapped")
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
	if sex := mp.first(pid.Field(8)); sex != "" {
		var ok bool
		if p.Sex, ok = administrativeGender(sex); !ok {
			mp.report("PID", occ, 8, hl7.CodeTableValue, hl7.SeverityInformation,
				"PID-8 sex "+quote(sex)+" is not in HL7 table 0001; sex not mapped")
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
func (mp *mapper) encounterClass(pv1 hl7.Segment, occ int) order.EncounterClass {
	s := mp.first(pv1.Field(2))
	if s == "" {
		return order.ClassUnknown
	}
	c, ok := order.ParseEncounterClass(s)
	if !ok {
		mp.report("PV1", occ, 2, hl7.CodeTableValue, hl7.SeverityInformation,
			"PV1-2 patient class "+quote(s)+" is not recognised; encounter class unknown")
	}
	return c
}
