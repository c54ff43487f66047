package rules

import (
	"strings"
	"time"

	"github.com/radbridge/radbridge/order"
)

// The fields a setting code may name, in the order they are read.
const (
	fieldPatientType     = iota // PV1-18
	fieldHospitalService        // PV1-10
	fieldPointOfCare            // PV1-3.1
	fieldAdmissionType          // PV1-4
	fieldLocationCode           // FHIR ServiceRequest.locationCode
	numSettingFields
)

// settingFieldNames are the names of the fields in setting codes, by field.
var settingFieldNames = [numSettingFields]string{"PV1-18", "PV1-10", "PV1-3", "PV1-4", "location_code"}

// settingField is the field a setting code names (its name ignoring case), or false.
func settingField(name string) (int, bool) {
	name = strings.TrimSpace(name)
	for i, n := range settingFieldNames {
		if strings.EqualFold(n, name) {
			return i, true
		}
	}
	return 0, false
}

// siteCode is one resolved SettingCode.
type siteCode struct {
	field   int
	code    string
	setting order.EncounterClass
}

// settings resolves where an order was placed and where its exam is to be provided,
// from the encounter class and the setting fields (the table in the package doc).
type settings struct {
	codes     []siteCode
	hospitals []string
}

func newSettings(cfg Config) settings {
	var s settings
	for _, sc := range cfg.SettingCodes {
		f, _ := settingField(sc.Field) // validated
		s.codes = append(s.codes, siteCode{field: f, code: strings.TrimSpace(sc.Code), setting: sc.Setting})
	}
	for _, h := range cfg.HospitalFacilities {
		if h = strings.TrimSpace(h); h != "" {
			s.hospitals = append(s.hospitals, h)
		}
	}
	return s
}

// fieldValue is the order's value of a setting field.
func fieldValue(st *order.Setting, f int) string {
	switch f {
	case fieldPatientType:
		return st.PatientType
	case fieldHospitalService:
		return st.HospitalService
	case fieldPointOfCare:
		return st.PointOfCare
	case fieldAdmissionType:
		return st.AdmissionType
	}
	return st.LocationCode
}

// site is the setting a site code gives the field's value, or "".
func (s *settings) site(st *order.Setting, f int) (order.EncounterClass, string) {
	v := strings.TrimSpace(fieldValue(st, f))
	if v == "" {
		return "", ""
	}
	for _, c := range s.codes {
		if c.field == f && strings.EqualFold(c.code, v) {
			return c.setting, v
		}
	}
	return "", v
}

// ordered is where the order was placed: the setting and the field that said so
// ("PV1-2" for the encounter class itself).
func (s *settings) ordered(class order.EncounterClass, st *order.Setting) (order.EncounterClass, string) {
	set, from := class, "PV1-2"
	found := false
	for f := fieldPatientType; f <= fieldAdmissionType; f++ {
		if c, _ := s.site(st, f); c != "" {
			set, from, found = c, settingFieldNames[f], true
			break
		}
	}
	if !found && (class == order.ClassOutpatient || class == order.ClassUnknown) {
		// The built-in spellings refine an outpatient or unknown class only: an
		// emergency or inpatient class says more than a patient type does.
		for f := fieldPatientType; f <= fieldPointOfCare; f++ {
			if c := builtinSetting(fieldValue(st, f)); c != "" {
				set, from = c, settingFieldNames[f]
				break
			}
		}
	}
	if set == order.ClassUrgentCare && s.hospital(st) {
		set = order.ClassHospitalUrgentCare
	}
	return set, from
}

// provided is where the exam is to be performed, from the location code, or "".
func (s *settings) provided(st *order.Setting) order.EncounterClass {
	c, v := s.site(st, fieldLocationCode)
	if c != "" || v == "" {
		return c
	}
	switch strings.ToUpper(v) {
	case "ER", "ETU", "1108-0":
		// v3 RoleCode ER (emergency room) and ETU (emergency trauma unit), NHSN HSL
		// 1108-0 (Emergency Department).
		return order.ClassEmergency
	}
	return ""
}

// hospital reports whether the encounter's facility is a configured hospital.
func (s *settings) hospital(st *order.Setting) bool {
	for _, h := range s.hospitals {
		if (st.Facility != "" && strings.EqualFold(h, strings.TrimSpace(st.Facility))) ||
			(st.FacilityID != "" && strings.EqualFold(h, strings.TrimSpace(st.FacilityID))) {
			return true
		}
	}
	return false
}

// builtinSetting reads the common spellings of settings in the user-defined fields
// (PV1-18, PV1-10, PV1-3.1), exactly and ignoring case; "" for anything else.
func builtinSetting(v string) order.EncounterClass {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "ER", "ED", "EMER", "EMERGENCY":
		return order.ClassEmergency
	case "UC", "URGENT CARE", "URGENTCARE", "URGENT-CARE":
		return order.ClassUrgentCare
	case "ASC", "SDS", "AMBULATORY SURGERY", "SAME DAY SURGERY":
		return order.ClassAmbulatorySurgery
	}
	return ""
}

// exemptRule is one resolved ExemptSetting.
type exemptRule struct {
	setting order.EncounterClass
	within  time.Duration
}

// defaultExempt is Kaiser Permanente WA's list: "imaging services ordered and provided
// during emergency room visits, hospital-based urgent care, hospital inpatient services
// and ambulatory surgery".
func defaultExempt() []exemptRule {
	return []exemptRule{
		{order.ClassEmergency, 24 * time.Hour},
		{order.ClassInpatient, 72 * time.Hour},
		{order.ClassHospitalUrgentCare, 24 * time.Hour},
		{order.ClassAmbulatorySurgery, 24 * time.Hour},
	}
}

func exemptRules(es []ExemptSetting) []exemptRule {
	if es == nil {
		return defaultExempt()
	}
	out := make([]exemptRule, 0, len(es))
	for _, e := range es {
		w := e.Within
		if w == 0 {
			w = 24 * time.Hour
			if e.Setting == order.ClassInpatient {
				w = 72 * time.Hour
			}
		}
		out = append(out, exemptRule{setting: e.Setting, within: w})
	}
	return out
}

// find is the exempt rule for setting s: an exact one, or urgent-care for hospital
// urgent care (any urgent care covers the hospital's).
func findExempt(rs []exemptRule, s order.EncounterClass) (exemptRule, bool) {
	for _, r := range rs {
		if r.setting == s {
			return r, true
		}
	}
	if s == order.ClassHospitalUrgentCare {
		for _, r := range rs {
			if r.setting == order.ClassUrgentCare {
				return r, true
			}
		}
	}
	return exemptRule{}, false
}

// The bases of an exemption decision: why the exam counts as provided during the
// exempt encounter, or why not.
const (
	basisStated    = iota // the setting was given as where the exam is ordered and provided (Preauth)
	basisPresumed         // no requested date, no location: presumed provided during the encounter
	basisPriority         // no requested date, an expedited priority
	basisLocation         // ServiceRequest.locationCode names the setting
	basisWithin           // requested within the window after the order, or before the encounter ended
	basisAfter            // requested after the encounter ended, or beyond the window
	basisElsewhere        // the location code names another setting
)

// exemption is the decision on one order's setting.
type exemption struct {
	setting order.EncounterClass // where the order was placed (resolved)
	from    string               // the field that said so
	ok      bool                 // exempt
	listed  bool                 // setting is in the profile's exempt list
	basis   int
	detail  string // the evidence, for reasons; "" for the precomputed bases
}

// decideExemption decides whether the order is exempt: its setting is exempt for the
// profile and the exam is ordered and provided there.
func (s *settings) decideExemption(o *order.Order, rs []exemptRule) exemption {
	set, from := s.ordered(o.EncounterClass, &o.Setting)
	e := exemption{setting: set, from: from}
	r, ok := findExempt(rs, set)
	if !ok {
		return e
	}
	e.listed = true
	if p := s.provided(&o.Setting); p != "" {
		e.ok = p == set
		e.basis, e.detail = basisLocation, "ServiceRequest.locationCode "+quote(o.Setting.LocationCode)
		if !e.ok {
			e.basis = basisElsewhere
		}
		return e
	}
	req := o.Requested
	switch {
	case req.IsZero() && o.Priority.Expedited():
		e.ok, e.basis, e.detail = true, basisPriority, string(o.Priority)+" priority"
	case req.IsZero():
		e.ok, e.basis = true, basisPresumed
	case !o.Setting.End.IsZero():
		e.ok = !req.After(o.Setting.End)
		e.basis, e.detail = basisWithin, "requested for "+dateTime(req)+", the encounter ended "+dateTime(o.Setting.End)
		if !e.ok {
			e.basis = basisAfter
		}
	case o.Authored.IsZero():
		e.ok, e.basis = true, basisPresumed
	default:
		gap := req.Sub(o.Authored)
		e.ok = gap <= r.within
		e.basis, e.detail = basisWithin, "requested for "+dateTime(req)+", "+span(gap)+" after the order, within the "+span(r.within)+" allowed"
		if !e.ok {
			e.basis, e.detail = basisAfter, "requested for "+dateTime(req)+", "+span(gap)+" after the order, more than the "+span(r.within)+" allowed"
		}
	}
	return e
}

// dateTime writes t for reasons: the date, and the time when it is not midnight.
func dateTime(t time.Time) string {
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Format(time.DateOnly)
	}
	return t.Format("2006-01-02 15:04 MST")
}

// span writes a duration in whole days, or hours when under two days.
func span(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if h := int(d.Hours()); h < 48 {
		if h == 1 {
			return "1 hour"
		}
		return itoa(h) + " hours"
	}
	return itoa(int(d.Hours()/24)) + " days"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// settingWords names a setting in reasons.
func settingWords(c order.EncounterClass) string {
	switch c {
	case order.ClassEmergency:
		return "emergency"
	case order.ClassInpatient:
		return "inpatient"
	case order.ClassUrgentCare:
		return "urgent care"
	case order.ClassHospitalUrgentCare:
		return "hospital urgent care"
	case order.ClassAmbulatorySurgery:
		return "ambulatory surgery"
	case order.ClassOutpatient:
		return "outpatient"
	}
	return "unknown"
}

// visitWords names the encounter of a setting in reasons ("the emergency visit").
func visitWords(c order.EncounterClass) string {
	switch c {
	case order.ClassEmergency:
		return "the emergency visit"
	case order.ClassInpatient:
		return "the inpatient stay"
	case order.ClassUrgentCare, order.ClassHospitalUrgentCare:
		return "the urgent care visit"
	case order.ClassAmbulatorySurgery:
		return "the ambulatory surgery"
	}
	return "the encounter"
}
