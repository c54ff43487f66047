package fhirmap_test

import (
	"fmt"

	"github.com/radbridge/radbridge/mapping/fhirmap"
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
	orders, issues := fhirmap.FromFHIR([]byte(sr))
	o := orders[0].Order
	fmt.Println(orders[0].Control.Code, o.Placer, o.Procedure.CPT, o.Provider.NPI, o.Patient.Family, o.Diagnoses[0].Code, o.Reason)
	fmt.Println("signed:", o.Signature.Present, "issues:", len(issues))
	// Output:
	// NW PL-1 70450 1234567893 Doe R51.9 Headache
	// signed: true issues: 0
}
