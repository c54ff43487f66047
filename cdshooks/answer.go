package cdshooks

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	samply "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/radbridge/radbridge/mapping/fhirmap"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

// hookRequest is a CDS Hooks 2.0 request of the order-select or order-sign hook.
type hookRequest struct {
	Hook         string `json:"hook"`
	HookInstance string `json:"hookInstance"`
	Context      struct {
		UserID      string          `json:"userId"`
		PatientID   string          `json:"patientId"`
		EncounterID string          `json:"encounterId"`
		Selections  []string        `json:"selections"`
		DraftOrders json.RawMessage `json:"draftOrders"`
	} `json:"context"`
	Prefetch  map[string]json.RawMessage `json:"prefetch"`
	Extension map[string]json.RawMessage `json:"extension"`
}

// hookResponse is the answer: cards for people, system actions for the EHR.
type hookResponse struct {
	Cards         []card         `json:"cards"`
	SystemActions []systemAction `json:"systemActions"`
}

type card struct {
	UUID              string         `json:"uuid"`
	Summary           string         `json:"summary"`
	Detail            string         `json:"detail,omitempty"`
	Indicator         string         `json:"indicator"`
	Source            cardSource     `json:"source"`
	Suggestions       []suggestion   `json:"suggestions,omitempty"`
	SelectionBehavior string         `json:"selectionBehavior,omitempty"`
	Extension         map[string]any `json:"extension,omitempty"`
}

type cardSource struct {
	Label string `json:"label"`
}

type suggestion struct {
	Label   string         `json:"label"`
	UUID    string         `json:"uuid"`
	Actions []systemAction `json:"actions"`
}

type systemAction struct {
	Type        string          `json:"type"`
	Description string          `json:"description"`
	Resource    json.RawMessage `json:"resource,omitempty"`
}

type bundleEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
}

type bundle struct {
	ResourceType string        `json:"resourceType"`
	Entry        []bundleEntry `json:"entry"`
}

// The CRD extensions radbridge reads and writes.
const (
	extCoverageInfo   = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
	extBillingOptions = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-billing-options"
	systemCPT         = "http://www.ama-assn.org/go/cpt"
	maxSummary        = 139 // CDS Hooks: a summary of less than 140 characters
)

// draft is one draft order read from context.draftOrders.
type draft struct {
	ref string          // "ServiceRequest/1357"
	raw json.RawMessage // the resource as the EHR sent it
	sr  *samply.ServiceRequest
}

// answer checks the request's draft ServiceRequests as the engine checks orders, and
// stores none of them: each finding of the checks is a card, and each draft's
// prior-authorization verdict is a CRD coverage-information extension on the draft,
// sent back as a systemActions update.
func (s *Service) answer(req *hookRequest, now time.Time) (*hookResponse, error) {
	if len(req.Context.DraftOrders) == 0 {
		return nil, errors.New("context.draftOrders is required: a Bundle of the orders being " + strings.TrimPrefix(req.Hook, "order-") + "ed")
	}
	var drafts bundle
	if err := json.Unmarshal(req.Context.DraftOrders, &drafts); err != nil || drafts.ResourceType != "Bundle" {
		return nil, errors.New("context.draftOrders must be a FHIR Bundle")
	}
	related, coverage := prefetched(req.Prefetch)
	var list []draft
	var others []string
	for _, e := range drafts.Entry {
		typ, id := resourceTypeID(e.Resource)
		if typ != "ServiceRequest" {
			if r := decodeRelated(typ, e.Resource); r != nil {
				related = append(related, fhirmap.FHIRResource{FullURL: e.FullURL, Resource: r})
			}
			if typ != "" {
				others = append(others, typ+"/"+id)
			}
			continue
		}
		ref := "ServiceRequest/" + id
		if req.Hook == "order-select" && len(req.Context.Selections) > 0 && !slices.Contains(req.Context.Selections, ref) {
			continue
		}
		sr, err := samply.UnmarshalServiceRequest(e.Resource)
		if err != nil {
			return nil, fmt.Errorf("draft %s does not decode: %w", ref, err)
		}
		related = append(related, fhirmap.FHIRResource{FullURL: e.FullURL, Resource: &sr})
		list = append(list, draft{ref: ref, raw: e.Resource, sr: &sr})
	}
	resp := &hookResponse{Cards: []card{}, SystemActions: []systemAction{}}
	for _, d := range list {
		cards, action := s.checkDraft(d, related, coverage, now)
		resp.Cards = append(resp.Cards, cards...)
		if action != nil {
			resp.SystemActions = append(resp.SystemActions, *action)
		}
	}
	if len(others) > 0 {
		resp.Cards = append(resp.Cards, s.card("info", "radbridge checks imaging ServiceRequests only; "+strings.Join(others, ", ")+" not checked",
			"radbridge's rules cover imaging orders (ServiceRequest). The other draft orders ("+strings.Join(others, ", ")+
				") get no findings and no coverage information from it.", others))
	}
	sortCards(resp.Cards)
	if n := maxCards(req.Extension); n > 0 && len(resp.Cards) > n {
		resp.Cards = resp.Cards[:n]
	}
	return resp, nil
}

// checkDraft maps and checks one draft and returns its cards and its update.
func (s *Service) checkDraft(d draft, related []fhirmap.FHIRResource, cov *coverageRef, now time.Time) ([]card, *systemAction) {
	sr := *d.sr
	if len(sr.Insurance) == 0 && cov != nil {
		ref := cov.ref
		sr.Insurance = []samply.Reference{{Reference: &ref}}
	}
	o, _ := fhirmap.FromFHIRServiceRequest(&sr, related...)
	options := billingOptions(d.sr)
	ev := s.evaluate(o, options, now)
	var cards []card
	for _, f := range ev.findings {
		if f.Code == rules.CodePreauthRequired || f.Code == rules.CodePreauthRecordsRequired {
			continue // the verdict travels as coverage information
		}
		c := s.findingCard(d, f)
		if (f.Code == rules.CodeCPTMissing || f.Code == rules.CodeNotCPT) && len(options) > 0 {
			c.Suggestions, c.SelectionBehavior = cptSuggestions(d, options), "at-most-one"
		}
		cards = append(cards, c)
	}
	if ev.disagree {
		cards = append(cards, s.card("info", trim(d.ref+": the billing options differ on prior authorization"),
			"The order's billing options ("+strings.Join(options, ", ")+") are not alike for prior authorization: "+ev.optionWords+
				". Choose the billing code to know whether authorization is needed.", []string{d.ref}))
	}
	info := coverageInformation(ev, cov, now)
	if cov == nil {
		cards = append(cards, s.card("warning", trim(d.ref+": no coverage sent, so no coverage information: "+verdictWords(ev)),
			"The request carried no Coverage for the patient (prefetch \"coverage\"), so radbridge cannot attach coverage information to the order. "+
				"Its rules say: "+verdictWords(ev)+". "+ev.auth.Reason, []string{d.ref}))
		return cards, nil
	}
	updated, err := withCoverageInformation(d.raw, info)
	if err != nil {
		s.log.Warn("draft order not updated", slog.String("err", err.Error()))
		return cards, nil
	}
	return cards, &systemAction{Type: "update", Description: "Record radbridge's prior-authorization verdict on " + d.ref, Resource: updated}
}

// evaluation is what the checks say of one draft.
type evaluation struct {
	findings    []order.Finding
	auth        order.Authorization
	disagree    bool   // billing options give different verdicts
	optionWords string // the options' verdicts, for people
}

// evaluate runs the engine's checks on o. A draft coded without CPT but with CRD
// billing options is checked once per option: the findings every option shares are
// kept, with the finding that the draft has no CPT code (whose card offers the
// options), and the verdict is the options' when they agree, undetermined when they do
// not.
func (s *Service) evaluate(o *order.Order, options []string, now time.Time) evaluation {
	c := o.Clone()
	s.check.Check(c, now)
	if o.Procedure.CPT != "" || o.Procedure.IsCPT() || len(options) == 0 {
		return evaluation{findings: c.Findings, auth: c.Authorization}
	}
	var per []*order.Order
	for _, code := range options {
		oc := o.Clone()
		oc.Procedure.CPT = code
		s.check.Check(oc, now)
		per = append(per, oc)
	}
	ev := evaluation{auth: per[0].Authorization}
	for _, f := range c.Findings {
		if f.Code == rules.CodeCPTMissing || f.Code == rules.CodeNotCPT {
			ev.findings = append(ev.findings, f) // the draft itself is not coded in CPT
		}
	}
	for _, f := range per[0].Findings {
		shared := true
		for _, oc := range per[1:] {
			shared = shared && slices.ContainsFunc(oc.Findings, func(g order.Finding) bool { return sameFinding(f, g) })
		}
		if shared {
			ev.findings = append(ev.findings, f)
		}
	}
	var words []string
	for i, oc := range per {
		words = append(words, options[i]+" "+authWords(oc.Authorization))
		if authWords(oc.Authorization) != authWords(ev.auth) {
			ev.disagree = true
		}
	}
	ev.optionWords = strings.Join(words, ", ")
	if ev.disagree {
		ev.auth = order.Authorization{Undetermined: true, Reason: "the billing options differ: " + ev.optionWords}
	}
	return ev
}

func sameFinding(a, b order.Finding) bool {
	return a.Code == b.Code && a.Location == b.Location && a.FHIRPath == b.FHIRPath
}

// authWords is a verdict in words: "needs prior authorization", "needs no prior
// authorization"...
func authWords(a order.Authorization) string {
	switch {
	case a.Number != "" && a.Required && !a.Exempt:
		return "is authorized (" + a.Number + ")"
	case a.Exempt:
		return "is exempt from prior authorization"
	case a.RecordsRequired:
		return "needs prior authorization with medical records"
	case a.Required:
		return "needs prior authorization"
	case a.Undetermined:
		return "cannot be assessed for prior authorization"
	}
	return "needs no prior authorization"
}

func verdictWords(ev evaluation) string { return "the order " + authWords(ev.auth) }

// findingCard is a card for one finding of the checks.
func (s *Service) findingCard(d draft, f order.Finding) card {
	indicator := "info"
	switch f.Severity {
	case order.SeverityError:
		indicator = "critical"
	case order.SeverityWarning:
		indicator = "warning"
	}
	where := f.FHIRPath
	if where == "" {
		where = f.Location
	}
	detail := f.Text + "\n\nradbridge finding `" + f.Code + "`"
	if f.FHIRPath != "" {
		detail += " at `" + f.FHIRPath + "`"
	}
	if f.Location != "" {
		detail += " (HL7 v2 `" + f.Location + "`)"
	}
	c := s.card(indicator, trim(d.ref+": "+firstSentence(f.Text)+bracket(where)), detail+".", []string{d.ref})
	c.Extension["radbridge.finding"] = findingExt{Code: f.Code, Severity: string(f.Severity), Class: string(f.Kind()),
		Location: f.Location, FHIRPath: f.FHIRPath}
	return c
}

// findingExt is the finding a card reports, for clients that act on it
// (card.extension "radbridge.finding").
type findingExt struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Class    string `json:"class"`
	Location string `json:"location,omitempty"`
	FHIRPath string `json:"fhir_path,omitempty"`
}

func (s *Service) card(indicator, summary, detail string, about []string) card {
	c := card{UUID: newUUID(), Summary: trim(summary), Detail: detail, Indicator: indicator, Source: cardSource{Label: s.source}}
	var refs []map[string]string
	for _, r := range about {
		refs = append(refs, map[string]string{"reference": r})
	}
	if len(refs) > 0 {
		c.Extension = map[string]any{"davinci-crd.associated-resource": refs}
	}
	return c
}

// cptSuggestions offers each billing option as the order's CPT code: the draft with a
// CPT coding added to its code.
func cptSuggestions(d draft, options []string) []suggestion {
	var out []suggestion
	for _, code := range options {
		updated, err := withCoding(d.raw, systemCPT, code)
		if err != nil {
			continue
		}
		out = append(out, suggestion{Label: "Order it as CPT " + code, UUID: newUUID(), Actions: []systemAction{{
			Type: "update", Description: "Add CPT " + code + " to the code of " + d.ref, Resource: updated}}})
	}
	return out
}

// billingOptions are the CPT codes of the CRD billing-options extensions on a draft's
// code.
func billingOptions(sr *samply.ServiceRequest) []string {
	if sr.Code == nil {
		return nil
	}
	var out []string
	for _, x := range sr.Code.Extension {
		if x.Url != extBillingOptions || x.ValueCodeableConcept == nil {
			continue
		}
		for _, c := range x.ValueCodeableConcept.Coding {
			if c.Code != nil && (order.Procedure{System: deref(c.System)}).IsCPT() && !slices.Contains(out, *c.Code) {
				out = append(out, *c.Code)
			}
		}
	}
	return out
}

// sortCards puts critical cards first, then warnings, then information, each kind in
// the order made.
func sortCards(cs []card) {
	rank := map[string]int{"critical": 0, "warning": 1, "info": 2}
	slices.SortStableFunc(cs, func(a, b card) int { return rank[a.Indicator] - rank[b.Indicator] })
}

// maxCards reads the CRD configuration's max-cards ("davinci-crd.configuration").
func maxCards(ext map[string]json.RawMessage) int {
	var cfg struct {
		MaxCards int `json:"max-cards"`
	}
	if raw, ok := ext["davinci-crd.configuration"]; ok && json.Unmarshal(raw, &cfg) == nil && cfg.MaxCards > 0 {
		return cfg.MaxCards
	}
	return 0
}

// trim shortens s to a card summary: at most maxSummary characters, cut at a word.
func trim(s string) string {
	r := []rune(s)
	if len(r) <= maxSummary {
		return s
	}
	cut := string(r[:maxSummary-1])
	if i := strings.LastIndexByte(cut, ' '); i > maxSummary/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:") + "…"
}

func firstSentence(s string) string {
	if i := strings.Index(s, ": "); i > 0 && i < 100 {
		return s[:i]
	}
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i]
	}
	return strings.TrimSuffix(s, ".")
}

func bracket(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// newUUID is a random (version 4) UUID for a card or suggestion.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
