package cdshooks_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/cdshooks"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// orderSpec is one order, to be written as an HL7 v2 ORM, a FHIR ServiceRequest and a
// CDS Hooks order-sign request.
type orderSpec struct {
	name        string
	cpt, text   string
	icd, reason string // "" for none
	npi         string
	v2Class     string // PV1-2
	fhirClass   string // Encounter.class (v3 ActCode)
}

func (s orderSpec) orm(placer string) []byte {
	dg1, obr31 := "", ""
	if s.icd != "" {
		dg1 = "\nDG1|1||" + s.icd + "^" + s.reason + "^I10"
		obr31 = s.icd + "^" + s.reason + "^I10"
	}
	return enginetest.CR(`
MSH|^~\&|EHR|HOSP_A|RADBRIDGE|IMG|20260301095500||ORM^O01^ORM_O01|C-` + placer + `|P|2.5.1
PID|1||MRN77^^^HOSP_A^MR||DOE^JANE||19800102|F
PV1|1|` + s.v2Class + `
ORC|NW|` + placer + `^EHR|||||||20260301095000|||` + s.npi + `^SMITH^JOHN^^^^^^NPI^L^^^NPI
OBR|1|` + placer + `^EHR||` + s.cpt + `^` + s.text + `^C4|||20260301095000||||||||||||||||||||||||` + obr31 + dg1 + `
IN1|1|PPO1|AETNA01|AETNA`)
}

// The resources of the order, as FHIR JSON; ref names them from the ServiceRequest.
func (s orderSpec) patient() string {
	return `{"resourceType":"Patient","id":"p1","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"value":"MRN77"}],
 "name":[{"family":"DOE","given":["JANE"]}],"birthDate":"1980-01-02","gender":"female"}`
}

func (s orderSpec) practitioner() string {
	return `{"resourceType":"Practitioner","id":"dr","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"` + s.npi + `"}],"name":[{"family":"SMITH","given":["JOHN"]}]}`
}

func (s orderSpec) encounter() string {
	return `{"resourceType":"Encounter","id":"e1","status":"in-progress","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"` + s.fhirClass + `"},"subject":{"reference":"Patient/p1"}}`
}

func (s orderSpec) coverage() string {
	return `{"resourceType":"Coverage","id":"cov1","status":"active","beneficiary":{"reference":"Patient/p1"},
 "payor":[{"identifier":{"value":"AETNA01"},"display":"AETNA"}],
 "class":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/coverage-class","code":"plan"}]},"value":"PPO1"}]}`
}

// serviceRequest is the order; refs are the references to the patient, practitioner,
// encounter and (when not "") coverage.
func (s orderSpec) serviceRequest(status, placer, patient, dr, enc, cov string) string {
	reason := ""
	if s.icd != "" {
		reason = `,"reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"` + s.icd + `","display":"` + s.reason + `"}],"text":"` + s.reason + `"}]`
	}
	insurance := ""
	if cov != "" {
		insurance = `,"insurance":[{"reference":"` + cov + `"}]`
	}
	return `{"resourceType":"ServiceRequest","id":"sr1","status":"` + status + `","intent":"order",
 "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"PLAC"}]},"value":"` + placer + `"}],
 "code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"` + s.cpt + `","display":"` + s.text + `"}]},
 "subject":{"reference":"` + patient + `"},"encounter":{"reference":"` + enc + `"},"requester":{"reference":"` + dr + `"},
 "authoredOn":"2026-03-01T09:50:00Z"` + reason + insurance + `}`
}

// fhirPost is the order as a FHIR create: a ServiceRequest containing its resources.
func (s orderSpec) fhirPost(placer string) []byte {
	sr := s.serviceRequest("active", placer, "#p1", "#dr", "#e1", "#cov1")
	return []byte(`{"contained":[` + s.patient() + `,` + s.practitioner() + `,` + s.encounter() + `,` + s.coverage() + `],` + sr[1:])
}

// hookCall is the order as a CDS Hooks order-sign request: the draft refers to the
// prefetched patient, encounter and user; the coverage is prefetched, not referenced.
func (s orderSpec) hookCall(placer string) []byte {
	sr := s.serviceRequest("draft", placer, "Patient/p1", "Practitioner/dr", "Encounter/e1", "")
	return []byte(`{"hookInstance":"d1","hook":"order-sign",
 "context":{"userId":"Practitioner/dr","patientId":"p1","encounterId":"e1",
  "draftOrders":{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://ehr.example.org/fhir/ServiceRequest/sr1","resource":` + sr + `}]}},
 "prefetch":{"patient":` + s.patient() + `,"encounter":` + s.encounter() + `,"user":` + s.practitioner() + `,
  "coverage":{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://ehr.example.org/fhir/Coverage/cov1","resource":` + s.coverage() + `}]}}}`)
}

// finding is a completeness finding as the doors are compared on.
type finding struct{ Code, Severity, Location, FHIRPath string }

// completeness returns an order's findings but the prior-authorization ones (the
// verdict is compared on its own).
func completeness(fs []order.Finding) []finding {
	var out []finding
	for _, f := range fs {
		if !strings.HasPrefix(f.Code, "preauth.") {
			out = append(out, finding{f.Code, string(f.Severity), f.Location, f.FHIRPath})
		}
	}
	return out
}

// wantPA is the CRD pa-needed and doc-needed a stored order's authorization calls for,
// written from the CRD definitions: exempt or not required -> no-auth, required ->
// auth-needed (with clinical documentation when records are required), undetermined ->
// conditional.
func wantPA(a order.Authorization) (pa string, doc []string) {
	switch {
	case a.Exempt || !a.Required && !a.Undetermined:
		return "no-auth", nil
	case a.Undetermined:
		return "conditional", nil
	case a.RecordsRequired:
		return "auth-needed", []string{"clinical"}
	}
	return "auth-needed", nil
}

// TestThreeDoors: the same order as an HL7 v2 ORM over the engine, a FHIR create and a
// CDS Hooks order-sign call gets the same completeness findings and the same
// prior-authorization verdict: one set of rules behind the three doors.
func TestThreeDoors(t *testing.T) {
	base := orderSpec{cpt: "70553", text: "MRI BRAIN W/WO", icd: "R51.9", reason: "Headache", npi: "1234567893", v2Class: "O", fhirClass: "AMB"}
	with := func(name string, edit func(*orderSpec)) orderSpec {
		s := base
		s.name = name
		if edit != nil {
			edit(&s)
		}
		return s
	}
	tests := []orderSpec{
		with("complete, needs authorization", nil),
		with("records required", func(s *orderSpec) { s.cpt, s.text = "70496", "CTA HEAD" }),
		with("exempt in the emergency department", func(s *orderSpec) { s.v2Class, s.fhirClass = "E", "EMER" }),
		with("no authorization needed", func(s *orderSpec) { s.cpt, s.text = "71046", "XR CHEST 2V" }),
		with("incomplete: no diagnosis, bad NPI", func(s *orderSpec) { s.cpt, s.icd, s.reason, s.npi = "70450", "", "", "1234567890" }),
		with("unknown CPT code", func(s *orderSpec) { s.cpt, s.text = "76499", "UNLISTED" }),
	}
	f := enginetest.New(t, enginetest.Options{Checker: enginetest.Checker(t), Clock: func() time.Time { return hookTime }})
	srv := f.Server(t, nil)
	h := newHooks(t, f.Engine, hookTime)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// HL7 v2 over the engine.
			res, err := f.Engine.Handle(t.Context(), tc.orm(fmt.Sprintf("V%d", i)))
			if err != nil || len(res.OrderIDs) != 1 {
				t.Fatalf("Handle = %+v, %v", res, err)
			}
			v2 := storedOrder(t, f, res.OrderIDs[0])
			// FHIR create.
			resp := f.Do(t, http.MethodPost, srv.URL+"/fhir/ServiceRequest", tc.fhirPost(fmt.Sprintf("F%d", i)))
			if resp.Status != http.StatusCreated {
				t.Fatalf("FHIR create answered %d %s", resp.Status, resp.Raw)
			}
			fh := storedOrder(t, f, resp.Body["id"].(string))
			// CDS Hooks order-sign.
			code, body := h.sign(t, cdshooks.OrderSignID, tc.hookCall(fmt.Sprintf("H%d", i)))
			if code != 200 {
				t.Fatalf("order-sign answered %d %s", code, body)
			}
			hookFindings, pa, doc := hookVerdict(t, body)

			want := completeness(v2.Findings)
			if hasFindings := strings.HasPrefix(tc.name, "incomplete") || strings.HasPrefix(tc.name, "unknown"); hasFindings != (len(want) > 0) {
				t.Fatalf("v2 order %s has findings %v: the case does not test what it says", v2.Status, want)
			}
			if got := completeness(fh.Findings); !slices.Equal(got, want) {
				t.Errorf("FHIR findings %v\n  v2 findings %v", got, want)
			}
			if !slices.Equal(hookFindings, want) {
				t.Errorf("CDS Hooks findings %v\n  v2 findings %v", hookFindings, want)
			}
			av, af := v2.Authorization, fh.Authorization
			if av.Required != af.Required || av.RecordsRequired != af.RecordsRequired || av.Exempt != af.Exempt ||
				av.Undetermined != af.Undetermined || av.Status != af.Status || av.Reason != af.Reason {
				t.Errorf("FHIR authorization %+v\n  v2 authorization %+v", af, av)
			}
			wpa, wdoc := wantPA(av)
			if pa != wpa || !slices.Equal(doc, wdoc) {
				t.Errorf("CDS Hooks pa-needed %q doc-needed %q, want %q %q (v2 authorization %+v)", pa, doc, wpa, wdoc, av)
			}
		})
	}
	// Nothing the hook saw was stored: only the v2 and FHIR orders exist.
	if n := len(f.Orders(t, store.OrderQuery{Limit: store.MaxLimit})); n != 2*len(tests) {
		t.Errorf("%d orders stored, want %d (the CDS Hooks drafts are not orders)", n, 2*len(tests))
	}
}

func storedOrder(t *testing.T, f *enginetest.Fixture, id string) *order.Order {
	t.Helper()
	var o *order.Order
	f.View(t, func(tx store.ReadTx) (err error) {
		o, err = tx.Order(id)
		return err
	})
	return o
}

// hookVerdict reads a hook answer for one draft: its findings (card extension
// radbridge.finding) and the coverage information's pa-needed and doc-needed.
func hookVerdict(t *testing.T, body []byte) ([]finding, string, []string) {
	t.Helper()
	var resp struct {
		Cards []struct {
			Extension struct {
				Finding *struct {
					Code, Severity, Location string
					FHIRPath                 string `json:"fhir_path"`
				} `json:"radbridge.finding"`
			} `json:"extension"`
		} `json:"cards"`
		SystemActions []struct {
			Resource struct {
				Extension []map[string]any `json:"extension"`
			} `json:"resource"`
		} `json:"systemActions"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || len(resp.SystemActions) != 1 {
		t.Fatalf("hook answer: %v\n%s", err, body)
	}
	var fs []finding
	for _, c := range resp.Cards {
		if f := c.Extension.Finding; f != nil {
			fs = append(fs, finding{f.Code, f.Severity, f.Location, f.FHIRPath})
		}
	}
	var info map[string]any
	for _, e := range resp.SystemActions[0].Resource.Extension {
		if e["url"] == coverageInfoURL {
			info = e
		}
	}
	pa := subCodes(info, "pa-needed")
	if len(pa) != 1 {
		t.Fatalf("pa-needed %v", pa)
	}
	return fs, pa[0], subCodes(info, "doc-needed")
}

// TestCall_variants: a draft carrying its authorization is satisfied (with
// satisfied-pa-id); without a prefetched Coverage the verdict comes as a card, as the
// coverage information needs its coverage; order-select checks only the selections.
func TestCall_variants(t *testing.T) {
	h := newHooks(t, enginetest.Checker(t), hookTime)
	s := orderSpec{cpt: "70553", text: "MRI BRAIN W/WO", icd: "R51.9", reason: "Headache", npi: "1234567893", v2Class: "O", fhirClass: "AMB"}

	withAuth := strings.Replace(string(s.hookCall("A1")), `"authoredOn"`, `"supportingInfo":[{"type":"ClaimResponse","identifier":{"value":"AUTH9"}}],"authoredOn"`, 1)
	code, body := h.sign(t, cdshooks.OrderSignID, []byte(withAuth))
	resp := decode(t, body)
	for _, e := range checkResponse(resp, specOptions{wantSource: wantSource()}) {
		t.Error(e)
	}
	_, pa, _ := hookVerdict(t, body)
	if code != 200 || pa != "satisfied" || !strings.Contains(string(body), `{"url":"satisfied-pa-id","valueString":"AUTH9"}`) {
		t.Errorf("a draft with its authorization: %d pa-needed %q\n%s", code, pa, body)
	}

	noCoverage := strings.Replace(string(s.hookCall("A2")), `"coverage":{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://ehr.example.org/fhir/Coverage/cov1","resource":`+s.coverage()+`}]}`,
		`"coverage":null`, 1)
	code, body = h.sign(t, cdshooks.OrderSignID, []byte(noCoverage))
	resp = decode(t, body)
	for _, e := range checkResponse(resp, specOptions{wantSource: wantSource()}) {
		t.Error(e)
	}
	cards, _ := resp["cards"].([]any)
	if acts, _ := resp["systemActions"].([]any); code != 200 || len(acts) != 0 || len(cards) != 1 ||
		!strings.Contains(cards[0].(map[string]any)["summary"].(string), "needs prior authorization") {
		t.Errorf("without coverage: %d\n%s", code, body)
	}

	sel := strings.Replace(strings.Replace(string(s.hookCall("A3")), `"hook":"order-sign"`, `"hook":"order-select"`, 1),
		`"patientId":"p1"`, `"patientId":"p1","selections":["ServiceRequest/other"]`, 1)
	code, body = h.sign(t, cdshooks.OrderSelectID, []byte(sel))
	resp = decode(t, body)
	if cards, _ := resp["cards"].([]any); code != 200 || len(cards) != 0 || len(resp["systemActions"].([]any)) != 0 {
		t.Errorf("order-select of another order: %d\n%s", code, body)
	}
	if code, body := h.sign(t, cdshooks.OrderSignID, []byte(`{"hook":"order-sign","context":{"patientId":"p1"}}`)); code != 400 {
		t.Errorf("no draftOrders: %d %s, want 400", code, body)
	}
}
