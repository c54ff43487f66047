package fhirserver

import (
	"context"
	"net/http"

	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/mapping/fhirmap"
)

// createSubscription accepts an R4 rest-hook Subscription for DiagnosticReports: it is
// stored active and its endpoint becomes a delivery destination at once. One the engine
// cannot honour is answered 422 not-supported; one its policy refuses (an endpoint
// outside fhir.subscriptions.allow, a header outside allow_headers) 422 business-rule,
// naming the element, and nothing is stored or sent.
func (b *Server) createSubscription(ctx context.Context, req fhir.CreateRequest) (fhir.Result, error) {
	problem, err := b.eng.CheckSubscription(req.Resource)
	if err != nil {
		return fhir.Result{}, err
	}
	if problem != nil {
		code := "not-supported"
		if problem.Refused {
			code = "business-rule"
		}
		return fhir.Result{}, &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: []fhir.Issue{{Severity: "error", Code: code,
			Expression: problem.Expression, Diagnostics: problem.Text}}}
	}
	if !b.eng.CanSubscribe() {
		return fhir.Result{}, &fhir.Error{Status: http.StatusServiceUnavailable, Issues: []fhir.Issue{{Severity: "error", Code: "not-supported",
			Diagnostics: "no delivery worker is running: subscriptions cannot be notified"}}}
	}
	active, err := fhirmap.WithStatus(req.Resource, "active")
	if err != nil {
		return fhir.Result{}, err
	}
	req.Resource = active
	res, err := b.createOther(ctx, req)
	if err != nil {
		return res, err
	}
	if err := b.eng.Subscribe(res.ID, active); err != nil {
		return fhir.Result{}, err
	}
	return res, nil
}
