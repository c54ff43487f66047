package mapping_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
)

// FuzzFromV2: neither FromV2 nor ResultsFromV2 panics on any message hl7.Parse accepts,
// whatever its type claims to be (the seeds are retyped as ORM, OMI, OML and ORU too);
// every issue has a table 0357 code and a severity, and every order owns its patient
// identifiers.
func FuzzFromV2(f *testing.F) {
	for _, pattern := range []string{"../testdata/hl7v2/*.hl7", goldenDir + "/*.hl7"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("MSH|^~\\&|A|B|C|D|2026||ORM^O01|1|P|2.3\rORC|NW|1\rOBR|1|1|2|^^^^^\rOBR\rRXO|~\rDG1|||&&&\rIPC||||PT"))
	f.Add([]byte("MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|P|2.5\rOBX|1|FT|||\\.sp\\\\.sk 9999\\\\\rOBR|||||||||||||||||||||||||||||||^&&&&&&&&&NPI\rOBX|1|ED|||^^^Base64^====\rOBX|2|ED|||^^^Hex^zz"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := hl7.Parse(b)
		if err != nil {
			return
		}
		orders, issues := mapping.FromV2(m)
		results, rissues := mapping.ResultsFromV2(m)
		for _, is := range append(issues, rissues...) {
			if is.Code < 100 || is.Severity == 0 || is.Text == "" {
				t.Fatalf("issue without code, severity or text: %+v", is)
			}
		}
		for i, o := range orders {
			if o.Order == nil {
				t.Fatalf("order %d is nil", i)
			}
			if i > 0 && len(o.Order.Patient.Identifiers) > 0 &&
				&o.Order.Patient.Identifiers[0] == &orders[0].Order.Patient.Identifiers[0] {
				t.Fatal("orders share their patient identifiers")
			}
		}
		for _, r := range results {
			_ = r.Result.Text
		}
	})
}
