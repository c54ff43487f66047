package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/api"
	"github.com/radbridge/radbridge/auth"
	"github.com/radbridge/radbridge/internal/enginetest"
)

// apiServer serves the API over f with every request made by a principal holding
// scopes (the authentication middleware's job, tested in package auth and cmd).
func apiServer(t *testing.T, f *enginetest.Fixture, scopes ...string) *httptest.Server {
	t.Helper()
	a, err := api.New(api.Config{Engine: f.Engine, Store: f.DB})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	a.Routes(r)
	p := &auth.Principal{Name: "t", Scopes: auth.NewScopes(scopes)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.ServeHTTP(w, req.WithContext(auth.NewContext(req.Context(), p)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Without radbridge/phi.read, raw messages and patient identity are masked; with it
// they are shown.
func TestAPI_PHIMasked(t *testing.T) {
	f := enginetest.New(t, enginetest.Options{Checker: enginetest.Checker(t)})
	f.Send(t, enginetest.RadiologyORM("M1", "P900", nil)) // PID: MRN55, DOE^JANE, 19800102
	identity := []string{"MRN55", "DOE", "JANE", "19800102", "1980-01-02"}
	get := func(srv *httptest.Server, path string) enginetest.Response {
		t.Helper()
		r := enginetest.Do(t, http.MethodGet, srv.URL+path, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, r.Status, r.Raw)
		}
		return r
	}

	masked := apiServer(t, f, auth.ScopeAPIRead)
	list := get(masked, "/api/messages")
	msgID := list.Body["items"].([]any)[0].(map[string]any)["id"].(string)
	orders := get(masked, "/api/orders?placer=P900")
	orderID := orders.Body["items"].([]any)[0].(map[string]any)["id"].(string)
	for _, path := range []string{"/api/messages", "/api/messages/" + msgID, "/api/orders", "/api/orders/" + orderID} {
		r := get(masked, path)
		for _, s := range identity {
			if strings.Contains(string(r.Raw), s) {
				t.Errorf("GET %s without phi.read shows %q: %s", path, s, r.Raw)
			}
		}
	}
	if raw := get(masked, "/api/messages/"+msgID).Body["raw"]; raw != "(masked: needs radbridge/phi.read)" {
		t.Errorf("raw without phi.read = %v", raw)
	}
	if p := orders.Body["items"].([]any)[0].(map[string]any)["patient_id"]; p != "(masked: needs radbridge/phi.read)" {
		t.Errorf("patient_id without phi.read = %v", p)
	}
	o := get(masked, "/api/orders/"+orderID).Body
	if o["placer"] != "P900" || o["status"] == "" || o["procedure"].(map[string]any)["cpt"] != "70553" {
		t.Errorf("masked order lost what is no PHI: %v", o)
	}

	shown := apiServer(t, f, auth.ScopeAPIRead, auth.ScopePHIRead)
	if raw, _ := get(shown, "/api/messages/"+msgID).Body["raw"].(string); !strings.Contains(raw, "DOE^JANE") {
		t.Errorf("raw with phi.read = %q, want the message", raw)
	}
	if p := get(shown, "/api/orders?placer=P900").Body["items"].([]any)[0].(map[string]any)["patient_id"]; p != "MRN55" {
		t.Errorf("patient_id with phi.read = %v, want MRN55", p)
	}
	if pat := get(shown, "/api/orders/"+orderID).Body["patient"].(map[string]any); pat["family"] != "DOE" || pat["birth_date"] != "1980-01-02" {
		t.Errorf("patient with phi.read = %v", pat)
	}
}
