package cdshooks_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"unicode/utf8"
)

// The rules a CDS Hooks 2.0 answer and the CRD 2.2.1 coverage information it carries
// must follow, checked on the decoded answer. They are written from the specifications,
// independently of the service, and checked on the corpus's payer answers too.

const coverageInfoURL = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"

type specOptions struct {
	// allowAssertionID accepts a coverage-assertion-id (a payer's answer has one;
	// radbridge's must not).
	allowAssertionID bool
	// wantSource is the required source.label of every card; "" for any.
	wantSource string
}

// checkResponse returns the violations of the rules in resp.
func checkResponse(resp map[string]any, opt specOptions) []string {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	cards, ok := resp["cards"].([]any)
	if !ok {
		bad("cards is not an array (CDS Hooks: cards is required)")
	}
	for i, c := range cards {
		card, _ := c.(map[string]any)
		summary, _ := card["summary"].(string)
		switch {
		case summary == "":
			bad("cards[%d].summary is missing", i)
		case utf8.RuneCountInString(summary) >= 140:
			bad("cards[%d].summary has %d characters, want fewer than 140", i, utf8.RuneCountInString(summary))
		}
		if ind, _ := card["indicator"].(string); !slices.Contains([]string{"info", "warning", "critical"}, ind) {
			bad("cards[%d].indicator %q is not info, warning or critical", i, ind)
		}
		src, _ := card["source"].(map[string]any)
		label, _ := src["label"].(string)
		switch {
		case label == "":
			bad("cards[%d].source.label is missing", i)
		case opt.wantSource != "" && label != opt.wantSource:
			bad("cards[%d].source.label %q, want %q", i, label, opt.wantSource)
		}
		if d, ok := card["detail"]; ok {
			if _, isString := d.(string); !isString {
				bad("cards[%d].detail is not a string", i)
			}
		}
		if u, ok := card["uuid"].(string); ok && !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(u) {
			bad("cards[%d].uuid %q is not a UUID", i, u)
		}
		sugg, _ := card["suggestions"].([]any)
		if len(sugg) > 0 {
			if sb, _ := card["selectionBehavior"].(string); sb != "at-most-one" && sb != "any" {
				bad("cards[%d] has suggestions but selectionBehavior %q (CDS Hooks: required, at-most-one or any)", i, sb)
			}
		}
		for j, s := range sugg {
			sg, _ := s.(map[string]any)
			if l, _ := sg["label"].(string); l == "" {
				bad("cards[%d].suggestions[%d].label is missing", i, j)
			}
			acts, _ := sg["actions"].([]any)
			for k, a := range acts {
				errs = append(errs, checkAction(fmt.Sprintf("cards[%d].suggestions[%d].actions[%d]", i, j, k), a)...)
			}
		}
	}
	acts, _ := resp["systemActions"].([]any)
	for i, a := range acts {
		where := fmt.Sprintf("systemActions[%d]", i)
		errs = append(errs, checkAction(where, a)...)
		res, _ := a.(map[string]any)["resource"].(map[string]any)
		exts, _ := res["extension"].([]any)
		n := 0
		for _, e := range exts {
			ext, _ := e.(map[string]any)
			if ext["url"] == coverageInfoURL {
				n++
				errs = append(errs, checkCoverageInfo(where+".resource coverage-information", ext, opt)...)
			}
		}
		if n == 0 {
			bad("%s carries no coverage-information extension", where)
		}
	}
	return errs
}

func checkAction(where string, a any) []string {
	act, _ := a.(map[string]any)
	typ, _ := act["type"].(string)
	switch typ {
	case "create", "update":
		if _, ok := act["resource"].(map[string]any); !ok {
			return []string{where + ": a " + typ + " action needs a resource"}
		}
	case "delete":
		if _, ok := act["resourceId"]; !ok {
			return []string{where + ": a delete action needs a resourceId"}
		}
	default:
		return []string{fmt.Sprintf("%s.type %q is not create, update or delete", where, typ)}
	}
	return nil
}

var crdCodes = map[string][]string{
	"covered":     {"covered", "not-covered", "conditional"},
	"pa-needed":   {"auth-needed", "no-auth", "satisfied", "performpa", "conditional"},
	"doc-needed":  {"clinical", "admin", "patient", "conditional"},
	"doc-purpose": {"withpa", "withclaim", "withorder", "retain-doc", "OTH"},
	"info-needed": {"performer", "location", "timeframe", "contract-window", "detail-code", "OTH"},
}

// checkCoverageInfo checks one ext-coverage-information: coverage (a Reference) and
// covered and date exactly once, codes from their value sets, and the invariants
// crd-ci-q2 (not-covered has no pa-needed), crd-ci-q3 (info-needed when and only when
// something is conditional) and crd-ci-q5 (satisfied-pa-id when and only when pa-needed
// is satisfied).
func checkCoverageInfo(where string, ext map[string]any, opt specOptions) []string {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, where+": "+fmt.Sprintf(format, a...)) }
	count := map[string]int{}
	codes := map[string][]string{}
	for _, s := range ext["extension"].([]any) {
		sub := s.(map[string]any)
		url, _ := sub["url"].(string)
		count[url]++
		if c, ok := sub["valueCode"].(string); ok {
			codes[url] = append(codes[url], c)
		}
		switch url {
		case "coverage":
			ref, _ := sub["valueReference"].(map[string]any)
			if r, _ := ref["reference"].(string); r == "" {
				bad("coverage has no valueReference.reference")
			}
		case "date":
			if d, _ := sub["valueDate"].(string); !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(d) {
				bad("date %q is not a FHIR date", d)
			}
		case "coverage-assertion-id":
			if !opt.allowAssertionID {
				bad("carries a coverage-assertion-id: only the payer can assert coverage")
			}
		}
	}
	for _, one := range []string{"coverage", "covered", "date"} {
		if count[one] != 1 {
			bad("%s appears %d times, want once", one, count[one])
		}
	}
	for _, atMostOne := range []string{"pa-needed", "satisfied-pa-id"} {
		if count[atMostOne] > 1 {
			bad("%s appears %d times, want at most once", atMostOne, count[atMostOne])
		}
	}
	for url, list := range codes {
		for _, c := range list {
			if vs, ok := crdCodes[url]; ok && !slices.Contains(vs, c) {
				bad("%s %q is not in its value set %v", url, c, vs)
			}
		}
	}
	conditional := false
	for _, u := range []string{"covered", "pa-needed", "doc-needed"} {
		conditional = conditional || slices.Contains(codes[u], "conditional")
	}
	if slices.Contains(codes["covered"], "not-covered") && count["pa-needed"] > 0 {
		bad("crd-ci-q2: not-covered with pa-needed")
	}
	if conditional != (count["info-needed"] > 0) {
		bad("crd-ci-q3: info-needed present %v, something conditional %v", count["info-needed"] > 0, conditional)
	}
	if slices.Contains(codes["pa-needed"], "satisfied") != (count["satisfied-pa-id"] > 0) {
		bad("crd-ci-q5: satisfied-pa-id present %v, pa-needed satisfied %v", count["satisfied-pa-id"] > 0, slices.Contains(codes["pa-needed"], "satisfied"))
	}
	return errs
}

// subCodes returns the codes of a coverage-information's sub-extension url.
func subCodes(ext map[string]any, url string) []string {
	var out []string
	for _, s := range ext["extension"].([]any) {
		sub := s.(map[string]any)
		if sub["url"] == url {
			if c, ok := sub["valueCode"].(string); ok {
				out = append(out, c)
			}
		}
	}
	return out
}

func decode(tb interface{ Fatalf(string, ...any) }, b []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("answer is not a JSON object: %v\n%s", err, b)
	}
	return m
}
