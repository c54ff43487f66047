package hl7_test

import (
	"errors"
	"testing"
	"time"

	"github.com/radbridge/radbridge/hl7"
)

func TestParseTime(t *testing.T) {
	est := time.FixedZone("", -5*3600)
	tests := []struct {
		in   string
		want time.Time
		prec hl7.Precision
	}{
		{in: "", prec: hl7.PrecisionNone},
		{in: "2026", want: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), prec: hl7.PrecisionYear},
		{in: "202611", want: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), prec: hl7.PrecisionMonth},
		{in: "20261122", want: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), prec: hl7.PrecisionDay},
		{in: "2026112214", want: time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC), prec: hl7.PrecisionHour},
		{in: "202611221430", want: time.Date(2026, 11, 22, 14, 30, 0, 0, time.UTC), prec: hl7.PrecisionMinute},
		{in: "20261122143015", want: time.Date(2026, 11, 22, 14, 30, 15, 0, time.UTC), prec: hl7.PrecisionSecond},
		{in: "20261122143015.1234", want: time.Date(2026, 11, 22, 14, 30, 15, 123400000, time.UTC), prec: hl7.PrecisionFraction},
		{in: "20261122143015.5-0500", want: time.Date(2026, 11, 22, 14, 30, 15, 500000000, est), prec: hl7.PrecisionFraction},
		{in: "202611221430-0500", want: time.Date(2026, 11, 22, 14, 30, 0, 0, est), prec: hl7.PrecisionMinute},
		{in: "20261122143015^S", want: time.Date(2026, 11, 22, 14, 30, 15, 0, time.UTC), prec: hl7.PrecisionSecond},
		{in: "20240229", want: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), prec: hl7.PrecisionDay},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, prec, err := hl7.ParseTime(tc.in, nil)
			if err != nil {
				t.Fatalf("ParseTime(%q) error %v", tc.in, err)
			}
			if !got.Equal(tc.want) || prec != tc.prec {
				t.Errorf("ParseTime(%q) = %v, %d; want %v, %d", tc.in, got, prec, tc.want, tc.prec)
			}
			if _, off := got.Zone(); !tc.want.IsZero() && off != func() int { _, o := tc.want.Zone(); return o }() {
				t.Errorf("ParseTime(%q) offset %d", tc.in, off)
			}
		})
	}
	for _, bad := range []string{"19500131T143414", "196203520", "2026-11-22", "20261322", "20250229", "2026112225", "20261122143015.", "20261122143015.12345", "2026112214301", "20261122+05", "20261122+2500", "abc", "2010201200+0215"} {
		if _, _, err := hl7.ParseTime(bad, nil); !errors.Is(err, hl7.ErrTimestamp) {
			t.Errorf("ParseTime(%q) error = %v, want ErrTimestamp", bad, err)
		}
	}
}

func TestFormatTime(t *testing.T) {
	tm := time.Date(2026, 11, 22, 14, 30, 15, 0, time.FixedZone("", 3600))
	tests := []struct {
		p    hl7.Precision
		want string
	}{
		{p: hl7.PrecisionDay, want: "20261122"},
		{p: hl7.PrecisionMinute, want: "202611221430+0100"},
		{p: hl7.PrecisionSecond, want: "20261122143015+0100"},
	}
	for _, tc := range tests {
		got := hl7.FormatTime(tm, tc.p)
		if got != tc.want {
			t.Errorf("FormatTime(%v, %d) = %q, want %q", tm, tc.p, got, tc.want)
		}
		back, _, err := hl7.ParseTime(got, nil)
		if err != nil || (tc.p >= hl7.PrecisionMinute && !back.Equal(tm.Truncate(time.Minute)) && !back.Equal(tm)) {
			t.Errorf("ParseTime(FormatTime) = %v, %v", back, err)
		}
	}
	if hl7.FormatTime(time.Time{}, hl7.PrecisionSecond) != "" {
		t.Error("FormatTime(zero) is not empty")
	}
}

func TestValue_Composites(t *testing.T) {
	m, err := hl7.Parse(cr(`
MSH|^~\&|A|B|C|D|2020||ORM^O01|1|P|2.5.1
PID|1||MRN1^4^M10^HOSP&2.16.840.1.1&ISO^MR^FAC1~X9^^^^PI||DOE&VAN^JANE^Q^JR^DR
ORC|NW|P1||||||||||1234567893^SMITH&SM^JOHN^K^III^DR^MD^^NPI&2.16.840.1.113883.4.6&ISO^L^^^NPI
OBR|1|P1||70553^MRI BRAIN^C4^MRBR^Brain MRI^L
`))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := m.Segment("PID")
	cx := pid.Field(3).CX()
	wantCX := hl7.CX{ID: "MRN1", CheckDigit: "4", AssigningAuthority: hl7.HD{Namespace: "HOSP", UniversalID: "2.16.840.1.1", UniversalIDType: "ISO"}, IDType: "MR", AssigningFacility: hl7.HD{Namespace: "FAC1"}}
	if cx != wantCX {
		t.Errorf("CX() = %+v, want %+v", cx, wantCX)
	}
	if cx2 := pid.Field(3).Rep(2).CX(); cx2.ID != "X9" || cx2.IDType != "PI" {
		t.Errorf("Rep(2).CX() = %+v", cx2)
	}
	if xpn := pid.Field(5).XPN(); xpn != (hl7.XPN{Family: "DOE", Given: "JANE", Middle: "Q", Suffix: "JR", Prefix: "DR"}) {
		t.Errorf("XPN() = %+v", xpn)
	}
	orc, _ := m.Segment("ORC")
	xcn := orc.Field(12).XCN()
	wantXCN := hl7.XCN{ID: "1234567893", Family: "SMITH", Given: "JOHN", Middle: "K", Suffix: "III", Prefix: "DR", Degree: "MD",
		AssigningAuthority: hl7.HD{Namespace: "NPI", UniversalID: "2.16.840.1.113883.4.6", UniversalIDType: "ISO"}, IDType: "NPI"}
	if xcn != wantXCN {
		t.Errorf("XCN() = %+v, want %+v", xcn, wantXCN)
	}
	obr, _ := m.Segment("OBR")
	if cwe := obr.Field(4).CWE(); cwe != (hl7.CWE{Code: "70553", Text: "MRI BRAIN", System: "C4", AltCode: "MRBR", AltText: "Brain MRI", AltSystem: "L"}) {
		t.Errorf("CWE() = %+v", cwe)
	}
	if !obr.Field(44).CWE().IsEmpty() {
		t.Error("absent CWE is not empty")
	}
}
