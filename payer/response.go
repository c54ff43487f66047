package payer

import (
	"encoding/json"
	"strings"
	"time"
)

// The PAS extensions radbridge reads in a ClaimResponse.
const (
	extReviewAction     = pasSD + "extension-reviewAction"
	extReviewActionCode = pasSD + "extension-reviewActionCode"
	extItemPreAuthPer   = pasSD + "extension-itemPreAuthPeriod"
	extErrorElement     = pasSD + "extension-errorElement"
	extErrorPath        = pasSD + "extension-errorPath"
	systemReviewAction  = "https://codesystem.x12.org/005010/306"
)

// outcome is what a payer's answer means for the request.
type outcome int

const (
	outPended     outcome = iota // under review, or nothing radbridge can read as a decision
	outApproved                  // X12 306 A1: certified in total
	outPartial                   // A2 certified partial, A6 modified
	outDenied                    // A3 not certified
	outError                     // the payer could not process the request (ClaimResponse.outcome error, OperationOutcome)
	outUnreadable                // not a ClaimResponse radbridge can read
)

func (o outcome) String() string {
	switch o {
	case outApproved:
		return "approved"
	case outPartial:
		return "partially approved"
	case outDenied:
		return "denied"
	case outError:
		return "request rejected"
	case outUnreadable:
		return "unreadable answer"
	}
	return "pended"
}

// answer is one ClaimResponse read.
type answer struct {
	raw     json.RawMessage // the ClaimResponse as the payer sent it
	outcome outcome
	// code is the review action code that decided the outcome (the first item's when
	// they agree), "" when none was given.
	code string
	// unknown lists review action codes radbridge does not read as a decision.
	unknown            []string
	number             string
	validFrom, validTo time.Time
	// reasons are the payer's reasons (review action reason codes, else disposition,
	// else process notes); errors the request errors of an error outcome.
	reasons, errors []string
	// claim names the request answered: request.identifier, else the identifiers,
	// else the id in request.reference ("Claim/<id>").
	claims []string
	ref    string // request.reference id, when given as Claim/<id>
}

type claimResponseDoc struct {
	ResourceType string       `json:"resourceType"`
	Identifier   []identifier `json:"identifier"`
	Request      *reference   `json:"request"`
	Outcome      string       `json:"outcome"`
	Disposition  string       `json:"disposition"`
	PreAuthRef   string       `json:"preAuthRef"`
	PreAuthPer   *period      `json:"preAuthPeriod"`
	Item         []struct {
		ItemSequence int         `json:"itemSequence"`
		Extension    []extension `json:"extension"`
		Adjudication []struct {
			Extension []extension `json:"extension"`
		} `json:"adjudication"`
	} `json:"item"`
	Error []struct {
		Extension []extension `json:"extension"`
		Code      concept     `json:"code"`
	} `json:"error"`
	ProcessNote []struct {
		Text string `json:"text"`
	} `json:"processNote"`
}

// readAnswers reads a payer's answer document: a Bundle (a PAS response Bundle, or a
// notification Bundle) whose ClaimResponse entries are each an answer, a ClaimResponse
// alone, or an OperationOutcome (an error answer naming no request). A document radbridge
// cannot read gives one unreadable answer.
func readAnswers(doc []byte) []answer {
	var head struct {
		ResourceType string     `json:"resourceType"`
		Entry        []rawEntry `json:"entry"`
		Issue        []struct {
			Diagnostics string   `json:"diagnostics"`
			Details     *concept `json:"details"`
			Code        string   `json:"code"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return []answer{{outcome: outUnreadable, errors: []string{"the answer is not JSON"}}}
	}
	switch head.ResourceType {
	case "ClaimResponse":
		return []answer{readClaimResponse(doc)}
	case "Bundle":
		var out []answer
		for _, e := range head.Entry {
			if resourceType(e.Resource) == "ClaimResponse" {
				out = append(out, readClaimResponse(e.Resource))
			}
		}
		if len(out) == 0 {
			return []answer{{outcome: outUnreadable, errors: []string{"the answer Bundle holds no ClaimResponse"}}}
		}
		return out
	case "OperationOutcome":
		a := answer{outcome: outError, raw: doc}
		for _, is := range head.Issue {
			a.errors = append(a.errors, firstNonEmpty(is.Diagnostics, is.Details.words(), is.Code))
		}
		return []answer{a}
	}
	return []answer{{outcome: outUnreadable, errors: []string{"the answer is a " + firstNonEmpty(head.ResourceType, "document without resourceType") + ", not a ClaimResponse"}}}
}

// readClaimResponse reads one ClaimResponse: the items' review action codes decide the
// outcome (X12 306: A1 approved, A2 and A6 partially approved, A3 denied, A4 pended);
// any other code, or none, is pended, never approved.
func readClaimResponse(raw json.RawMessage) answer {
	a := answer{raw: raw}
	var cr claimResponseDoc
	if err := json.Unmarshal(raw, &cr); err != nil {
		a.outcome, a.errors = outUnreadable, []string{"the ClaimResponse does not decode: " + err.Error()}
		return a
	}
	if cr.Request != nil {
		if cr.Request.Identifier != nil && cr.Request.Identifier.Value != "" {
			a.claims = append(a.claims, cr.Request.Identifier.Value)
		}
		if typ, id, ok := strings.Cut(cr.Request.Reference, "/"); ok && typ == "Claim" && id != "" {
			a.ref = id
		}
	}
	for _, id := range cr.Identifier {
		if id.Value != "" {
			a.claims = append(a.claims, id.Value)
		}
	}
	if cr.Outcome == "error" || len(cr.Error) > 0 && len(cr.Item) == 0 {
		a.outcome = outError
		for _, e := range cr.Error {
			s := "X12 901 " + firstNonEmpty(e.Code.code(""), e.Code.words())
			for _, x := range e.Extension {
				switch x.URL {
				case extErrorElement:
					s += " at " + x.ValueString
				case extErrorPath:
					s += " (" + x.ValueString + ")"
				}
			}
			a.errors = append(a.errors, s)
		}
		return a
	}
	a.number = cr.PreAuthRef
	if cr.PreAuthPer != nil {
		a.validFrom, a.validTo = parseDate(cr.PreAuthPer.Start), parseDate(cr.PreAuthPer.End)
	}
	var decided []outcome
	for _, it := range cr.Item {
		for _, x := range it.Extension {
			if x.URL == extItemPreAuthPer && x.ValuePeriod != nil && a.validFrom.IsZero() && a.validTo.IsZero() {
				a.validFrom, a.validTo = parseDate(x.ValuePeriod.Start), parseDate(x.ValuePeriod.End)
			}
		}
		code, number, reasons := "", "", []string(nil)
		for _, adj := range it.Adjudication {
			for _, x := range adj.Extension {
				switch x.URL {
				case extReviewActionCode:
					code = firstNonEmpty(code, x.ValueCodeableConcept.code(""))
				case extReviewAction:
					for _, sub := range x.Extension {
						switch sub.URL {
						case extReviewActionCode, "code":
							code = firstNonEmpty(code, sub.ValueCodeableConcept.code(""))
						case "number":
							number = firstNonEmpty(number, sub.ValueString)
						case "reasonCode":
							if w := sub.ValueCodeableConcept.words(); w != "" {
								reasons = append(reasons, w)
							}
						}
					}
				}
			}
		}
		if code == "" {
			continue
		}
		a.number = firstNonEmpty(a.number, number)
		a.reasons = append(a.reasons, reasons...)
		out := reviewOutcome(code)
		if out == outPended && code != "A4" {
			a.unknown = append(a.unknown, code)
		}
		if a.code == "" || out == outPended {
			a.code = code
		}
		decided = append(decided, out)
	}
	a.outcome = combine(decided)
	if len(a.reasons) == 0 {
		switch {
		case cr.Disposition != "":
			a.reasons = []string{cr.Disposition}
		default:
			for _, n := range cr.ProcessNote {
				if n.Text != "" {
					a.reasons = append(a.reasons, n.Text)
				}
			}
		}
	}
	return a
}

// reviewOutcome reads one X12 306 review action code.
func reviewOutcome(code string) outcome {
	switch strings.ToUpper(strings.TrimSpace(code)) {
	case "A1":
		return outApproved
	case "A2", "A6":
		return outPartial
	case "A3":
		return outDenied
	}
	return outPended // A4, and every code radbridge does not know
}

// combine is the outcome of a request from its items': pended while any item is (or
// when no item was decided), approved when every item is, denied when every item is,
// partially approved otherwise.
func combine(items []outcome) outcome {
	if len(items) == 0 {
		return outPended
	}
	all := func(o outcome) bool {
		for _, x := range items {
			if x != o {
				return false
			}
		}
		return true
	}
	for _, x := range items {
		if x == outPended {
			return outPended
		}
	}
	switch {
	case all(outApproved):
		return outApproved
	case all(outDenied):
		return outDenied
	}
	return outPartial
}

// parseDate reads a FHIR date or dateTime; the zero time when it is neither.
func parseDate(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func resourceType(raw json.RawMessage) string {
	var h struct {
		ResourceType string `json:"resourceType"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.ResourceType
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
