package mapping_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
)

// at is an issue reduced to what callers branch on.
type at struct {
	Loc      string
	Code     int
	Severity string
}

func reduce(issues []hl7.Issue) []at {
	out := []at{}
	for _, is := range issues {
		out = append(out, at{Loc: is.Location.String(), Code: is.Code, Severity: is.Severity.String()})
	}
	return out
}

func parse(tb testing.TB, segs ...string) *hl7.Message {
	tb.Helper()
	m, err := hl7.Parse([]byte(strings.Join(segs, "\r")))
	if err != nil {
		tb.Fatalf("hl7.Parse: %v", err)
	}
	return m
}

// segment builds a segment from its numbered fields, so that tests need not count bars.
func segment(name string, fields map[int]string) string {
	n := 0
	for f := range fields {
		n = max(n, f)
	}
	vals := make([]string, n)
	for f, v := range fields {
		vals[f-1] = v
	}
	return name + "|" + strings.Join(vals, "|")
}

const (
	mshORM = `MSH|^~\&|EHR|HOSP_A|RB|RIS|20261122083000||ORM^O01|C1|P|2.5.1`
	mshORU = `MSH|^~\&|RIS|RAD|EHR|HOSP_A|20261122083000||ORU^R01|C2|P|2.5.1`
	pid    = `PID|1||MRN1^^^HOSP_A^MR||DOE^JANE||19800101|F`
)

func TestFromV2_Issues(t *testing.T) {
	tests := []struct {
		name   string
		segs   []string
		orders int
		want   []at
	}{
		{name: "no order group", segs: []string{mshORM, pid, "PV1|1|O"},
			want: []at{{Loc: "ORC", Code: 101, Severity: "E"}}},
		{name: "missing placer in second group", orders: 2, segs: []string{mshORM, pid,
			"ORC|NW|P1|||||||20261122080000", "OBR|1|P1||71046^XR^CPT",
			"ORC|NW||||||||20261122080000", "OBR|2|||71045^XR^CPT"},
			want: []at{{Loc: "ORC(2)-2", Code: 101, Severity: "E"}}},
		{name: "placer from OBR-2 is enough", orders: 1, segs: []string{mshORM, pid,
			"ORC|NW|||||||||", "OBR|1|P9||71046^XR^CPT"},
			want: []at{}},
		{name: "broken ORC-9 falls back to MSH-7", orders: 1, segs: []string{mshORM, pid,
			"ORC|NW|P1|||||||2026-11-22", "OBR|1|P1||71046^XR^CPT"},
			want: []at{{Loc: "ORC-9", Code: 102, Severity: "W"}}},
		{name: "broken ORC-9 and MSH-7", orders: 1, segs: []string{
			`MSH|^~\&|EHR|HOSP_A|RB|RIS|2026XX||ORM^O01|C1|P|2.5.1`, pid,
			"ORC|NW|P1|||||||99999999999999", "OBR|1|P1||71046^XR^CPT"},
			want: []at{{Loc: "ORC-9", Code: 102, Severity: "W"}, {Loc: "MSH-7", Code: 102, Severity: "W"}}},
		{name: "broken birth date and unknown codes", orders: 1, segs: []string{mshORM,
			"PID|1||MRN1||DOE^JANE||19801399|Q", "PV1|1|ZZ",
			"ORC|NW|P1|||||^^^^^SOON||20261122080000", "OBR|1|P1||71046^XR^CPT"},
			want: []at{{Loc: "PID-7", Code: 102, Severity: "W"}, {Loc: "PID-8", Code: 103, Severity: "I"},
				{Loc: "PV1-2", Code: 103, Severity: "I"}, {Loc: "ORC-7.6", Code: 103, Severity: "I"}}},
		{name: "OBR-4 missing", orders: 1, segs: []string{mshORM, pid,
			"ORC|NW|P1|||||||20261122080000", "OBR|1|P1"},
			want: []at{{Loc: "OBR-4", Code: 101, Severity: "E"}}},
		{name: "missing control code", orders: 1, segs: []string{mshORM, pid,
			"ORC||P1|||||||20261122080000", "OBR|1|P1||71046^XR^CPT"},
			want: []at{{Loc: "ORC-1", Code: 101, Severity: "E"}}},
		{name: "OBR without ORC", orders: 1, segs: []string{mshORM, pid, "OBR|1|P1||71046^XR^CPT"},
			want: []at{{Loc: "OBR", Code: 100, Severity: "E"}}},
		{name: "duplicate placer", orders: 2, segs: []string{mshORM, pid,
			"ORC|NW|P1|||||||20261122080000", "OBR|1|P1||71046^XR^CPT",
			"ORC|NW|P1|||||||20261122080000", "OBR|2|P1||71045^XR^CPT"},
			want: []at{{Loc: "ORC(2)-2", Code: 205, Severity: "E"}}},
		{name: "shared ORC reported once", orders: 2, segs: []string{mshORM, pid,
			"ORC|NW|P1|||||||2026-11-22", "OBR|1|P1||71046^XR^CPT", "OBR|2|P2||71045^XR^CPT"},
			want: []at{{Loc: "OBR(2)", Code: 100, Severity: "W"}, {Loc: "ORC-9", Code: 102, Severity: "W"}}},
		{name: "second patient stops the walk", orders: 1, segs: []string{mshORM, pid,
			"ORC|NW|P1|||||||20261122080000", "OBR|1|P1||71046^XR^CPT",
			"PID|2||MRN2", "ORC|NW|P2|||||||20261122080000", "OBR|1|P2||71046^XR^CPT"},
			want: []at{{Loc: "PID(2)", Code: 100, Severity: "W"}}},
		{name: "not an order message", segs: []string{mshORU, pid, "OBR|1|P1||71046^XR^CPT"},
			want: []at{{Loc: "MSH-9", Code: 200, Severity: "E"}}},
		{name: "version 2.2", orders: 1, segs: []string{`MSH|^~\&|EHR|HOSP_A|RB|RIS|20261122083000||ORM^O01|C1|P|2.2`,
			pid, "ORC|NW|P1|||||||20261122080000", "OBR|1|P1||71046^XR^CPT"},
			want: []at{{Loc: "MSH-12", Code: 203, Severity: "W"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orders, issues := mapping.FromV2(parse(t, tc.segs...))
			if len(orders) != tc.orders {
				t.Errorf("FromV2 = %d orders, want %d", len(orders), tc.orders)
			}
			if diff := cmp.Diff(tc.want, reduce(issues)); diff != "" {
				t.Errorf("FromV2 issues (-want +got):\n%s\n%v", diff, issues)
			}
		})
	}
}

func TestResultsFromV2_Issues(t *testing.T) {
	tests := []struct {
		name    string
		segs    []string
		results int
		want    []at
	}{
		{name: "no OBR", segs: []string{mshORU, pid, "OBX|1|TX|||text"},
			want: []at{{Loc: "OBX", Code: 100, Severity: "W"}, {Loc: "OBR", Code: 101, Severity: "E"}}},
		{name: "missing and unknown status", results: 2, segs: []string{mshORU, pid,
			"OBR|1|P1|F1", segment("OBR", map[int]string{1: "2", 2: "P2", 3: "F2", 25: "S"})},
			want: []at{{Loc: "OBR-25", Code: 101, Severity: "E"}, {Loc: "OBR(2)-25", Code: 103, Severity: "E"}}},
		{name: "broken OBR-22 and OBX-14", results: 1, segs: []string{mshORU, pid,
			segment("OBR", map[int]string{1: "1", 2: "P1", 22: "20261340", 25: "F"}),
			segment("OBX", map[int]string{1: "1", 2: "TX", 5: "text", 11: "F", 14: "2026-11-22T08"})},
			want: []at{{Loc: "OBR-22", Code: 102, Severity: "W"}, {Loc: "OBX-14", Code: 102, Severity: "W"}}},
		{name: "invalid base64", results: 1, segs: []string{mshORU, pid,
			segment("OBR", map[int]string{1: "1", 2: "P1", 25: "F"}), "OBX|1|ED|PDF^Report^L||RIS^AP^PDF^Base64^@@@@"},
			want: []at{{Loc: "OBX-5.5", Code: 102, Severity: "W"}}},
		{name: "unknown encoding", results: 1, segs: []string{mshORU, pid,
			segment("OBR", map[int]string{1: "1", 2: "P1", 25: "F"}), "OBX|1|ED|PDF^Report^L||RIS^AP^PDF^UU^begin"},
			want: []at{{Loc: "OBX-5.4", Code: 103, Severity: "W"}}},
		{name: "not a result message", segs: []string{mshORM, pid},
			want: []at{{Loc: "MSH-9", Code: 200, Severity: "E"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, issues := mapping.ResultsFromV2(parse(t, tc.segs...))
			if len(rs) != tc.results {
				t.Errorf("ResultsFromV2 = %d results, want %d", len(rs), tc.results)
			}
			if diff := cmp.Diff(tc.want, reduce(issues)); diff != "" {
				t.Errorf("ResultsFromV2 issues (-want +got):\n%s\n%v", diff, issues)
			}
		})
	}
}

// TestFromV2_ErrorGoldens pins the locations of the issues of the error fixtures in
// testdata/mapping, so that a golden rewrite cannot silently move them.
func TestFromV2_ErrorGoldens(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{file: "orm_err_no_orc.hl7", want: []string{"ORC"}},
		{file: "orm_err_missing_placer.hl7", want: []string{"ORC-2", "ORC(2)-1"}},
		{file: "orm_err_timestamps.hl7", want: []string{"PID-7", "PID-8", "PV1-2", "IN1-14", "OBR-4", "ORC-7.6", "ORC-9", "MSH-7"}},
		{file: "orm_err_structure.hl7", want: []string{"OBR(3)", "PID(2)", "OBR", "OBR(3)-2"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, issues := mapping.FromV2(readMessage(t, goldenDir+"/"+tc.file))
			var got []string
			for _, is := range issues {
				got = append(got, is.Location.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("FromV2(%s) issue locations (-want +got):\n%s", tc.file, diff)
			}
		})
	}
}
