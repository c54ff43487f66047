package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/internal/enginetest"
)

func TestAPI_OverdueAndPreauth(t *testing.T) {
	checker := enginetest.Checker(t)
	f := enginetest.New(t, enginetest.Options{Checker: checker})
	f.Send(t, enginetest.RadiologyORM("O1", "P700", func(s string) string { return strings.Replace(s, "|AUTH-1", "", 1) }))
	srv := f.Server(t, checker)
	get := func(path string) map[string]any {
		t.Helper()
		return f.Do(t, http.MethodGet, srv.URL+path, nil).Body
	}
	if n := get("/api/orders?overdue=true")["total"]; n != 0.0 {
		t.Errorf("overdue now = %v, want 0", n)
	}
	f.Engine.SetClock(func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) })
	if n := get("/api/orders?overdue=true")["total"]; n != 1.0 {
		t.Errorf("overdue 9 days later = %v, want 1", n)
	}
	if n := f.Engine.OverdueCount(t.Context()); n != 1 {
		t.Errorf("OverdueCount = %d, want 1", n)
	}
	for _, tc := range []struct {
		query    string
		required bool
		exempt   bool
	}{
		{query: "cpt=70553&class=outpatient", required: true},
		{query: "cpt=70553&class=emergency", exempt: true},
		{query: "cpt=71046", required: false},
	} {
		v := get("/api/preauth?" + tc.query)
		if v["required"] != tc.required || v["exempt"] != tc.exempt || v["reason"] == "" {
			t.Errorf("/api/preauth?%s = %v", tc.query, v)
		}
	}
}

func TestAPI_ExemptOrderNotRequired(t *testing.T) {
	checker := enginetest.Checker(t)
	f := enginetest.New(t, enginetest.Options{Checker: checker})
	emergency := enginetest.RadiologyORM("E1", "P800", func(s string) string {
		return strings.Replace(strings.Replace(s, "PV1|1|O", "PV1|1|E", 1), "|AUTH-1", "", 1)
	})
	f.Send(t, emergency)
	srv := f.Server(t, checker)
	resp := f.Do(t, http.MethodGet, srv.URL+"/api/orders?placer=P800", nil)
	var body struct {
		Items []struct {
			Status        string         `json:"status"`
			Authorization map[string]any `json:"authorization"`
		} `json:"items"`
	}
	json.Unmarshal(resp.Raw, &body)
	if len(body.Items) != 1 {
		t.Fatalf("items %+v", body.Items)
	}
	it := body.Items[0]
	if it.Status != "ready" || it.Authorization["required"] != false || it.Authorization["status"] != "exempt" {
		t.Errorf("emergency MRI order: status %s, authorization %v; want ready, not required, exempt", it.Status, it.Authorization)
	}
}

// TestAPI_ReadyToSchedule: each order item carries ready_to_schedule: {ready, reasons}.
func TestAPI_ReadyToSchedule(t *testing.T) {
	checker := enginetest.Checker(t)
	f := enginetest.New(t, enginetest.Options{Checker: checker})
	f.Send(t, enginetest.RadiologyORM("R1", "P810", nil)) // authorization number sent
	f.Send(t, enginetest.RadiologyORM("R2", "P811", func(s string) string { return strings.Replace(s, "|AUTH-1", "", 1) }))
	srv := f.Server(t, checker)
	for _, tc := range []struct {
		placer    string
		ready     bool
		reasonHas string
	}{
		{placer: "P810", ready: true, reasonHas: "authorization approved"},
		{placer: "P811", ready: false, reasonHas: "not ready: prior authorization is required"},
	} {
		resp := f.Do(t, http.MethodGet, srv.URL+"/api/orders?placer="+tc.placer, nil)
		var body struct {
			Items []struct {
				Ready *struct {
					Ready   bool     `json:"ready"`
					Reasons []string `json:"reasons"`
				} `json:"ready_to_schedule"`
			} `json:"items"`
		}
		if err := json.Unmarshal(resp.Raw, &body); err != nil {
			t.Fatalf("%s: %d %s", tc.placer, resp.Status, resp.Raw)
		}
		if len(body.Items) != 1 || body.Items[0].Ready == nil {
			t.Fatalf("%s: items %+v, want one with ready_to_schedule", tc.placer, body.Items)
		}
		r := body.Items[0].Ready
		if r.Ready != tc.ready || !strings.Contains(strings.Join(r.Reasons, "\n"), tc.reasonHas) {
			t.Errorf("%s: ready_to_schedule %+v, want ready %v with %q", tc.placer, r, tc.ready, tc.reasonHas)
		}
	}
}
