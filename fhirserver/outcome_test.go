package fhirserver_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/internal/enginetest"
)

// outcomeIssue is an OperationOutcome issue as a 201 answers it, its expression
// relative to the ServiceRequest ("ServiceRequest.requester" also for an entry of a
// transaction).
type outcomeIssue struct {
	Severity, Code, Diagnostics string
	Expression                  []string
	Details                     *struct{ Coding []struct{ Code string } }
}

func (is outcomeIssue) finding() string {
	if is.Details == nil || len(is.Details.Coding) == 0 {
		return ""
	}
	return is.Details.Coding[0].Code
}

func (is outcomeIssue) at() string {
	x := strings.Join(is.Expression, ",")
	if _, rest, ok := strings.Cut(x, "].resource"); ok && strings.HasPrefix(x, "Bundle.entry[") {
		return "ServiceRequest" + rest
	}
	return x
}

// requestSample is a ServiceRequest of the corpus, with what its requester names.
type requestSample struct {
	name string
	post []byte // what to post: the ServiceRequest, or its transaction Bundle
	// entry is the ServiceRequest's entry in the Bundle, -1 for a ServiceRequest alone.
	entry int
	// requester is set (a reference, an identifier or a display), and resolvable: it
	// carries an identifier or a display, or names a contained resource or an entry.
	requester, resolvable bool
}

// requestSamples lists the ServiceRequests of the corpus that are posted alone or in
// a transaction.
func requestSamples(t *testing.T) []requestSample {
	t.Helper()
	dirs := []string{"../testdata/fhir"}
	if d := os.Getenv("RADBRIDGE_CONFORMANCE_DIR"); d != "" {
		dirs = append(dirs, filepath.Join(d, "fhir"))
	}
	type reference struct {
		Reference, Display string
		Identifier         *struct{ Value string }
	}
	type request struct {
		ResourceType string
		Requester    *reference
		Contained    []struct{ ResourceType, ID string }
	}
	seen := map[string]bool{}
	var out []requestSample
	for _, dir := range dirs {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, p := range paths {
			name := filepath.Base(p)
			data, err := os.ReadFile(p)
			if err != nil || seen[name] {
				continue
			}
			seen[name] = true
			var doc struct {
				request
				Type  string
				Entry []struct {
					FullURL  string
					Resource json.RawMessage
				}
			}
			if json.Unmarshal(data, &doc) != nil {
				continue
			}
			resolves := func(sr request, entries map[string]bool) (bool, bool) {
				r := sr.Requester
				if r == nil {
					return false, false
				}
				if r.Display != "" || r.Identifier != nil {
					return true, true
				}
				for _, c := range sr.Contained {
					if r.Reference == "#"+c.ID {
						return true, true
					}
				}
				return r.Reference != "", entries[r.Reference]
			}
			switch {
			case doc.ResourceType == "ServiceRequest":
				set, ok := resolves(doc.request, nil)
				out = append(out, requestSample{name: name, post: data, entry: -1, requester: set, resolvable: ok})
			case doc.ResourceType == "Bundle" && doc.Type == "transaction":
				entries := map[string]bool{}
				for _, e := range doc.Entry {
					var r struct{ ResourceType, ID string }
					_ = json.Unmarshal(e.Resource, &r)
					entries[e.FullURL], entries[r.ResourceType+"/"+r.ID] = true, true
				}
				for i, e := range doc.Entry {
					var sr request
					if json.Unmarshal(e.Resource, &sr) == nil && sr.ResourceType == "ServiceRequest" {
						set, ok := resolves(sr, entries)
						out = append(out, requestSample{name: name, post: data, entry: i, requester: set, resolvable: ok})
					}
				}
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d ServiceRequests in the corpus", len(out))
	}
	return out
}

// TestFHIR_Outcomes_NoContradictions: the issues of the 201 answer to every
// ServiceRequest of the corpus, alone or in a transaction, report each problem once and
// contradict nothing the request carries: no two issues say the same at one element, a
// mapping issue never reports an element missing where a check finding reports on it,
// and when the request names its requester no issue says there is no ordering provider
// or no signer.
func TestFHIR_Outcomes_NoContradictions(t *testing.T) {
	resolvable := 0
	for _, s := range requestSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t, enginetest.Checker(t))
			srv := fhirServer(t, f)
			var issues []outcomeIssue
			if s.entry < 0 {
				r := f.Do(t, "POST", srv.URL+"/fhir/ServiceRequest", s.post, "Prefer", "return=OperationOutcome")
				if r.Status != http.StatusCreated {
					t.Fatalf("POST: %d %s", r.Status, r.Raw)
				}
				var oo struct{ Issue []outcomeIssue }
				if err := json.Unmarshal(r.Raw, &oo); err != nil {
					t.Fatal(err)
				}
				issues = oo.Issue[1:] // the first says what was done
			} else {
				r, entries := postTransaction(t, f, srv.URL, s.post, "Prefer", "return=OperationOutcome")
				if r.Status != http.StatusOK {
					t.Fatalf("transaction: %d %s", r.Status, r.Raw)
				}
				var oo struct{ Issue []outcomeIssue }
				if err := json.Unmarshal(entries[s.entry].Response.Outcome, &oo); err != nil {
					t.Fatal(err)
				}
				issues = oo.Issue
			}
			said := map[string]bool{}
			findingAt := map[string]bool{}
			for _, is := range issues {
				if is.finding() != "" {
					findingAt[is.at()] = true
				}
			}
			for _, is := range issues {
				key := is.at() + "\x00" + is.Diagnostics
				if said[key] {
					t.Errorf("said twice at %s: %s", is.at(), is.Diagnostics)
				}
				said[key] = true
				if is.finding() == "" && is.Code == "required" && findingAt[is.at()] {
					t.Errorf("the mapping reports %s missing (%q) where the checks report on it", is.at(), is.Diagnostics)
				}
				if !s.requester {
					continue
				}
				if is.finding() == "provider.missing" || is.finding() == "signature.missing" && is.at() == "ServiceRequest.requester" ||
					is.finding() == "" && is.at() == "ServiceRequest.requester" && is.Code == "required" {
					t.Errorf("the requester is given, but an issue says it is missing: %+v", is)
				}
			}
			if s.resolvable {
				resolvable++
			}
		})
	}
	if resolvable < 5 {
		t.Errorf("only %d samples name a resolvable requester", resolvable)
	}
}
