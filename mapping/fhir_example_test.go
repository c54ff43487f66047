package mapping_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
)

// ExampleFromFHIR reads a ServiceRequest whose patient and requester are contained.
func ExampleFromFHIR() {
	sr := `{"resourceType":"ServiceRequest","status":"active","intent":"order",
	  "contained":[
	    {"resourceType":"Patient","id":"p","identifier":[{"system":"urn:oid:1.2.3","value":"MRN-1"}],
	     "name":[{"family":"Doe","given":["Jane"]}],"gender":"female","birthDate":"1980-01-02"},
	    {"resourceType":"Practitioner","id":"dr","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}],
	     "name":[{"family":"Welby","given":["Marcus"]}]}],
	  "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"PLAC"}]},"value":"PL-1"}],
	  "code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"70450"}],"text":"CT head"},
	  "subject":{"reference":"#p"},"requester":{"reference":"#dr"},"authoredOn":"2026-03-10T08:10:00-05:00",
	  "reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R51.9"}],"text":"Headache"}]}`
	orders, issues := mapping.FromFHIR([]byte(sr))
	o := orders[0].Order
	fmt.Println(orders[0].Control.Code, o.Placer, o.Procedure.CPT, o.Provider.NPI, o.Patient.Family, o.Diagnoses[0].Code, o.Reason)
	fmt.Println("signed:", o.Signature.Present, "issues:", len(issues))
	// Output:
	// NW PL-1 70450 1234567893 Doe R51.9 Headache
	// signed: true issues: 0
}

// ExampleBuildORU reports a result back to the order's sender.
func ExampleBuildORU() {
	o := &order.Order{
		Source: order.Source{Kind: order.SourceV2, SendingApp: "EHR", SendingFacility: "HOSP_A", Version: "2.3"},
		Placer: "PL-1", Filler: "F-1",
	}
	r := order.Result{ID: "F-1", Status: order.ResultFinal, Text: "No acute findings.",
		Issued: time.Date(2026, 3, 12, 16, 0, 0, 0, time.UTC)}
	msg := mapping.BuildORU(o, r, mapping.ORUOptions{SendingApp: "RADBRIDGE", SendingFacility: "RB", ControlID: "RB-1"})
	fmt.Println(strings.ReplaceAll(string(msg), "\r", "\n"))
	// Output:
	// MSH|^~\&|RADBRIDGE|RB|EHR|HOSP_A|20260312160000+0000||ORU^R01|RB-1|P|2.3
	// PID|1
	// ORC|RE|PL-1|F-1
	// OBR|1|PL-1|F-1||||20260312160000+0000|||||||||||||||20260312160000+0000||RAD|F
	// OBX|1|FT|18782-3^Radiology Study observation^LN||No acute findings.||||||F
}
