package mapping

import (
	"strings"
	"time"

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

// setting reads what PV1 says about the setting besides PV1-2, as sent (package rules
// interprets it):
//
//	PointOfCare      PV1-3.1  assigned patient location: point of care
//	Facility         PV1-3.4.1  the location's facility (HD namespace ID)
//	FacilityID       PV1-3.4.2  its universal ID (an NPI when PV1-3.4.3 is NPI)
//	AdmissionType    PV1-4    admission type (table 0007)
//	HospitalService  PV1-10   hospital service (user table 0069)
//	PatientType      PV1-18   patient type (user table 0018)
//	Start            PV1-44   admit date/time
//	End              PV1-45   discharge date/time
//
// A malformed PV1-44 or PV1-45 is reported and read as empty.
func (mp *mapper) setting(pv1 hl7.Segment, occ int) order.Setting {
	s := order.Setting{
		PointOfCare:     mp.comp(pv1.Field(3), 1),
		Facility:        mp.get(pv1.Field(3), 4, 1),
		FacilityID:      mp.get(pv1.Field(3), 4, 2),
		AdmissionType:   mp.first(pv1.Field(4)),
		HospitalService: mp.first(pv1.Field(10)),
		PatientType:     mp.first(pv1.Field(18)),
	}
	for _, f := range [...]struct {
		n   int
		t   *time.Time
		say string
	}{{44, &s.Start, "admit"}, {45, &s.End, "discharge"}} {
		t, _, ok := mp.readTime(pv1.Field(f.n))
		if !ok {
			mp.report("PV1", occ, f.n, hl7.CodeDataType, hl7.SeverityWarning,
				where("PV1", occ, f.n)+" "+f.say+" date/time "+quote(mp.comp(pv1.Field(f.n), 1))+" is not a valid timestamp; ignored")
		}
		*f.t = t
	}
	return s
}

// facilityNPI is the facility an HD names by NPI, name^NPI^NPI: the universal ID type
// is NPI (case-insensitive). Any other HD gives the zero Facility.
func facilityNPI(name, id, typ string) order.Facility {
	if !strings.EqualFold(typ, "NPI") || id == "" {
		return order.Facility{}
	}
	return order.Facility{Name: name, NPI: id}
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
