package payer_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/payer"
	"github.com/radbridge/radbridge/rules"
	"github.com/radbridge/radbridge/store"
)

func always(file string) func(string, string) string {
	return func(string, string) string { return file }
}

// TestPAS_approved: an order that needs authorization is submitted to its payer as a
// PAS request Bundle in the transaction that stores it; the payer's approval (corpus,
// A1) makes it ready with the payer's number and validity.
func TestPAS_approved(t *testing.T) {
	h := newHarness(t, always(approvedAnswer), nil)
	o := h.send(t, orm("C1", "PL1", "NW", "R"))
	if o.Status != order.StatusPendingAuth || o.Authorization.Claim != o.ID+"-1" || o.Authorization.Payer != "AETNA01" {
		t.Fatalf("admitted %s, authorization %+v; want pending-authorization with claim %s-1", o.Status, o.Authorization, o.ID)
	}
	h.f.View(t, func(tx store.ReadTx) error {
		items, n, err := tx.Outbox(store.OutboxQuery{Destination: "pas:AETNA01"})
		if err == nil && (n != 1 || items[0].Kind != payer.KindSubmit || items[0].Key != o.ID+"-1" || items[0].OrderID != o.ID) {
			t.Errorf("outbox: %d items %+v", n, items)
		}
		return err
	})
	o = h.waitAuth(t, o.ID, order.AuthApproved)
	a := o.Authorization
	if o.Status != order.StatusReady || a.Number != "AUTH0001" || a.ReviewAction != "A1" ||
		!a.ValidFrom.Equal(time.Date(2005, 5, 2, 0, 0, 0, 0, time.UTC)) || !a.ValidTo.Equal(time.Date(2005, 6, 2, 0, 0, 0, 0, time.UTC)) ||
		!a.Submitted.Equal(start) || a.Response != "ClaimResponse/"+o.ID+"-1/_history/1" {
		t.Errorf("after the approval: %s, %+v", o.Status, a)
	}
	for _, want := range []string{"payer AETNA01: request " + o.ID + "-1 received", "payer AETNA01: approved (A1), number AUTH0001"} {
		if !hasCause(o, want) {
			t.Errorf("history %q lacks %q", causes(o), want)
		}
	}

	reqs := h.payer.got()
	if len(reqs) != 1 || reqs[0].Path != submitPath || reqs[0].Auth != "Bearer payer-token-1" || reqs[0].Key != o.ID+"-1" || reqs[0].Claim != o.ID+"-1" {
		t.Fatalf("payer received %+v", reqs)
	}
	checkRequestBundle(t, reqs[0], o.ID+"-1", "")
	h.f.View(t, func(tx store.ReadTx) error {
		r, err := tx.Resource("ClaimResponse", o.ID+"-1")
		if err != nil {
			return err
		}
		if !strings.Contains(string(r.JSON), `"AUTH0001"`) || r.OrderID != o.ID {
			t.Errorf("stored answer %s", r.JSON)
		}
		_, err = tx.Resource("Claim", o.ID+"-1")
		return err
	})
}

// checkRequestBundle checks a PAS request Bundle: the Claim first with the claim
// identifier, the CPT item and the ICD-10-CM diagnosis, and the resources it names.
func checkRequestBundle(t *testing.T, r payerRequest, claim, prior string) {
	t.Helper()
	b := r.Bundle
	if b["resourceType"] != "Bundle" || b["type"] != "collection" || b["timestamp"] == nil || b["identifier"] == nil {
		t.Errorf("request Bundle head: %v %v", b["resourceType"], b["type"])
	}
	types := map[string]map[string]any{}
	urls := map[string]bool{}
	for _, e := range b["entry"].([]any) {
		en := e.(map[string]any)
		res := en["resource"].(map[string]any)
		types[res["resourceType"].(string)] = res
		urls[en["fullUrl"].(string)] = true
	}
	for _, typ := range []string{"Claim", "Patient", "Coverage", "Organization", "Practitioner", "ServiceRequest"} {
		if types[typ] == nil {
			t.Errorf("request Bundle has no %s", typ)
		}
	}
	c := types["Claim"]
	js := r.Raw
	for _, want := range []string{`"use":"preauthorization"`, `"value":"` + claim + `"`, `"system":"http://www.ama-assn.org/go/cpt","code":"70553"`,
		`"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R51.9"`, `StructureDefinition/extension-requestedService","valueReference"`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("request lacks %s:\n%s", want, js)
		}
	}
	if prior != "" && !strings.Contains(string(js), `"related":[{"claim":{"identifier":{"system":"urn:radbridge:pas-claim","value":"`+prior+`"}}`) {
		t.Errorf("Claim does not name the prior request %s:\n%s", prior, js)
	}
	for _, field := range []string{"patient", "provider", "insurer"} {
		if ref, _ := c[field].(map[string]any)["reference"].(string); !urls[ref] {
			t.Errorf("Claim.%s %q names no entry", field, ref)
		}
	}
	if !strings.Contains(string(js), `"resourceType":"Practitioner","id":"requester","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}]`) {
		t.Errorf("the requesting Practitioner has no NPI:\n%s", js)
	}
}

// TestPAS_pendedThenNotified: the payer pends the request (corpus, A4); its later
// approval, posted to the notification endpoint, decides the case.
func TestPAS_pendedThenNotified(t *testing.T) {
	h := newHarness(t, always(pendedAnswer), nil)
	o := h.send(t, orm("C1", "PL1", "NW", "R"))
	o = h.waitAuth(t, o.ID, order.AuthPended)
	if o.Status != order.StatusPendingAuth || o.Authorization.ReviewAction != "A4" || !o.Authorization.NextInquiry.Equal(start.Add(4*time.Hour)) ||
		!hasCause(o, "payer AETNA01: pended (A4)") {
		t.Fatalf("pended order: %s, %+v, history %q", o.Status, o.Authorization, causes(o))
	}
	if code, body := h.postNotify(t, []byte(`{"resourceType":"Bundle","type":"collection","entry":[]}`)); code != 400 {
		t.Errorf("a notification without a ClaimResponse: %d %s", code, body)
	}
	if code, body := h.postNotify(t, answerFor(t, approvedAnswer, "someone-else-1")); code != 404 {
		t.Errorf("a notification for an unknown request: %d %s", code, body)
	}
	h.clk.Set(start.Add(time.Hour))
	code, body := h.postNotify(t, answerFor(t, approvedAnswer, o.ID+"-1"))
	if code != 200 || !strings.Contains(string(body), o.ID) {
		t.Fatalf("notification answered %d %s", code, body)
	}
	o = h.order(t, o.ID)
	if o.Status != order.StatusReady || o.Authorization.Status != order.AuthApproved || o.Authorization.Number != "AUTH0001" ||
		!o.Authorization.NextInquiry.IsZero() || o.Authorization.Response != "ClaimResponse/"+o.ID+"-1/_history/2" {
		t.Fatalf("after the notification: %s, %+v", o.Status, o.Authorization)
	}
	last := o.History[len(o.History)-1]
	if last.Cause != "payer AETNA01 (notification): approved (A1), number AUTH0001" || last.MessageID == "" || !last.At.Equal(start.Add(time.Hour)) {
		t.Errorf("last history entry %+v", last)
	}
	h.f.View(t, func(tx store.ReadTx) error {
		m, err := tx.Message(last.MessageID)
		if err != nil {
			return err
		}
		if m.Type != "ClaimResponse" || m.AckCode != "200" || !slices.Equal(m.OrderIDs, []string{o.ID}) {
			t.Errorf("notification message %+v", m)
		}
		return nil
	})
	if n := h.payer.distinctClaims(submitPath); n != 1 {
		t.Errorf("%d claims submitted, want 1", n)
	}
}

// TestPAS_pendedThenInquired: with no notification within inquire_after, the sweep
// asks the payer (Claim/$inquire, same identifier) and its answer decides the case.
func TestPAS_pendedThenInquired(t *testing.T) {
	answer := func(path, _ string) string {
		if path == inquirePath {
			return inquiryAnswer
		}
		return pendedAnswer
	}
	h := newHarness(t, answer, nil)
	o := h.send(t, orm("C1", "PL1", "NW", "R"))
	h.waitAuth(t, o.ID, order.AuthPended)
	h.clk.Set(start.Add(4*time.Hour - time.Second))
	if err := h.svc.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.clk.Set(start.Add(4 * time.Hour))
	if err := h.svc.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	o = h.waitAuth(t, o.ID, order.AuthApproved)
	var inquiries []payerRequest
	for _, r := range h.payer.got() {
		if r.Path == inquirePath {
			inquiries = append(inquiries, r)
		}
	}
	if len(inquiries) != 1 || inquiries[0].Claim != o.ID+"-1" || !strings.HasPrefix(inquiries[0].Key, o.ID+"-1-inquiry-") {
		t.Fatalf("inquiries %+v, want one for %s-1 when inquire_after had passed", inquiries, o.ID)
	}
	if !strings.Contains(string(inquiries[0].Raw), "profile-claim-inquiry") || o.Status != order.StatusReady {
		t.Errorf("inquiry %s; order %s", inquiries[0].Raw, o.Status)
	}
}

// TestPAS_droppedAnswer: the payer takes the request but its answer is lost; the
// worker sends the same request again (same Claim identifier and Idempotency-Key), and
// the payer, seeing one Claim, answers it once.
func TestPAS_droppedAnswer(t *testing.T) {
	h := newHarness(t, always(approvedAnswer), nil)
	h.payer.dropFirst = true
	o := h.send(t, orm("C1", "PL1", "NW", "R"))
	o = h.waitAuth(t, o.ID, order.AuthApproved)
	reqs := h.payer.got()
	if len(reqs) < 2 {
		t.Fatalf("payer received %d requests, want the lost one and its repeat", len(reqs))
	}
	for _, r := range reqs {
		if r.Claim != o.ID+"-1" || r.Key != o.ID+"-1" {
			t.Errorf("request claim %q, key %q; want %s-1 for both", r.Claim, r.Key, o.ID)
		}
	}
	if n := h.payer.distinctClaims(submitPath); n != 1 {
		t.Errorf("payer saw %d distinct claims, want 1", n)
	}
	if o.Authorization.Attempt != 1 || o.Status != order.StatusReady {
		t.Errorf("order %s, attempt %d; want ready, attempt 1", o.Status, o.Authorization.Attempt)
	}
}

// withReason adds an X12 review action reason code to the corpus denial, which gives
// none: the payer denies with a reason.
func withReason(cr []byte) []byte {
	return []byte(strings.Replace(string(cr), `"display":"Not Certified"}]}}]`,
		`"display":"Not Certified"}]}},{"url":"reasonCode","valueCodeableConcept":{"coding":[{"system":"https://codesystem.x12.org/external/886","code":"0U","display":"Additional information requested"}]}}]`, 1))
}

// TestPAS_deniedAppealedOverturned: a denial with a reason (the corpus denial, given a
// reason code), appealed within the window: the appeal Task is stored, the request is
// resubmitted under a new identifier naming the denied one, and the payer's approval
// overturns the denial.
func TestPAS_deniedAppealedOverturned(t *testing.T) {
	answer := func(_, claim string) string {
		if strings.HasSuffix(claim, "-1") {
			return deniedAnswer
		}
		return approvedAnswer
	}
	h := newHarness(t, answer, func(p *rules.PayerProfile) { p.AppealWindow = 30 * 24 * time.Hour })
	h.payer.edit = withReason
	o := h.send(t, orm("C1", "PL1", "NW", "R"))
	o = h.waitAuth(t, o.ID, order.AuthDenied)
	if o.Status != order.StatusDenied || o.Authorization.DecisionReason != "0U Additional information requested" ||
		slices.Contains(findingCodes(o), payer.CodeDenialWithoutReason) {
		t.Fatalf("denied order: %s, %+v, findings %q", o.Status, o.Authorization, findingCodes(o))
	}

	h.clk.Set(start.Add(24 * time.Hour))
	o2, task, err := h.svc.Appeal(t.Context(), o.ID, "records attached")
	if err != nil {
		t.Fatal(err)
	}
	a := o2.Authorization
	if o2.Status != order.StatusPendingAuth || a.Status != order.AuthAppealed || a.Appeal != "Task/"+o.ID+"-appeal-1" ||
		!a.AppealBy.Equal(start.Add(30*24*time.Hour)) || a.Claim != o.ID+"-2" || a.OriginalClaim != o.ID+"-1" ||
		a.DenialReason != "0U Additional information requested" {
		t.Fatalf("after the appeal: %s, %+v", o2.Status, a)
	}
	var tk map[string]any
	if err := json.Unmarshal(task, &tk); err != nil {
		t.Fatal(err)
	}
	code := tk["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)
	if tk["resourceType"] != "Task" || code["code"] != "appeal" || tk["focus"].(map[string]any)["reference"] != "ClaimResponse/"+o.ID+"-1" ||
		tk["restriction"].(map[string]any)["period"].(map[string]any)["end"] != "2026-03-31T10:00:00Z" || tk["status"] != "requested" {
		t.Errorf("appeal Task %s", task)
	}

	o = h.waitAuth(t, o.ID, order.AuthOverturned)
	if o.Status != order.StatusReady || o.Authorization.Number != "AUTH0001" || !hasCause(o, "payer AETNA01: appeal overturned (A1)") {
		t.Errorf("after the payer's answer to the appeal: %s, %+v, %q", o.Status, o.Authorization, causes(o))
	}
	var resub payerRequest
	for _, r := range h.payer.got() {
		if r.Claim == o.ID+"-2" {
			resub = r
		}
	}
	if resub.Claim == "" {
		t.Fatal("the appeal's resubmission never reached the payer")
	}
	checkRequestBundle(t, resub, o.ID+"-2", o.ID+"-1")
	h.f.View(t, func(tx store.ReadTx) error {
		r, err := tx.Resource("Task", o.ID+"-appeal-1")
		if err != nil {
			return err
		}
		if r.Version != 2 || !strings.Contains(string(r.JSON), `"status":"completed"`) || !strings.Contains(string(r.JSON), `"valueString":"overturned"`) {
			t.Errorf("appeal Task after the outcome: v%d %s", r.Version, r.JSON)
		}
		return nil
	})

	rep, err := h.svc.Report(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.ByPayer) != 1 || rep.ByPayer[0] != (payer.Rates{Key: "AETNA01", Decided: 1, Denied: 1, Appealed: 1, Overturned: 1, DenialRate: 1, OverturnRate: 1}) ||
		len(rep.ByCPT) != 1 || rep.ByCPT[0].Key != "70553" ||
		len(rep.ByReason) != 1 || rep.ByReason[0] != (payer.Reason{Reason: "0U Additional information requested", Denied: 1, Appealed: 1, Overturned: 1, OverturnRate: 1}) {
		t.Errorf("report %+v", rep)
	}
}

// TestPAS_deniedWithoutReason: the corpus denial as it is gives no reason: a finding
// says so. An appeal decided by hand (upheld) completes the Task; a second appeal past
// the window is refused.
func TestPAS_deniedWithoutReason(t *testing.T) {
	h := newHarness(t, always(deniedAnswer), func(p *rules.PayerProfile) { p.AppealWindow = 10 * 24 * time.Hour; p.PAS = nil })
	o := h.send(t, orm("C1", "PL1", "NW", "R"))
	if o.Authorization.Claim != "" {
		t.Fatalf("without PAS nothing is submitted; claim %q", o.Authorization.Claim)
	}
	if _, err := h.svc.Decide(t.Context(), o.ID, payer.Decision{Status: order.AuthDenied}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.svc.Appeal(t.Context(), o.ID, ""); err != nil {
		t.Fatal(err)
	}
	o, err := h.svc.Decide(t.Context(), o.ID, payer.Decision{Status: order.AuthDenied, Reason: "criteria not met"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != order.StatusDenied || o.Authorization.Status != order.AuthUpheld {
		t.Errorf("after the upheld appeal: %s, %s", o.Status, o.Authorization.Status)
	}
	h.clk.Set(start.Add(11 * 24 * time.Hour))
	if _, _, err := h.svc.Appeal(t.Context(), o.ID, ""); !errors.Is(err, payer.ErrAppealWindowClosed) {
		t.Errorf("appeal after the window = %v, want ErrAppealWindowClosed", err)
	}

	h2 := newHarness(t, always(deniedAnswer), nil)
	o = h2.send(t, orm("C1", "PL1", "NW", "R"))
	o = h2.waitAuth(t, o.ID, order.AuthDenied)
	if !slices.Contains(findingCodes(o), payer.CodeDenialWithoutReason) || o.Authorization.DecisionReason != "" {
		t.Errorf("denial without a reason: findings %q, reason %q", findingCodes(o), o.Authorization.DecisionReason)
	}
}

// TestPAS_errorAndUnknownCode: a payer error sends the request back (pending, with a
// finding); an unknown review action code pends it, never approves it.
func TestPAS_errorAndUnknownCode(t *testing.T) {
	h := newHarness(t, always(errorAnswer), nil)
	o := h.send(t, orm("C1", "PL1", "NW", "R"))
	o = h.wait(t, o.ID, "the payer's error", func(o *order.Order) bool { return o.Authorization.Response != "" })
	if o.Status != order.StatusPendingAuth || o.Authorization.Status != order.AuthPending ||
		!slices.Contains(findingCodes(o), payer.CodeRequestRejected) || !hasCause(o, "request "+o.ID+"-1 rejected") {
		t.Errorf("after an error answer: %s, %+v, findings %q", o.Status, o.Authorization, findingCodes(o))
	}

	h = newHarness(t, always(approvedAnswer), nil)
	h.payer.edit = func(cr []byte) []byte { return []byte(strings.Replace(string(cr), `"code":"A1"`, `"code":"A9"`, 1)) }
	o = h.send(t, orm("C1", "PL1", "NW", "R"))
	o = h.waitAuth(t, o.ID, order.AuthPended)
	if o.Status != order.StatusPendingAuth || !slices.Contains(findingCodes(o), payer.CodeUnknownReviewAction) || o.Authorization.ReviewAction != "A9" {
		t.Errorf("after an unknown code: %s, %+v, findings %q", o.Status, o.Authorization, findingCodes(o))
	}
}

// TestPAS_changeAndCancel: an order update (XO) of a pended order resends it as a new
// attempt naming the previous one; a cancellation (CA) sends a Claim update that
// cancels it and records the case cancelled.
func TestPAS_changeAndCancel(t *testing.T) {
	h := newHarness(t, always(pendedAnswer), nil)
	o := h.send(t, orm("C1", "PL1", "NW", "R"))
	h.waitAuth(t, o.ID, order.AuthPended)
	o = h.send(t, orm("C2", "PL1", "XO", "R"))
	if o.Authorization.Claim != o.ID+"-2" || o.Authorization.OriginalClaim != o.ID+"-1" || o.Authorization.Attempt != 2 {
		t.Fatalf("after XO: %+v", o.Authorization)
	}
	h.waitAuth(t, o.ID, order.AuthPended)
	o = h.send(t, orm("C3", "PL1", "CA", "R"))
	if o.Status != order.StatusCancelled || o.Authorization.Status != order.AuthCancelled {
		t.Fatalf("after CA: %s, %s", o.Status, o.Authorization.Status)
	}
	h.wait(t, o.ID, "the cancellation delivered", func(*order.Order) bool { return h.payer.distinctClaims(submitPath) == 3 })
	var claims []string
	var cancel payerRequest
	for _, r := range h.payer.got() {
		claims = append(claims, r.Claim)
		if strings.HasSuffix(r.Claim, "-cancel") {
			cancel = r
		}
	}
	if want := []string{o.ID + "-1", o.ID + "-2", o.ID + "-2-cancel"}; !slices.Equal(claims, want) {
		t.Errorf("payer received claims %q, want %q", claims, want)
	}
	checkRequestBundle(t, h.payer.got()[1], o.ID+"-2", o.ID+"-1")
	for _, want := range []string{`"status":"cancelled"`, `"code":"3","display":"Cancel"`, `modifierextension-infoCancelled","valueBoolean":true`} {
		if !strings.Contains(string(cancel.Raw), want) {
			t.Errorf("cancellation lacks %s", want)
		}
	}
	o = h.wait(t, o.ID, "the cancellation's answer kept", func(*order.Order) bool {
		var ok bool
		h.f.View(t, func(tx store.ReadTx) error {
			_, err := tx.Resource("ClaimResponse", o.ID+"-2-cancel")
			ok = err == nil
			return nil
		})
		return ok
	})
	if o.Authorization.Status != order.AuthCancelled {
		t.Errorf("the cancellation's answer changed the case: %s", o.Authorization.Status)
	}
}

// TestPAS_clocks: the decision clock runs from the submission: 72 hours for an
// expedited (stat) order, 7 calendar days for a standard one; one second past it the
// case is overdue, counted in radbridge_pa_overdue{payer} and flagged once.
func TestPAS_clocks(t *testing.T) {
	h := newHarness(t, always(pendedAnswer), nil)
	stat := h.send(t, orm("C1", "PL1", "NW", "S"))
	routine := h.send(t, orm("C2", "PL2", "NW", "R"))
	stat = h.waitAuth(t, stat.ID, order.AuthPended)
	routine = h.waitAuth(t, routine.ID, order.AuthPended)
	if !stat.Authorization.Expedited || !stat.Authorization.Submitted.Equal(start) ||
		!stat.Authorization.DueBy.Equal(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)) ||
		!routine.Authorization.DueBy.Equal(time.Date(2026, 3, 8, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("due by: stat %+v, routine %+v", stat.Authorization, routine.Authorization)
	}
	tests := []struct {
		at                   time.Time
		statOver, routineOvr bool
	}{
		{at: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)},
		{at: time.Date(2026, 3, 4, 10, 0, 1, 0, time.UTC), statOver: true},
		{at: time.Date(2026, 3, 8, 10, 0, 0, 0, time.UTC), statOver: true},
		{at: time.Date(2026, 3, 8, 10, 0, 1, 0, time.UTC), statOver: true, routineOvr: true},
	}
	for _, tc := range tests {
		h.clk.Set(tc.at)
		if got := payer.Overdue(h.order(t, stat.ID), tc.at); got != tc.statOver {
			t.Errorf("expedited overdue at %v = %v, want %v", tc.at, got, tc.statOver)
		}
		if got := payer.Overdue(h.order(t, routine.ID), tc.at); got != tc.routineOvr {
			t.Errorf("standard overdue at %v = %v, want %v", tc.at, got, tc.routineOvr)
		}
		counts, err := h.svc.OverdueByPayer(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, b := range []bool{tc.statOver, tc.routineOvr} {
			if b {
				want++
			}
		}
		if counts["AETNA01"] != want || counts[payer.OtherPayer] != 0 || len(counts) != 2 {
			t.Errorf("radbridge_pa_overdue at %v = %v, want AETNA01 %d, other 0", tc.at, counts, want)
		}
		if err := h.svc.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range h.order(t, stat.ID).Findings {
			if f.Code == payer.CodeDecisionOverdue {
				n++
			}
		}
		want = 0
		if tc.statOver {
			want = 1 // flagged once, however many sweeps see it overdue
		}
		if n != want {
			t.Errorf("expedited order at %v has %d overdue findings, want %d", tc.at, n, want)
		}
	}
}

// TestPAS_expired: an approval that runs out before the exam sends the order back to
// pending-authorization, expired.
func TestPAS_expired(t *testing.T) {
	h := newHarness(t, always(approvedAnswer), nil)
	o := h.send(t, orm("C1", "PL1", "NW", "R"))
	h.waitAuth(t, o.ID, order.AuthApproved) // valid 2005-05-02 to 2005-06-02 (corpus)
	if err := h.svc.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	o = h.order(t, o.ID)
	if o.Status != order.StatusPendingAuth || o.Authorization.Status != order.AuthExpired || o.Authorization.Number != "" ||
		!hasCause(o, "authorization AUTH0001 expired") {
		t.Errorf("after the sweep: %s, %+v", o.Status, o.Authorization)
	}
}

// fhirOrder is an MRI ServiceRequest for a member of payer AETNA01, its patient,
// practitioner and coverage contained.
func fhirOrder(id, status string) []byte {
	return []byte(`{"resourceType":"ServiceRequest",` + id + `"status":"` + status + `","intent":"order","meta":{"source":"https://app.example.org"},
 "contained":[{"resourceType":"Patient","id":"p","identifier":[{"system":"urn:oid:1.2.3","value":"MRN77"}],"name":[{"family":"Doe","given":["Jane"]}],"birthDate":"1980-01-02","gender":"female"},
  {"resourceType":"Practitioner","id":"dr","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}],"name":[{"family":"Smith","given":["John"]}]},
  {"resourceType":"Coverage","id":"cov","status":"active","beneficiary":{"reference":"#p"},"payor":[{"identifier":{"value":"AETNA01"}}]}],
 "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"PLAC"}]},"system":"https://app.example.org/orders","value":"F-1"}],
 "code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"70553"}]},"priority":"urgent",
 "subject":{"reference":"#p"},"requester":{"reference":"#dr"},"insurance":[{"reference":"#cov"}],"authoredOn":"2026-03-01T09:00:00Z",
 "reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R51.9"}],"text":"Headache"}]}`)
}

// TestPAS_fhirDoor: a FHIR create is submitted like an HL7 v2 order (urgent: expedited);
// a PUT that revokes it cancels the request.
func TestPAS_fhirDoor(t *testing.T) {
	h := newHarness(t, always(pendedAnswer), nil)
	srv := h.f.Server(t, nil)
	resp := h.f.Do(t, http.MethodPost, srv.URL+"/fhir/ServiceRequest", fhirOrder("", "active"))
	if resp.Status != http.StatusCreated {
		t.Fatalf("create answered %d %s", resp.Status, resp.Raw)
	}
	id := resp.Body["id"].(string)
	o := h.waitAuth(t, id, order.AuthPended)
	if !o.Authorization.Expedited || o.Authorization.Claim != id+"-1" {
		t.Errorf("FHIR order's case %+v", o.Authorization)
	}
	resp = h.f.Do(t, http.MethodPut, srv.URL+"/fhir/ServiceRequest/"+id, fhirOrder(`"id":"`+id+`",`, "revoked"))
	if resp.Status != http.StatusOK {
		t.Fatalf("revoking PUT answered %d %s", resp.Status, resp.Raw)
	}
	o = h.wait(t, id, "the cancellation sent", func(*order.Order) bool { return h.payer.distinctClaims(submitPath) == 2 })
	if o.Status != order.StatusCancelled || o.Authorization.Status != order.AuthCancelled || h.payer.got()[1].Claim != id+"-1-cancel" {
		t.Errorf("after the revoking PUT: %s, %s, claims %v", o.Status, o.Authorization.Status, h.payer.got())
	}
}
