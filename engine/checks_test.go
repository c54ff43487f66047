package engine_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

func TestChecks_IncompleteThenCorrected(t *testing.T) {
	f := newFixture(t, enginetest.Checker(t))
	broken := enginetest.RadiologyORM("I1", "P500", func(s string) string {
		s = strings.Replace(s, "1234567893^SMITH", "1234567890^SMITH", 1) // bad NPI check digit
		s = strings.Replace(s, "DG1|1||R51.9^Headache, unspecified^I10", "DG1|1||ZZZ^nonsense^I10", 1)
		return strings.Replace(s, "|||||||R51.9^Headache^I10", "", 1) // no OBR-31 reason
	})
	ack := f.Send(t, broken)
	if got := ack.Get("MSA-1"); got != "AE" {
		t.Fatalf("incomplete order: MSA-1 = %q, want AE\n%q", got, ack.Bytes())
	}
	locs := map[string]int{}
	for _, is := range hl7.ReadIssues(ack) {
		if is.Severity == hl7.SeverityError {
			locs[is.Location.Segment+"-"+strconv.Itoa(is.Location.Field)] = is.Code
			if is.Text == "" {
				t.Errorf("ERR without text at %v", is.Location)
			}
		}
	}
	for _, want := range []string{"ORC-12", "DG1-3"} {
		if _, ok := locs[want]; !ok {
			t.Errorf("no ERR naming %s; ERR locations %v", want, locs)
		}
	}
	if locs["DG1-3"] != hl7.CodeDataType {
		t.Errorf("DG1-3 code = %d, want 102 (malformed ICD-10-CM)", locs["DG1-3"])
	}
	o := f.Orders(t, store.OrderQuery{Placer: "P500"})
	if len(o) != 1 || o[0].Status != order.StatusIncomplete {
		t.Fatalf("after AE: %v, want one incomplete order", o)
	}
	// The corrected order (XO, a new control ID) completes it.
	fixed := enginetest.RadiologyORM("I2", "P500", func(s string) string { return strings.Replace(s, "ORC|NW|", "ORC|XO|", 1) })
	if got := f.Send(t, fixed).Get("MSA-1"); got != "AA" {
		t.Fatalf("corrected order: MSA-1 = %q, want AA", got)
	}
	o = f.Orders(t, store.OrderQuery{Placer: "P500"})
	if len(o) != 1 || o[0].Status != order.StatusReady || len(o[0].Findings) != 0 && hasErrorFinding(o[0]) {
		t.Fatalf("after XO: %+v, want the same order ready", o[0])
	}
	if o[0].Provider.NPI != "1234567893" || o[0].Diagnoses[0].Code != "R51.9" {
		t.Errorf("corrected data not taken: %+v %+v", o[0].Provider, o[0].Diagnoses)
	}
}

func hasErrorFinding(o *order.Order) bool {
	for _, f := range o.Findings {
		if f.Severity == order.SeverityError {
			return true
		}
	}
	return false
}

func TestChecks_PendingAuthorizationThenApproved(t *testing.T) {
	checker := enginetest.Checker(t)
	f := newFixture(t, checker)
	noAuth := enginetest.RadiologyORM("A1", "P600", func(s string) string { return strings.Replace(s, "|AUTH-1", "", 1) })
	ack := f.Send(t, noAuth)
	if got := ack.Get("MSA-1"); got != "AA" {
		t.Fatalf("MSA-1 = %q, want AA (auth pending is information): %q", got, ack.Bytes())
	}
	info := false
	for _, is := range hl7.ReadIssues(ack) {
		if is.Severity == hl7.SeverityInformation && is.Location.Segment == "IN1" && is.Location.Field == 14 {
			info = true
		}
	}
	if !info {
		t.Errorf("no informational ERR at IN1-14 on the AA: %q", ack.Bytes())
	}
	o := f.Orders(t, store.OrderQuery{Placer: "P600"})[0]
	if o.Status != order.StatusPendingAuth || o.Authorization.DueBy.IsZero() {
		t.Fatalf("order %s: status %s, due %v; want pending-authorization with a due-by", o.ID, o.Status, o.Authorization.DueBy)
	}
	// 7 days for a routine order.
	if want := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC); !o.Authorization.DueBy.Equal(want) {
		t.Errorf("due by %v, want %v", o.Authorization.DueBy, want)
	}

	srv := f.Server(t, checker)
	post := func(body string) (int, map[string]any) {
		t.Helper()
		r := f.Do(t, http.MethodPost, srv.URL+"/api/orders/"+o.ID+"/authorization", []byte(body), "Content-Type", "application/json")
		return r.Status, r.Body
	}
	if status, _ := post(`{"decision":"maybe"}`); status != http.StatusBadRequest {
		t.Errorf("bad decision: %d, want 400", status)
	}
	status, body := post(`{"decision":"approved","number":"PA-778"}`)
	if status != http.StatusOK || body["status"] != "ready" {
		t.Fatalf("approve: %d %v, want 200 ready", status, body)
	}
	auth := body["authorization"].(map[string]any)
	if auth["status"] != "approved" || auth["number"] != "PA-778" {
		t.Errorf("authorization = %v", auth)
	}
	if status, _ := post(`{"decision":"denied"}`); status != http.StatusConflict {
		t.Errorf("deciding a ready order again: %d, want 409", status)
	}
	if o := f.Orders(t, store.OrderQuery{Placer: "P600"})[0]; o.Status != order.StatusReady {
		t.Errorf("stored status %s, want ready", o.Status)
	}
	// The decision is checked again: the pending finding goes, the order is ready to
	// schedule.
	if r := body["ready_to_schedule"].(map[string]any); r["ready"] != true {
		t.Errorf("ready_to_schedule after approval = %v, want ready", r)
	}
	for _, f := range f.Orders(t, store.OrderQuery{Placer: "P600"})[0].Findings {
		if f.Code == "preauth.required" {
			t.Errorf("stored order keeps %+v after approval", f)
		}
	}
}
