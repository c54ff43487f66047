package cdshooks_test

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/cdshooks"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/rules"
)

var hookTime = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func wantSource() string {
	return "radbridge imaging rules (rules/data/imaging-codes.csv, version " + rules.TableVersion() + ")"
}

func TestDiscovery(t *testing.T) {
	h := newHooks(t, enginetest.Checker(t), hookTime)
	resp, err := http.Get(h.srv.URL + "/cds-services")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Services []struct {
			Hook, ID, Title, Description string
			Prefetch                     map[string]string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /cds-services: %d, %v", resp.StatusCode, err)
	}
	want := map[string]string{cdshooks.OrderSelectID: "order-select", cdshooks.OrderSignID: "order-sign"}
	if len(doc.Services) != 2 {
		t.Fatalf("services %+v", doc.Services)
	}
	for _, s := range doc.Services {
		if want[s.ID] != s.Hook || s.Description == "" {
			t.Errorf("service %+v", s)
		}
		if s.Prefetch["patient"] != "Patient/{{context.patientId}}" || s.Prefetch["coverage"] != "Coverage?patient={{context.patientId}}&status=active" ||
			s.Prefetch["encounter"] != "Encounter/{{context.encounterId}}" {
			t.Errorf("%s prefetch %v", s.ID, s.Prefetch)
		}
	}
}

// TestCall_corpusOrderSign: each order-sign request of the corpus gets an answer that
// follows CDS Hooks 2.0 and CRD 2.2.1: cards with short summaries, known indicators and
// radbridge's rule table as their source, and a systemActions update with coverage
// information (no coverage-assertion-id) for each draft ServiceRequest, the draft
// otherwise as sent.
func TestCall_corpusOrderSign(t *testing.T) {
	h := newHooks(t, enginetest.Checker(t), hookTime)
	tests := []struct {
		file      string
		wantDraft []string // the draft ServiceRequests, each to get an update
		wantCards int      // at least
	}{
		{file: "CRDServiceRequest", wantDraft: []string{"1357", "2468"}, wantCards: 3},
		{file: "CRDServiceRequest3", wantCards: 1}, // a CommunicationRequest: not checked, said so
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			req := crdFile(t, tc.file)
			code, body := h.sign(t, cdshooks.OrderSignID, req)
			if code != 200 {
				t.Fatalf("answered %d %s", code, body)
			}
			resp := decode(t, body)
			for _, e := range checkResponse(resp, specOptions{wantSource: wantSource()}) {
				t.Error(e)
			}
			cards, _ := resp["cards"].([]any)
			if len(cards) < tc.wantCards {
				t.Errorf("%d cards, want at least %d:\n%s", len(cards), tc.wantCards, body)
			}
			drafts := draftsOf(t, req)
			acts, _ := resp["systemActions"].([]any)
			var got []string
			for _, a := range acts {
				act := a.(map[string]any)
				res := act["resource"].(map[string]any)
				id, _ := res["id"].(string)
				got = append(got, id)
				sent := drafts[id]
				if act["type"] != "update" || sent == nil {
					t.Errorf("action %v names no draft", act)
					continue
				}
				// Only the coverage-information extension differs from the draft sent.
				if diff := withoutCoverageInfo(res); !equalJSON(diff, withoutCoverageInfo(sent)) {
					t.Errorf("update of %s changes more than the coverage information:\n got %v\nsent %v", id, diff, withoutCoverageInfo(sent))
				}
			}
			if !slices.Equal(got, tc.wantDraft) {
				t.Errorf("updates for %q, want %q", got, tc.wantDraft)
			}
		})
	}
}

// TestCall_corpusVerdicts: what the corpus drafts get: the contrast mammography (coded
// in SNOMED CT, billed as one of four CPT codes the rules do not agree on) and the
// oxygen rental (HCPCS, no CPT) cannot be assessed: pa-needed conditional, detail-code
// needed; the mammography's cards offer its billing options as CPT codes.
func TestCall_corpusVerdicts(t *testing.T) {
	h := newHooks(t, enginetest.Checker(t), hookTime)
	_, body := h.sign(t, cdshooks.OrderSignID, crdFile(t, "CRDServiceRequest"))
	resp := decode(t, body)
	for _, a := range resp["systemActions"].([]any) {
		res := a.(map[string]any)["resource"].(map[string]any)
		var info map[string]any
		for _, e := range res["extension"].([]any) {
			if e.(map[string]any)["url"] == coverageInfoURL {
				info = e.(map[string]any)
			}
		}
		if pa := subCodes(info, "pa-needed"); !slices.Equal(pa, []string{"conditional"}) || !slices.Contains(subCodes(info, "info-needed"), "detail-code") ||
			!slices.Equal(subCodes(info, "covered"), []string{"conditional"}) {
			t.Errorf("%s: pa-needed %v, info-needed %v", res["id"], pa, subCodes(info, "info-needed"))
		}
		ref := info["extension"].([]any)[0].(map[string]any)["valueReference"].(map[string]any)["reference"]
		if ref != "http://example.org/someEHR/fhir/Coverage/COV1" {
			t.Errorf("%s: coverage %v, want the prefetched Coverage's fullUrl", res["id"], ref)
		}
	}
	var suggested []string
	for _, c := range resp["cards"].([]any) {
		sugg, _ := c.(map[string]any)["suggestions"].([]any)
		for _, s := range sugg {
			suggested = append(suggested, s.(map[string]any)["label"].(string))
		}
	}
	if !slices.Equal(suggested, []string{"Order it as CPT 77061", "Order it as CPT 77062", "Order it as CPT 77065", "Order it as CPT 77066"}) {
		t.Errorf("suggestions %q", suggested)
	}
}

// The spec checks accept the corpus's own payer answers (which may carry a
// coverage-assertion-id, being the payer's): they check the rules, not radbridge.
func TestCheckResponse_corpusAnswers(t *testing.T) {
	for _, name := range []string{"CRDServiceResponse", "CRDServiceResponse3"} {
		resp := decode(t, crdFile(t, name))
		for _, e := range checkResponse(resp, specOptions{allowAssertionID: true}) {
			t.Errorf("%s: %s", name, e)
		}
		if errs := checkResponse(resp, specOptions{}); !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, "coverage-assertion-id") }) {
			t.Errorf("%s: the assertion id rule did not fire: %q", name, errs)
		}
	}
}

func draftsOf(t *testing.T, req []byte) map[string]map[string]any {
	var r struct {
		Context struct {
			DraftOrders struct {
				Entry []struct {
					Resource map[string]any `json:"resource"`
				} `json:"entry"`
			} `json:"draftOrders"`
		} `json:"context"`
	}
	if err := json.Unmarshal(req, &r); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, e := range r.Context.DraftOrders.Entry {
		if e.Resource["resourceType"] == "ServiceRequest" {
			out[e.Resource["id"].(string)] = e.Resource
		}
	}
	return out
}

// withoutCoverageInfo is a resource with its coverage-information extensions removed
// (and the extension member when nothing else is left).
func withoutCoverageInfo(res map[string]any) map[string]any {
	out := maps.Clone(res)
	exts, _ := out["extension"].([]any)
	var kept []any
	for _, e := range exts {
		if e.(map[string]any)["url"] != coverageInfoURL {
			kept = append(kept, e)
		}
	}
	delete(out, "extension")
	if len(kept) > 0 {
		out["extension"] = kept
	}
	return out
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestCall_security: a hook call needs a JWT of an allowed issuer, signed with its key
// by an asymmetric algorithm, for this service, unexpired, at most five minutes long,
// with a jti not used before; the token is checked before the body is read.
func TestCall_security(t *testing.T) {
	h := newHooks(t, enginetest.Checker(t), hookTime)
	aud := h.srv.URL + "/cds-services/" + cdshooks.OrderSignID
	stranger := newEHR(t, "https://other.example.org", "k")
	impostor := newEHR(t, h.client.iss, h.client.kid) // the right issuer and kid, another key
	replayed := h.client.token(t, aud, hookTime, nil)
	tests := []struct {
		name  string
		token string
	}{
		{name: "no token"},
		{name: "not a JWT", token: "opaque-token"},
		{name: "alg none", token: noneToken(h.client, aud, hookTime)},
		{name: "HS256 with the JWKS as secret", token: hmacToken(t, h.client, aud, hookTime)},
		{name: "unknown issuer", token: stranger.token(t, aud, hookTime, nil)},
		{name: "another key", token: impostor.token(t, aud, hookTime, nil)},
		{name: "another service", token: h.client.token(t, h.srv.URL+"/cds-services/"+cdshooks.OrderSelectID, hookTime, nil)},
		{name: "expired", token: h.client.token(t, aud, hookTime.Add(-10*time.Minute), nil)},
		{name: "no exp", token: h.client.token(t, aud, hookTime, func(c *jwt.Claims) { c.Expiry = nil })},
		{name: "exp an hour ahead", token: h.client.token(t, aud, hookTime, func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(hookTime.Add(time.Hour)) })},
		{name: "issued in the future", token: h.client.token(t, aud, hookTime.Add(3*time.Minute), func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(hookTime.Add(4 * time.Minute)) })},
		{name: "no jti", token: h.client.token(t, aud, hookTime, func(c *jwt.Claims) { c.ID = "" })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, hdr, body := h.call(t, cdshooks.OrderSignID, tc.token, crdFile(t, "CRDServiceRequest"))
			if code != 401 || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("answered %d (WWW-Authenticate %q) %s, want 401", code, hdr.Get("WWW-Authenticate"), body)
			}
		})
	}
	if code, _, body := h.call(t, cdshooks.OrderSignID, replayed, crdFile(t, "CRDServiceRequest")); code != 200 {
		t.Fatalf("a valid token answered %d %s", code, body)
	}
	if code, _, _ := h.call(t, cdshooks.OrderSignID, replayed, crdFile(t, "CRDServiceRequest")); code != 401 {
		t.Errorf("the same token again answered %d, want 401 (jti replay)", code)
	}
	if code, _, _ := h.call(t, "no-such-service", h.client.token(t, h.srv.URL+"/cds-services/no-such-service", hookTime, nil), nil); code != 404 {
		t.Errorf("an unknown service answered %d, want 404", code)
	}
	if code, _, body := h.call(t, cdshooks.OrderSelectID, h.client.token(t, h.srv.URL+"/cds-services/"+cdshooks.OrderSelectID, hookTime, nil),
		crdFile(t, "CRDServiceRequest")); code != 400 {
		t.Errorf("an order-sign request to the order-select service answered %d %s, want 400", code, body)
	}
}

// readCounter is a request body that counts its reads.
type readCounter struct{ n int }

func (r *readCounter) Read([]byte) (int, error) { r.n++; return 0, io.EOF }

func TestCall_tokenCheckedBeforeBody(t *testing.T) {
	h := newHooks(t, enginetest.Checker(t), hookTime)
	r := mux.NewRouter()
	h.svc.Routes(r)
	body := &readCounter{}
	req := httptest.NewRequest(http.MethodPost, "/cds-services/"+cdshooks.OrderSignID, body)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Code != 401 || body.n != 0 {
		t.Errorf("without a token: %d, body read %d times; want 401 and no read", rec.Code, body.n)
	}
}

func TestNew_badClients(t *testing.T) {
	e := newEHR(t, "https://ehr.example.org", "k1")
	tests := []struct {
		name    string
		clients []cdshooks.Client
	}{
		{name: "no issuer", clients: []cdshooks.Client{{JWKS: e.jwks}}},
		{name: "twice", clients: []cdshooks.Client{{Issuer: e.iss, JWKS: e.jwks}, {Issuer: e.iss, JWKS: e.jwks}}},
		{name: "not JSON", clients: []cdshooks.Client{{Issuer: e.iss, JWKS: []byte("{")}}},
		{name: "no keys", clients: []cdshooks.Client{{Issuer: e.iss, JWKS: []byte(`{"keys":[]}`)}}},
		{name: "symmetric key", clients: []cdshooks.Client{{Issuer: e.iss, JWKS: []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"s"}]}`)}}},
	}
	for _, tc := range tests {
		if _, err := cdshooks.New(cdshooks.Config{Clients: tc.clients}, enginetest.Checker(t), cdshooks.Deps{}); err == nil {
			t.Errorf("%s: New accepted the clients", tc.name)
		}
	}
	if _, err := cdshooks.New(cdshooks.Config{BaseURL: "ftp://x"}, enginetest.Checker(t), cdshooks.Deps{}); err == nil {
		t.Error("New accepted base_url ftp://x")
	}
	if _, err := cdshooks.New(cdshooks.Config{}, nil, cdshooks.Deps{}); err == nil || errors.Is(err, nil) {
		t.Error("New accepted a nil checker")
	}
}
