package fhirserver

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/mapping/fhirmap"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// diagnosticReports renders the current version of each of an order's results as a
// DiagnosticReport, its observations contained, whatever dialect the result came in.
func diagnosticReports(o *order.Order) ([]fhir.Result, error) {
	var out []fhir.Result
	for i, r := range o.CurrentResults() {
		res, err := renderReport(o, r, i+1)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

func readDiagnosticReport(tx store.ReadTx, id string) (fhir.Result, error) {
	orderID, n, ok := fhirmap.ParseReportID(id)
	if !ok {
		return fhir.Result{}, fhir.ErrNotFound
	}
	o, err := tx.Order(orderID)
	if err != nil {
		return fhir.Result{}, notFound(err)
	}
	results := o.CurrentResults()
	if n > len(results) {
		return fhir.Result{}, fhir.ErrNotFound
	}
	return renderReport(o, results[n-1], n)
}

// renderReport is one result as a DiagnosticReport (fhirmap.DiagnosticReportJSON).
func renderReport(o *order.Order, r order.Result, n int) (fhir.Result, error) {
	data, version, at, err := fhirmap.DiagnosticReportJSON(o, r, n)
	if err != nil {
		return fhir.Result{}, err
	}
	return fhir.Result{Type: typeDiagnosticReport, ID: fhirmap.ReportID(o.ID, n), VersionID: strconv.Itoa(version), LastUpdated: at, Resource: data}, nil
}

// createDiagnosticReport takes a result sent as a DiagnosticReport: it is matched to its
// order (basedOn ServiceRequest/{id}, else an identifier that is a placer number), added
// to the order, and queued for delivery to the order's sender, in one transaction. A
// report that matches no order, or that the order's results refuse, is kept (the message
// and its body are stored) and answered 422.
func (b *Server) createDiagnosticReport(ctx context.Context, req fhir.CreateRequest) (fhir.Result, error) {
	at := b.eng.Now()
	fr, mapIssues := fhirmap.FromFHIRDiagnosticReport(req.Resource)
	msgID, err := b.store.ReserveID(ctx, store.KindMessage)
	if err != nil {
		return fhir.Result{}, err
	}
	var res fhir.Result
	var refused *fhir.Error
	var notify []string
	err = b.store.Update(ctx, func(tx store.Tx) error {
		res, refused, notify = fhir.Result{}, nil, nil
		o, err := matchReport(tx, fr)
		if err != nil {
			return err
		}
		if o == nil {
			refused = &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: []fhir.Issue{{Severity: "error", Code: "not-found",
				Expression: "DiagnosticReport.basedOn", Diagnostics: noOrderText(fr)}}}
			return putFHIRMessage(tx, msgID, req.Client, typeDiagnosticReport, req.Resource, at, "422")
		}
		r := fr.Result
		if r.Status == "" {
			// The mapping could not read the status, and says so: the report is kept, not added.
			refused = &fhir.Error{Status: http.StatusUnprocessableEntity}
			return putFHIRMessage(tx, msgID, req.Client, typeDiagnosticReport, req.Resource, at, "422", o.ID)
		}
		r.MessageID = msgID
		if r.Issued.IsZero() {
			r.Issued = at
		}
		if err := o.AddResult(r, at, msgID); err != nil {
			refused = &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: []fhir.Issue{{Severity: "error", Code: "business-rule",
				Expression: "DiagnosticReport.status", Diagnostics: explain(err)}}}
			return putFHIRMessage(tx, msgID, req.Client, typeDiagnosticReport, req.Resource, at, "422", o.ID)
		}
		if err := tx.PutOrder(o); err != nil {
			return err
		}
		if notify, err = b.eng.EnqueueResult(tx, o, r, at); err != nil {
			return err
		}
		if err := putFHIRMessage(tx, msgID, req.Client, typeDiagnosticReport, req.Resource, at, "201", o.ID); err != nil {
			return err
		}
		res, err = renderReport(o, r, fhirmap.ReportNumber(o, r.ID))
		res.Created = true
		res.Issues = fhirIssues(mapIssues)
		return err
	})
	if err != nil {
		return fhir.Result{}, err
	}
	if refused != nil {
		refused.Issues = append(refused.Issues, fhirIssues(mapIssues)...)
		return fhir.Result{}, refused
	}
	b.eng.Notify(notify)
	return res, nil
}

// noOrderText says what a report that matches no order was matched by, or that it
// names no order.
func noOrderText(fr fhirmap.FHIRResult) string {
	var by []string
	if len(fr.BasedOn) > 0 {
		by = append(by, "basedOn "+typeServiceRequest+"/"+strings.Join(fr.BasedOn, ", "+typeServiceRequest+"/"))
	}
	switch len(fr.Identifiers) {
	case 0:
	case 1:
		by = append(by, "the placer number "+strconv.Quote(fr.Identifiers[0]))
	default:
		by = append(by, "the placer numbers "+quoteAll(fr.Identifiers))
	}
	if len(by) == 0 {
		return "The report names no order: give basedOn its ServiceRequest (ServiceRequest/[id]), or an identifier that is the order's placer number. The report is kept."
	}
	return "No order matches " + strings.Join(by, " or ") + ". The report is kept."
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// explain is the text for a client of an error of the order lifecycle.
func explain(err error) string {
	if s := order.Explain(err); s != "" {
		return s
	}
	return "The order could not be changed (internal error)."
}

// matchReport finds the order a report belongs to.
func matchReport(tx store.ReadTx, fr fhirmap.FHIRResult) (*order.Order, error) {
	for _, id := range fr.BasedOn {
		if o, err := orderOf(tx, id); err == nil {
			return o, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	for _, v := range fr.Identifiers {
		list, _, err := tx.Orders(store.OrderQuery{Placer: v, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(list) == 1 {
			return list[0], nil
		}
	}
	return nil, nil
}
