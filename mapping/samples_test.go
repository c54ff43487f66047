package mapping_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
)

// orderSample is what a sample order message must map to, written by reading the file.
type orderSample struct {
	file string
	// conformanceOnly marks samples whose licence keeps them out of testdata: they are
	// read from RADBRIDGE_CONFORMANCE_DIR and skipped when it is absent.
	conformanceOnly bool
	orders          int
	placer          string // of the first order
	code, cpt       string // procedure code and CPT of the first order
	npi             string // ordering provider of the first order: NPI, or ID and family name
	providerID      string
	providerFamily  string
	patientID       string // first patient identifier
	issueCodes      []int  // table 0357 codes of the issues, in order
}

var orderSamples = []orderSample{
	{file: "dcm4che__OMI^O23-ImagingOrder.hl7", orders: 1, placer: "PlacerOrderNumberImagingServiceRequest",
		code: "10637-7", providerFamily: "RequestingPhysicianFN", patientID: "PID_1",
		issueCodes: []int{hl7.CodeTableValue}}, // ORC-7.6 "RequestedProcedurePriority"
	{file: "dcm4che__OMI^O23.hl7", orders: 1, placer: "A100Z",
		code:       "$PROCEDURE_CODE$", // OBR-4 empty; OBR-44 holds an unreplaced template placeholder
		providerID: "7101", providerFamily: "ESTRADA", patientID: "4711471151",
		// OBR-4 missing, OBR-44 used; TQ1-7 (start date/time) holds "S", the priority
		// of TQ1-9 one field early
		issueCodes: []int{hl7.CodeRequiredField, hl7.CodeDataType}},
	{file: "ms-fhir-converter__LAB-ORM-1.hl7", orders: 1, placer: "88502218", code: "24317-0",
		providerFamily: "URO", patientID: "10006579"}, // ORC-12 empty: OBR-16 ^URO^^^^DR
	{file: "ms-fhir-converter__OML-O21-01.hl7", orders: 1, placer: "1101", code: "57698-3",
		providerID: "3850", providerFamily: "ORDPROVIDER", patientID: "PATID1234"},
	{file: "ms-fhir-converter__ORM-O01-01.hl7", orders: 1, placer: "1101", code: "24725-4",
		providerID: "3850", providerFamily: "ORDPROVIDER", patientID: "PATID1234"},
	{file: "ms-fhir-converter__ORM-O01-02.hl7", orders: 1, placer: "1101", code: "24725-4",
		providerID: "3850", providerFamily: "ORDPROVIDER", patientID: "PATID1234"},
	{file: "ms-fhir-converter__ORM-O01-04.hl7", orders: 1, placer: "1101", code: "P-1", // ODS-3
		providerFamily: "SAWYER TOM MD", patientID: "PATID1234"},
	{file: "ms-fhir-converter__ORM-O01-06.hl7", orders: 1, placer: "1163422591", code: "00047040230", // RXO-1
		patientID: "PATID1234"},
	{file: "nhapi__LegacyPipeParserORMO01Tests_MessageORMSample.hl7", orders: 1, placer: "20060307110114",
		code: "003038", patientID: "12001"},
	{file: "nhapi__PipeParsingFixture231_ORM_with_OBX_quotes.hl7", orders: 1, placer: "01444", code: "CAI",
		providerID: "045716", providerFamily: "STEELE, ANDREW W", patientID: "3020956"},
	{file: "rethinkhealth-hl7v2__orm-o01.hl7", orders: 1, placer: "ORD001", code: "CBC", patientID: "67890"},
	{file: "radbridge__oru_r01_radiology.hl7", orders: 0, // a result, not an order
		issueCodes: []int{hl7.CodeUnsupportedType}},

	{file: "iris-integration-docs__ORM_Example_A.hl7", conformanceOnly: true, orders: 1, placer: "Order578914",
		code:       "92250", // coded in "EAP" (a local procedure master), so not taken as CPT
		providerID: "a diaz@retinalscreenings.com", providerFamily: "Diaz", patientID: "TestMrn1096",
		issueCodes: []int{hl7.CodeDataType}}, // ORC-7.4 start date/time "02282020_150014" is no timestamp
	{file: "kamsoft-ks-somed-doc__02_ORM_radiology_order.hl7", conformanceOnly: true, orders: 1, placer: "1115610",
		code: "RTG", providerID: "175", providerFamily: "Wesołowska Katarzyna", patientID: "75721"},
	{file: "kamsoft-ks-somed-doc__03_ORM_lab_order_PESEL.hl7", conformanceOnly: true, orders: 1, placer: "17741-2-1",
		code: "232", providerID: "132", providerFamily: "Głąb", patientID: "17741",
		issueCodes: []int{hl7.CodeTableValue}}, // ORC-7.6 "13&RUTYNOWE&R&HIS"
	{file: "kamsoft-ks-somed-doc__04_ORM_cancel_no_PID.hl7", conformanceOnly: true, orders: 1,
		placer: "17770-1-158", code: "2324"},
	{file: "lakeland-ris-hl7parsertest__WARMC_ORM_chest2vw.hl7", conformanceOnly: true, orders: 1, placer: "100",
		code: "HRCHEST2", providerID: "7352", providerFamily: "CID", patientID: "219049",
		issueCodes: []int{hl7.CodeDataType}}, // IN1-14 "NAR" is no authorization number
}

// checkOrderSample maps the sample at path and compares it with want.
func checkOrderSample(t *testing.T, path string, want orderSample) {
	t.Helper()
	orders, issues := mapping.FromV2(readMessage(t, path))
	var codes []int
	for _, is := range issues {
		codes = append(codes, is.Code)
	}
	if !slices.Equal(codes, want.issueCodes) {
		t.Errorf("FromV2(%s) issues = %v, want codes %v", want.file, issues, want.issueCodes)
	}
	if len(orders) != want.orders {
		t.Fatalf("FromV2(%s) = %d orders, want %d", want.file, len(orders), want.orders)
	}
	if len(orders) == 0 {
		return
	}
	o := orders[0].Order
	var pid string
	if len(o.Patient.Identifiers) > 0 {
		pid = o.Patient.Identifiers[0].Value
	}
	got := orderSample{file: want.file, conformanceOnly: want.conformanceOnly, orders: len(orders),
		placer: o.Placer, code: o.Procedure.Code, cpt: o.Procedure.CPT, npi: o.Provider.NPI,
		providerID: o.Provider.ID, providerFamily: o.Provider.Family, patientID: pid, issueCodes: want.issueCodes}
	if !equalSample(got, want) {
		t.Errorf("FromV2(%s) =\n %+v\nwant\n %+v", want.file, got, want)
	}
}

func equalSample(a, b orderSample) bool {
	return a.file == b.file && a.orders == b.orders && a.placer == b.placer && a.code == b.code &&
		a.cpt == b.cpt && a.npi == b.npi && a.providerID == b.providerID &&
		a.providerFamily == b.providerFamily && a.patientID == b.patientID
}

// TestFromV2_Samples maps the order samples of testdata/hl7v2, and the conformance-only
// ones when RADBRIDGE_CONFORMANCE_DIR holds them.
func TestFromV2_Samples(t *testing.T) {
	for _, tc := range orderSamples {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("../testdata/hl7v2", tc.file)
			if tc.conformanceOnly {
				dir := conformanceDir()
				if dir == "" {
					t.Skip("conformance-only sample; set RADBRIDGE_CONFORMANCE_DIR (make conformance)")
				}
				path = filepath.Join(dir, tc.file)
				if _, err := os.Stat(path); err != nil {
					t.Skipf("%s not present", path)
				}
			}
			checkOrderSample(t, path, tc)
		})
	}
}

// conformanceDir returns the hl7v2 directory of the shared conformance corpus, or "".
func conformanceDir() string {
	d := os.Getenv("RADBRIDGE_CONFORMANCE_DIR")
	if d == "" {
		return ""
	}
	d = filepath.Join(d, "hl7v2")
	if _, err := os.Stat(d); err != nil {
		return ""
	}
	return d
}

// TestFromV2_Conformance maps every ORM, OMI and OML message of the shared conformance
// corpus: each needs an entry in orderSamples, so a new sample cannot go unchecked.
func TestFromV2_Conformance(t *testing.T) {
	dir := conformanceDir()
	if dir == "" {
		t.Skip("RADBRIDGE_CONFORMANCE_DIR not set or without hl7v2/")
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m, err := hl7.Parse(b)
		if err != nil {
			continue // the hl7 conformance test covers what does not parse
		}
		switch m.Header().Type {
		case "ORM", "OMI", "OML":
		default:
			continue
		}
		n++
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			i := slices.IndexFunc(orderSamples, func(s orderSample) bool { return s.file == name })
			if i < 0 {
				t.Fatalf("no expectation for %s in orderSamples: read the file and add one", name)
			}
			checkOrderSample(t, p, orderSamples[i])
		})
	}
	t.Logf("conformance: %d order messages mapped", n)
}

// resultSample is what a sample ORU^R01 must map to.
type resultSample struct {
	file        string
	results     int
	id          string // Result.ID of the first result
	status      string
	textPrefix  string
	obs         int // observations of the first result
	attachments int
	npi         string // interpreter NPI
	patientID   string
}

func TestResultsFromV2_Samples(t *testing.T) {
	tests := []resultSample{
		{file: "radbridge__oru_r01_radiology.hl7", results: 1, id: "FIL445566", status: "final",
			textPrefix: "EXAM: MRI brain without and with contrast.\nTECHNIQUE:", obs: 5,
			npi: "1992999999", patientID: "MRN0012345"},
		{file: "dcm4che__ORU^R01.hl7", results: 1, id: "B601Z", // OBR-25 empty (F sits in OBR-24)
			textPrefix: "The right kidney is slightly enlarged", obs: 13, patientID: "P33"},
		{file: "nhapi__LegacyPipeParserV28Tests_GetMessage_ORU_FT.hl7", results: 1, status: "final",
			textPrefix: "This\nis\nA Test\nMoreText\nSomeMoreText\nThis\n", obs: 3, patientID: "1711114"},
		{file: "rethinkhealth-hl7v2__oru-r01.hl7", results: 1, id: "ORD001#1", obs: 3, patientID: "67890"},
		{file: "ms-fhir-converter__LAB-ORU-1.hl7", results: 2, id: "82503246", status: "final", obs: 5,
			patientID: "10006579"},
		{file: "linuxforhealth-hl7v2-fhir__identifier_test_ORU_R01_imaging_impression.hl7", results: 1,
			id: "CD_000000", status: "final", textPrefix: "-----", obs: 1, patientID: "1234"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			rs, issues := mapping.ResultsFromV2(readMessage(t, filepath.Join("../testdata/hl7v2", tc.file)))
			if len(rs) != tc.results {
				t.Fatalf("ResultsFromV2(%s) = %d results, want %d (issues %v)", tc.file, len(rs), tc.results, issues)
			}
			r := rs[0]
			var pid string
			if len(r.PatientIDs) > 0 {
				pid = r.PatientIDs[0].Value
			}
			got := resultSample{file: tc.file, results: len(rs), id: r.Result.ID, status: string(r.Result.Status),
				textPrefix: tc.textPrefix, obs: len(r.Result.Observations), attachments: len(r.Result.Presented),
				npi: r.Result.Interpreter.NPI, patientID: pid}
			if !strings.HasPrefix(r.Result.Text, tc.textPrefix) {
				t.Errorf("ResultsFromV2(%s) text = %q, want prefix %q", tc.file, r.Result.Text, tc.textPrefix)
			}
			if got != tc {
				t.Errorf("ResultsFromV2(%s) =\n %+v\nwant\n %+v", tc.file, got, tc)
			}
		})
	}
}
