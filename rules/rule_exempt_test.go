package rules_test

import (
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

// verdictCase is one table case of a verdict test: change a pending order (an
// outpatient brain MRI, 70553, no authorization number), expect an authorization.
type verdictCase struct {
	name      string // names the payer rule or table row the case follows
	mutate    func(o *order.Order)
	required  bool // Required && !Exempt
	records   bool
	exempt    bool
	reasonHas []string
}

func runVerdictCases(t *testing.T, c *rules.Checker, cases []verdictCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := pendingOrder()
			tc.mutate(o)
			c.Check(o, checkTime)
			a := o.Authorization
			if got := a.Required && !a.Exempt; got != tc.required {
				t.Errorf("required = %v, want %v (reason %q)", got, tc.required, a.Reason)
			}
			if a.RecordsRequired != tc.records {
				t.Errorf("RecordsRequired = %v, want %v (reason %q)", a.RecordsRequired, tc.records, a.Reason)
			}
			if a.Exempt != tc.exempt {
				t.Errorf("Exempt = %v, want %v (reason %q)", a.Exempt, tc.exempt, a.Reason)
			}
			for _, s := range tc.reasonHas {
				if !strings.Contains(a.Reason, s) {
					t.Errorf("Reason = %q, want it to contain %q", a.Reason, s)
				}
			}
			hasPending := false
			for _, f := range o.Findings {
				hasPending = hasPending || f.Code == rules.CodePreauthRequired || f.Code == rules.CodePreauthRecordsRequired
			}
			if hasPending != tc.required {
				t.Errorf("pending finding = %v, want %v: %+v", hasPending, tc.required, o.Findings)
			}
		})
	}
}

// TestCheck_Exemption: Kaiser WA exempts imaging "ordered and provided during"
// emergency room visits, hospital-based urgent care, hospital inpatient services and
// ambulatory surgery. Each case names the part of the rule it follows.
func TestCheck_Exemption(t *testing.T) {
	c := newChecker(t, rules.Config{
		HospitalFacilities: []string{"HOSP_A", "1234567893"},
		SettingCodes: []rules.SettingCode{
			{Field: "PV1-18", Code: "UCH", Setting: order.ClassHospitalUrgentCare},
			{Field: "location_code", Code: "OPIMG", Setting: order.ClassOutpatient},
		},
	})
	ordered := checkTime.Add(-time.Hour)
	er := func(o *order.Order) { o.EncounterClass = order.ClassEmergency; o.Authored = ordered }
	runVerdictCases(t, c, []verdictCase{
		{
			name:   "emergency, ordered and provided: no requested date, presumed during the visit",
			mutate: er, exempt: true,
			reasonHas: []string{"emergency orders are exempt", "presumed provided during it"},
		},
		{
			name:     "emergency, ordered there for an outpatient exam two weeks later: not provided there, required",
			mutate:   func(o *order.Order) { er(o); o.Requested = ordered.Add(14 * 24 * time.Hour) },
			required: true,
			reasonHas: []string{"requires prior authorization", "ordered during the emergency visit but is not provided during it",
				"14 days after the order", "exempt only when ordered and provided there"},
		},
		{
			name:      "emergency, requested three hours after the order: within 24h, exempt",
			mutate:    func(o *order.Order) { er(o); o.Requested = ordered.Add(3 * time.Hour) },
			exempt:    true,
			reasonHas: []string{"ordered and provided during the emergency visit", "3 hours after the order"},
		},
		{
			name:      "emergency, stat with no date: provided during the visit",
			mutate:    func(o *order.Order) { er(o); o.Priority = order.PriorityStat },
			exempt:    true,
			reasonHas: []string{"with stat priority, so provided during it"},
		},
		{
			name: "emergency, requested after the visit ended (PV1-45): required",
			mutate: func(o *order.Order) {
				er(o)
				o.Setting.End = ordered.Add(2 * time.Hour)
				o.Requested = ordered.Add(5 * time.Hour)
			},
			required:  true,
			reasonHas: []string{"the encounter ended"},
		},
		{
			name: "emergency, requested 30 hours later but before the visit ended (PV1-45): the end decides, exempt",
			mutate: func(o *order.Order) {
				er(o)
				o.Setting.End = ordered.Add(36 * time.Hour)
				o.Requested = ordered.Add(30 * time.Hour)
			},
			exempt: true,
		},
		{
			name: "emergency by PV1-18 ER on an outpatient class (built-in code): exempt",
			mutate: func(o *order.Order) {
				o.EncounterClass, o.Setting.PatientType = order.ClassOutpatient, "ER"
			},
			exempt: true, reasonHas: []string{"emergency orders are exempt"},
		},
		{
			name:   "emergency, FHIR locationCode ER (v3 RoleCode): provided there",
			mutate: func(o *order.Order) { er(o); o.Setting.LocationCode = "ER"; o.Requested = ordered.Add(48 * time.Hour) },
			exempt: true, reasonHas: []string{`ServiceRequest.locationCode "ER" says it is provided there`},
		},
		{
			name:     "emergency, locationCode naming an outpatient imaging site (site code): required",
			mutate:   func(o *order.Order) { er(o); o.Setting.LocationCode = "OPIMG" },
			required: true, reasonHas: []string{"places the exam elsewhere"},
		},
		{
			name: "inpatient, requested two days after the order, discharge unknown: within 72h, exempt",
			mutate: func(o *order.Order) {
				o.EncounterClass = order.ClassInpatient
				o.Requested = ordered.Add(48 * time.Hour)
			},
			exempt: true, reasonHas: []string{"inpatient orders are exempt", "during the inpatient stay"},
		},
		{
			name: "inpatient, requested five days after the order: beyond 72h, required",
			mutate: func(o *order.Order) {
				o.EncounterClass = order.ClassInpatient
				o.Requested = ordered.Add(5 * 24 * time.Hour)
			},
			required: true, reasonHas: []string{"5 days after the order"},
		},
		{
			name: "hospital-based urgent care only: urgent care (PV1-18 UC) at a freestanding centre is required",
			mutate: func(o *order.Order) {
				o.Setting = order.Setting{PatientType: "UC", Facility: "NORTH_UC", FacilityID: "1245319599"}
			},
			required:  true,
			reasonHas: []string{"urgent care is exempt only when hospital-based", `"NORTH_UC"`, "prior_auth.hospital_facilities"},
		},
		{
			name: "hospital-based urgent care: urgent care (PV1-18 UC) at HOSP_A (hospital_facilities) is exempt",
			mutate: func(o *order.Order) {
				o.Setting = order.Setting{PatientType: "UC", Facility: "HOSP_A"}
			},
			exempt: true, reasonHas: []string{"hospital urgent care orders are exempt"},
		},
		{
			name: "hospital-based urgent care: the facility's universal ID (PV1-3.4.2) is in hospital_facilities",
			mutate: func(o *order.Order) {
				o.Setting = order.Setting{PointOfCare: "UC", FacilityID: "1234567893"}
			},
			exempt: true,
		},
		{
			name:   "hospital-based urgent care by a site code (PV1-18 UCH)",
			mutate: func(o *order.Order) { o.Setting = order.Setting{PatientType: "uch"} },
			exempt: true, reasonHas: []string{"hospital urgent care orders are exempt"},
		},
		{
			name:     "urgent care class from FHIR (not known to be hospital-based): required",
			mutate:   func(o *order.Order) { o.EncounterClass = order.ClassUrgentCare },
			required: true, reasonHas: []string{"urgent care is exempt only when hospital-based"},
		},
		{
			name:   "ambulatory surgery by PV1-10 ASC (built-in code): exempt",
			mutate: func(o *order.Order) { o.Setting.HospitalService = "ASC" },
			exempt: true, reasonHas: []string{"ambulatory surgery orders are exempt"},
		},
		{
			name:   "ambulatory surgery by Encounter.class SS: exempt",
			mutate: func(o *order.Order) { o.EncounterClass = order.ClassAmbulatorySurgery },
			exempt: true,
		},
		{
			name:     "PV1-2 B (obstetrics) names no setting: required",
			mutate:   func(o *order.Order) { o.EncounterClass = order.ClassUnknown; o.Setting.PointOfCare = "LD" },
			required: true,
		},
		{
			name:     "outpatient: required",
			mutate:   func(o *order.Order) {},
			required: true,
		},
	})
}

// TestCheck_Exemption_PayerProfile: exempt settings are data per payer profile.
func TestCheck_Exemption_PayerProfile(t *testing.T) {
	c := newChecker(t, rules.Config{Payers: []rules.PayerProfile{
		{ID: "ANY-UC", Match: rules.Match{PayerID: "ACME"}, ExemptSettings: []rules.ExemptSetting{
			{Setting: order.ClassEmergency, Within: 6 * time.Hour},
			{Setting: order.ClassUrgentCare},
		}},
		{ID: "NONE", Match: rules.Match{PayerID: "STRICT"}, ExemptSettings: []rules.ExemptSetting{}},
	}})
	ordered := checkTime.Add(-time.Hour)
	runVerdictCases(t, c, []verdictCase{
		{
			name:   "profile exempts any urgent care: a freestanding one is exempt",
			mutate: func(o *order.Order) { o.Setting.PatientType = "UC" },
			exempt: true, reasonHas: []string{"urgent care orders are exempt"},
		},
		{
			name: "profile's emergency window is 6h: requested 8h after the order is required",
			mutate: func(o *order.Order) {
				o.EncounterClass, o.Authored, o.Requested = order.ClassEmergency, ordered, ordered.Add(8*time.Hour)
			},
			required: true, reasonHas: []string{"more than the 6 hours allowed"},
		},
		{
			name:     "profile omits inpatient: required",
			mutate:   func(o *order.Order) { o.EncounterClass = order.ClassInpatient },
			required: true,
		},
		{
			name: "profile with an empty list exempts nothing, not even emergency",
			mutate: func(o *order.Order) {
				o.EncounterClass = order.ClassEmergency
				o.Coverage[0].Payer = "STRICT"
			},
			required: true,
		},
	})
}
