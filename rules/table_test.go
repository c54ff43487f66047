package rules

import (
	"strings"
	"testing"

	"github.com/radbridge/radbridge/order"
)

func TestParseTable_Embedded(t *testing.T) {
	codes, err := parseTable(imagingCodes)
	if err != nil {
		t.Fatalf("parseTable(embedded): %v", err)
	}
	if len(codes) < 150 {
		t.Errorf("embedded table has %d codes, want at least 150", len(codes))
	}
	tests := []struct {
		cpt      string
		auth     Requirement
		modality string
	}{
		{cpt: "70553", auth: Required, modality: "MRI"},
		{cpt: "78815", auth: RecordsRequired, modality: "PET-CT"},
		{cpt: "75574", auth: RecordsRequired, modality: "CTA"}, // changed in radbridge, see SOURCES.md
		{cpt: "77049", auth: RecordsRequired, modality: "MRI"}, // breast MRI
		{cpt: "74263", auth: RecordsRequired, modality: "CT"},  // CT colonography
		{cpt: "71046", auth: NotRequired, modality: "XR"},
		{cpt: "77080", auth: NotRequired, modality: "DXA"},
		{cpt: "70554", auth: Required, modality: "MRI"}, // added in radbridge
		// Added for the issue "Verdicts a payer's reviewer would sign", see SOURCES.md.
		{cpt: "62290", auth: RecordsRequired, modality: "FL"},  // discography injection, lumbar
		{cpt: "62291", auth: RecordsRequired, modality: "FL"},  // discography injection, cervical/thoracic
		{cpt: "78607", auth: Required, modality: "SPECT"},      // brain SPECT; records for BH in the checks
		{cpt: "78459", auth: RecordsRequired, modality: "PET"}, // cardiac PET
		{cpt: "78491", auth: RecordsRequired, modality: "PET"},
		{cpt: "78492", auth: RecordsRequired, modality: "PET"},
		{cpt: "78429", auth: RecordsRequired, modality: "PET-CT"},
		{cpt: "78434", auth: RecordsRequired, modality: "PET"},
		{cpt: "76497", auth: Required, modality: "CT"},       // unlisted CT (whole-body CT has no code)
		{cpt: "76498", auth: Required, modality: "MRI"},      // unlisted MR
		{cpt: "76706", auth: NotRequired, modality: "US"},    // AAA screening ultrasound
		{cpt: "78803", auth: Required, modality: "SPECT"},    // was records_required: BH only
		{cpt: "78832", auth: Required, modality: "SPECT-CT"}, // likewise
	}
	for _, tc := range tests {
		c := codes[tc.cpt]
		if c == nil {
			t.Errorf("code %s missing from the table", tc.cpt)
			continue
		}
		if c.auth != tc.auth || c.modality != tc.modality {
			t.Errorf("code %s: auth %q modality %q, want %q %q", tc.cpt, c.auth, c.modality, tc.auth, tc.modality)
		}
	}
	// Every CTA, PET and breast MRI row needs records (the list).
	for cpt, c := range codes {
		if (c.modality == "CTA" || strings.HasPrefix(c.modality, "PET") || c.bodySite == "breast" && c.modality == "MRI") &&
			c.auth != RecordsRequired {
			t.Errorf("code %s (%s %s) is %q, want records_required", cpt, c.modality, c.bodySite, c.auth)
		}
	}
}

func TestParseTable_Errors(t *testing.T) {
	const header = "cpt,descriptor,modality,body_site,category,prior_auth,source\n"
	tests := []struct {
		name, data, wantErr string
	}{
		{name: "empty", data: "", wantErr: "header"},
		{name: "no rows", data: header, wantErr: "no rows"},
		{name: "missing column", data: "cpt,descriptor\n70553,x\n", wantErr: `no "modality" column`},
		{name: "bad cpt", data: header + "7055,d,MRI,brain,advanced,required,s\n", wantErr: "line 2: cpt \"7055\""},
		{name: "duplicate", data: header + "70553,d,MRI,brain,advanced,required,s\n70553,d,MRI,brain,advanced,required,s\n", wantErr: "listed twice"},
		{name: "bad prior_auth", data: header + "70553,d,MRI,brain,advanced,sometimes,s\n", wantErr: "prior_auth"},
		{name: "no source", data: header + "70553,d,MRI,brain,advanced,required,\n", wantErr: "no source"},
		{name: "empty modality", data: header + "70553,d,,brain,advanced,required,s\n", wantErr: "empty"},
		{name: "bad quoting", data: header + "70553,\"d,MRI,brain,advanced,required,s\n", wantErr: "code table"},
		{name: "wrong field count", data: header + "70553,d,MRI\n", wantErr: "code table"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseTable([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseTable = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseTable_QuotedAndReordered(t *testing.T) {
	data := "\ufeffprior_auth,source,CPT,descriptor,modality,body_site,category\r\n" +
		"records_required,\"a, \"\"quoted\"\" source\",78815,\"PET/CT, skull base to mid-thigh\",pet-ct,skull base-mid-thigh,Advanced\r\n"
	codes, err := parseTable([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	c := codes["78815"]
	if c == nil || c.descriptor != "PET/CT, skull base to mid-thigh" || c.modality != "PET-CT" ||
		c.category != "advanced" || c.auth != RecordsRequired || c.orderModality != "PET" {
		t.Errorf("parsed %+v", c)
	}
}

// TestSystemNames keeps the allocation-free system checks in step with the order
// package's IsCPT and IsICD10CM.
func TestSystemNames(t *testing.T) {
	systems := []string{"CPT", "cpt", " C4 ", "C5", "CPT4", "CPT-4", "http://www.ama-assn.org/go/cpt",
		"URN:OID:2.16.840.1.113883.6.12", "HCPCS", "LN", "", "I10", "i10c", "ICD10", "ICD-10", "ICD10CM",
		"ICD-10-CM", "http://hl7.org/fhir/sid/icd-10-cm", "urn:oid:2.16.840.1.113883.6.90", "I9", "SCT"}
	for _, s := range systems {
		if got, want := isCPTSystem(s), (order.Procedure{System: s}).IsCPT(); got != want {
			t.Errorf("isCPTSystem(%q) = %v, order says %v", s, got, want)
		}
		if got, want := isICD10CMSystem(s), (order.Diagnosis{System: s}).IsICD10CM(); got != want {
			t.Errorf("isICD10CMSystem(%q) = %v, order says %v", s, got, want)
		}
	}
}

func TestValidCPT(t *testing.T) {
	for s, want := range map[string]bool{
		"70553": true, "0042T": true, "3008F": true, "7055": false, "705533": false,
		"G0297": false, "0042t": false, "70A53": false, "": false,
	} {
		if got := validCPT(s); got != want {
			t.Errorf("validCPT(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestInRange(t *testing.T) {
	tests := []struct {
		cpt, lo, hi string
		want        bool
	}{
		{cpt: "70450", lo: "70450", hi: "70498", want: true},
		{cpt: "70498", lo: "70450", hi: "70498", want: true},
		{cpt: "70499", lo: "70450", hi: "70498", want: false},
		{cpt: "0042T", lo: "00100", hi: "01999", want: false}, // category III outside a numeric range
		{cpt: "0042T", lo: "0001T", hi: "0999T", want: true},
		{cpt: "3008F", lo: "0001T", hi: "9999T", want: false},
		{cpt: "70553", lo: "0001T", hi: "9999T", want: false},
	}
	for _, tc := range tests {
		if got := inRange(tc.cpt, tc.lo, tc.hi); got != tc.want {
			t.Errorf("inRange(%s, %s, %s) = %v, want %v", tc.cpt, tc.lo, tc.hi, got, tc.want)
		}
	}
}
