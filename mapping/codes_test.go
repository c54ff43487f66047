package mapping

import "testing"

func TestCodeSystemURI(t *testing.T) {
	tests := []struct{ in, uri, v2 string }{
		{"C4", systemCPT, "C4"},
		{"CPT4", systemCPT, "C4"},
		{"I10", systemICD10CM, "I10C"},
		{"LN", systemLOINC, "LN"},
		{"SCT", systemSNOMED, "SCT"},
		{"DCM", systemDICOM, "DCM"},
		{"HL70203", systemV2Prefix + "0203", "HL70203"},
		{"2.16.840.1.113883.6.96", systemSNOMED, "SCT"},
		{"1.2.3.4", "urn:oid:1.2.3.4", "1.2.3.4"},
		{"L", "", ""},
		{"99RAD", "", ""},
		{"RADLEX", "", ""},
		{"http://acme.org/tests", "http://acme.org/tests", ""},
	}
	for _, tc := range tests {
		if got := CodeSystemURI(tc.in); got != tc.uri {
			t.Errorf("CodeSystemURI(%q) = %q, want %q", tc.in, got, tc.uri)
		}
		if tc.uri != "" {
			if got := V2CodeSystem(tc.uri); got != tc.v2 {
				t.Errorf("V2CodeSystem(%q) = %q, want %q", tc.uri, got, tc.v2)
			}
		}
	}
}
