package mapping_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
)

// TestFromV2_Setting: the PV1 fields that carry the setting, the requested date, the
// performing facility and the coverage dates, each case naming the field it reads.
func TestFromV2_Setting(t *testing.T) {
	const orc, obr = "ORC|NW|PL1", "OBR|1|PL1||70553^MRI BRAIN^C4"
	est := time.FixedZone("", -5*3600)
	tests := []struct {
		name      string
		segs      []string
		setting   order.Setting
		class     order.EncounterClass
		requested time.Time
		performer order.Facility
		coverage  []order.Coverage
		issues    []at
	}{
		{
			name: "PV1-3 point of care and facility, PV1-4, PV1-10, PV1-18, PV1-44, PV1-45",
			segs: []string{mshORM, pid,
				segment("PV1", map[int]string{2: "O", 3: "UC1^^^NORTH_UC&1234567893&NPI", 4: "U", 10: "URG", 18: "UC",
					44: "20261122080000-0500", 45: "20261122113000-0500"}), orc, obr},
			setting: order.Setting{PointOfCare: "UC1", Facility: "NORTH_UC", FacilityID: "1234567893", AdmissionType: "U",
				HospitalService: "URG", PatientType: "UC",
				Start: time.Date(2026, 11, 22, 8, 0, 0, 0, est), End: time.Date(2026, 11, 22, 11, 30, 0, 0, est)},
			class:     order.ClassOutpatient,
			performer: order.Facility{Name: "NORTH_UC", NPI: "1234567893"}, // PV1-3.4 as name&NPI&NPI, MSH-6 has none
		},
		{
			name:    "PV1-2 B: obstetrics names no setting",
			segs:    []string{mshORM, pid, "PV1|1|B|LD^^^HOSP_A", orc, obr},
			setting: order.Setting{PointOfCare: "LD", Facility: "HOSP_A"},
			class:   order.ClassUnknown,
		},
		{
			name:   "PV1-45 malformed: reported, ignored",
			segs:   []string{mshORM, pid, segment("PV1", map[int]string{2: "E", 45: "tomorrow"}), orc, obr},
			class:  order.ClassEmergency,
			issues: []at{{Loc: "PV1-45", Code: 102, Severity: "W"}},
		},
		{
			name: "MSH-6 name^NPI^NPI is the performing facility, before PV1-3.4",
			segs: []string{`MSH|^~\&|EHR|HOSP_A|RB|IMG_CTR^1245319599^NPI|20261122083000||ORM^O01|C1|P|2.5.1`, pid,
				"PV1|1|O|UC1^^^NORTH_UC&1234567893&NPI", orc, obr},
			setting:   order.Setting{PointOfCare: "UC1", Facility: "NORTH_UC", FacilityID: "1234567893"},
			class:     order.ClassOutpatient,
			performer: order.Facility{Name: "IMG_CTR", NPI: "1245319599"},
		},
		{
			name: "MSH-6 with another universal ID type names no NPI",
			segs: []string{`MSH|^~\&|EHR|HOSP_A|RB|RIS^1.2.3^ISO|20261122083000||ORM^O01|C1|P|2.5.1`, pid, orc, obr},
		},
		{
			name:      "TQ1-7 start date/time first",
			segs:      []string{mshORM, pid, "ORC|NW|PL1|||||^^^20261201", obr, "TQ1|1||||||20261130090000"},
			requested: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
		},
		{
			name:      "ORC-7.4 quantity/timing start",
			segs:      []string{mshORM, pid, "ORC|NW|PL1|||||^^^20261201", obr},
			requested: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		},
		{
			name:      "OBR-27.4 quantity/timing start",
			segs:      []string{mshORM, pid, orc, segment("OBR", map[int]string{1: "1", 2: "PL1", 4: "70553^MRI BRAIN^C4", 27: "^^^20261203"})},
			requested: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
		},
		{
			name:      "OBR-6 requested date/time last",
			segs:      []string{mshORM, pid, orc, "OBR|1|PL1||70553^MRI BRAIN^C4||202612061400"},
			requested: time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC),
		},
		{
			name:      "a malformed TQ1-7 is reported and the next source read",
			segs:      []string{mshORM, pid, orc, "OBR|1|PL1||70553^MRI BRAIN^C4||20261206", "TQ1|1||||||soon"},
			requested: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC),
			issues:    []at{{Loc: "TQ1-7", Code: 102, Severity: "W"}},
		},
		{
			name:     "IN1-12 plan effective date, IN1-13 plan expiration date",
			segs:     []string{mshORM, pid, segment("IN1", map[int]string{1: "1", 2: "PPO-GOLD", 3: "ACME", 12: "20260101", 13: "20261231", 15: "PPO"}), orc, obr},
			coverage: []order.Coverage{{Payer: "ACME", Plan: "PPO-GOLD", PlanType: "PPO", Start: "2026-01-01", End: "2026-12-31"}},
		},
		{
			name:     "IN1-13 less precise than a day: reported, left empty",
			segs:     []string{mshORM, pid, segment("IN1", map[int]string{1: "1", 3: "ACME", 12: "20260101", 13: "202612"}), orc, obr},
			coverage: []order.Coverage{{Payer: "ACME", Start: "2026-01-01"}},
			issues:   []at{{Loc: "IN1-13", Code: 102, Severity: "W"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orders, issues := mapping.FromV2(parse(t, tc.segs...))
			if len(orders) != 1 {
				t.Fatalf("FromV2: %d orders, want 1 (issues %v)", len(orders), issues)
			}
			o := orders[0].Order
			if diff := cmp.Diff(tc.setting, o.Setting); diff != "" {
				t.Errorf("Setting (-want +got):\n%s", diff)
			}
			if o.EncounterClass != tc.class {
				t.Errorf("EncounterClass = %q, want %q", o.EncounterClass, tc.class)
			}
			if !o.Requested.Equal(tc.requested) {
				t.Errorf("Requested = %v, want %v", o.Requested, tc.requested)
			}
			if o.Performer != tc.performer {
				t.Errorf("Performer = %+v, want %+v", o.Performer, tc.performer)
			}
			if diff := cmp.Diff(tc.coverage, o.Coverage); diff != "" {
				t.Errorf("Coverage (-want +got):\n%s", diff)
			}
			want := tc.issues
			if want == nil {
				want = []at{}
			}
			if diff := cmp.Diff(want, reduce(issues)); diff != "" {
				t.Errorf("issues (-want +got):\n%s", diff)
			}
		})
	}
}
