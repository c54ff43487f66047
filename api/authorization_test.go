package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/api"
	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/internal/jsontext"
	"github.com/radbridge/radbridge/payer"
	"github.com/radbridge/radbridge/rules"
)

// caseServer is the engine API with the payer workflow, on a real store. Payer
// AETNA01 (the test orders' IN1-3) has a PAS endpoint on a loopback server that
// approves every request with the corpus approval.
type caseServer struct {
	url string
	f   *enginetest.Fixture
	now *time.Time
}

func newCaseServer(t *testing.T, pas bool) *caseServer {
	t.Helper()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	cs := &caseServer{now: &now}
	checker := enginetest.Checker(t)
	f := enginetest.New(t, enginetest.Options{Checker: checker, Clock: func() time.Time { return *cs.now }})
	prof := rules.PayerProfile{ID: "AETNA01", AppealWindow: 60 * 24 * time.Hour}
	var senders map[string]delivery.Sender
	if pas {
		approval, err := os.ReadFile(filepath.Join("..", "testdata", "priorauth", "pas", "br-payer__ClaimResponse-PractitionerRequestorResponseExample.json"))
		if err != nil {
			t.Fatal(err)
		}
		fp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var req struct {
				Entry []struct {
					Resource struct {
						Identifier []struct{ Value string } `json:"identifier"`
					} `json:"resource"`
				} `json:"entry"`
			}
			json.NewDecoder(r.Body).Decode(&req)
			obj, _ := jsontext.Compact(approval)
			claim := req.Entry[0].Resource.Identifier[0].Value
			cr := obj.AppendSet(nil, "request", []byte(`{"identifier":{"value":"`+claim+`"}}`))
			w.Write([]byte(`{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + string(cr) + `}]}`))
		}))
		t.Cleanup(fp.Close)
		prof.PAS = &rules.PAS{URL: fp.URL}
	}
	rc, err := rules.New(rules.Config{Payers: []rules.PayerProfile{prof}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := payer.New(payer.Config{Profiles: []rules.PayerProfile{prof}}, f.DB, rc, payer.Deps{Now: func() time.Time { return *cs.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.Engine.SetAuthorizer(svc)
	senders = svc.Senders()
	w, err := delivery.New(delivery.Config{Destinations: svc.Destinations(), PollInterval: 10 * time.Millisecond}, f.DB, nil, delivery.Deps{Senders: senders})
	if err != nil {
		t.Fatal(err)
	}
	f.Engine.SetDeliverer(w)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	a, err := api.New(api.Config{Engine: f.Engine, Store: f.DB, Deliverer: w, Preauth: checker, Authorizations: svc})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	a.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	cs.url, cs.f = srv.URL, f
	return cs
}

func (cs *caseServer) do(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, cs.url+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func noAuthNumber(s string) string { return strings.Replace(s, "|AUTH-1", "", 1) }

// TestAPI_AuthorizationCase: the case through the API without a PAS endpoint: required
// (the model's pending) in lists and the order, a denial with its reason, an appeal (an
// R4 Task, 201), its outcome with a validity, the filters and the report.
func TestAPI_AuthorizationCase(t *testing.T) {
	cs := newCaseServer(t, false)
	cs.f.Send(t, enginetest.RadiologyORM("O1", "P900", noAuthNumber))
	_, list := cs.do(t, "GET", "/api/orders?authorization=required", "")
	items, _ := list["items"].([]any)
	if list["total"] != 1.0 || len(items) != 1 {
		t.Fatalf("?authorization=required = %v", list)
	}
	it := items[0].(map[string]any)
	id := it["id"].(string)
	auth := it["authorization"].(map[string]any)
	if auth["status"] != "required" || auth["payer"] != "AETNA01" || auth["valid_from"] != nil || auth["decision_reason"] != "" || auth["overdue"] != false {
		t.Errorf("listed authorization %v", auth)
	}
	if _, o := cs.do(t, "GET", "/api/orders/"+id, ""); o["authorization"].(map[string]any)["status"] != "required" {
		t.Errorf("order detail authorization %v, want status required", o["authorization"])
	}
	if code, _ := cs.do(t, "GET", "/api/orders?authorization=maybe", ""); code != 400 {
		t.Errorf("?authorization=maybe answered %d, want 400", code)
	}

	code, o := cs.do(t, "POST", "/api/orders/"+id+"/authorization", `{"decision":"denied","reason":"not medically necessary"}`)
	if code != 200 || o["status"] != "denied" || o["authorization"].(map[string]any)["decision_reason"] != "not medically necessary" {
		t.Fatalf("denial answered %d %v", code, o)
	}
	if code, _ := cs.do(t, "POST", "/api/orders/"+id+"/authorization", `{"decision":"overturned"}`); code != 409 {
		t.Errorf("overturned without an appeal answered %d, want 409", code)
	}
	code, ap := cs.do(t, "POST", "/api/orders/"+id+"/appeal", `{"reason":"new imaging guideline"}`)
	if code != 201 {
		t.Fatalf("appeal answered %d %v", code, ap)
	}
	task := ap["task"].(map[string]any)
	if task["resourceType"] != "Task" || task["id"] != id+"-appeal-1" || task["restriction"].(map[string]any)["period"].(map[string]any)["end"] != "2027-01-21T10:00:00Z" {
		t.Errorf("appeal Task %v", task)
	}
	if a := ap["order"].(map[string]any)["authorization"].(map[string]any); a["status"] != "appealed" || a["appeal"] != "Task/"+id+"-appeal-1" {
		t.Errorf("order after the appeal %v", a)
	}
	if code, _ := cs.do(t, "POST", "/api/orders/"+id+"/appeal", ""); code != 409 {
		t.Errorf("a second appeal while one is open answered %d, want 409", code)
	}
	_, list = cs.do(t, "GET", "/api/orders?authorization=appealed", "")
	if list["total"] != 1.0 {
		t.Errorf("?authorization=appealed = %v", list)
	}
	code, o = cs.do(t, "POST", "/api/orders/"+id+"/authorization", `{"decision":"approved","number":"AUTH77","valid_from":"2026-11-23","valid_to":"2027-02-23"}`)
	a := o["authorization"].(map[string]any)
	if code != 200 || o["status"] != "ready" || a["status"] != "overturned" || a["number"] != "AUTH77" ||
		a["valid_from"] != "2026-11-23T00:00:00Z" || a["valid_to"] != "2027-02-23T00:00:00Z" || a["denial_reason"] != "not medically necessary" {
		t.Errorf("approval of the appeal answered %d %v", code, o)
	}
	if code, _ := cs.do(t, "POST", "/api/orders/"+id+"/authorization", `{"decision":"approved","valid_to":"soon"}`); code != 400 {
		t.Errorf("a bad valid_to answered %d, want 400", code)
	}

	_, rep := cs.do(t, "GET", "/api/reports/authorizations", "")
	byPayer := rep["by_payer"].([]any)
	byReason := rep["by_reason"].([]any)
	if rep["decided"] != 1.0 || rep["denied"] != 1.0 || len(byPayer) != 1 || byPayer[0].(map[string]any)["overturn_rate"] != 1.0 ||
		byPayer[0].(map[string]any)["denial_rate"] != 1.0 || byReason[0].(map[string]any)["reason"] != "not medically necessary" {
		t.Errorf("report %v", rep)
	}

	// A second order goes overdue 7 days and a second after its check.
	cs.f.Send(t, enginetest.RadiologyORM("O2", "P901", noAuthNumber))
	*cs.now = cs.now.Add(7*24*time.Hour + time.Second)
	_, list = cs.do(t, "GET", "/api/orders?authorization=overdue", "")
	items, _ = list["items"].([]any)
	if list["total"] != 1.0 || items[0].(map[string]any)["authorization"].(map[string]any)["overdue"] != true {
		t.Errorf("?authorization=overdue = %v", list)
	}
}

// TestAPI_AuthorizationAnswers: with a PAS endpoint the payer's answers are listed as
// it sent them.
func TestAPI_AuthorizationAnswers(t *testing.T) {
	cs := newCaseServer(t, true)
	cs.f.Send(t, enginetest.RadiologyORM("O1", "P900", noAuthNumber))
	_, list := cs.do(t, "GET", "/api/orders", "")
	id := list["items"].([]any)[0].(map[string]any)["id"].(string)
	deadline := time.Now().Add(10 * time.Second)
	var got map[string]any
	for {
		_, got = cs.do(t, "GET", "/api/orders/"+id+"/authorization", "")
		if got["status"] == "ready" || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	answers, _ := got["answers"].([]any)
	if got["status"] != "ready" || len(answers) != 1 {
		t.Fatalf("GET authorization = %v", got)
	}
	ans := answers[0].(map[string]any)
	res := ans["resource"].(map[string]any)
	if ans["claim"] != id+"-1" || ans["reference"] != "ClaimResponse/"+id+"-1/_history/1" || res["resourceType"] != "ClaimResponse" || res["id"] != "PractitionerRequestorResponseExample" {
		t.Errorf("answer %v", ans)
	}
	if a := got["authorization"].(map[string]any); a["status"] != "approved" || a["number"] != "AUTH0001" || a["valid_to"] != "2005-06-02T00:00:00Z" {
		t.Errorf("authorization %v", a)
	}
}
