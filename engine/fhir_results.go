package engine

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	samply "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// reportSuffix separates an order id from a result's position: ord-7-r1 is the first
// result of order ord-7.
const reportSuffix = "-r"

// diagnosticReports renders the current version of each of an order's results as a
// DiagnosticReport, its observations contained, whatever dialect the result came in.
func diagnosticReports(tx store.ReadTx, o *order.Order) ([]fhir.Result, error) {
	var out []fhir.Result
	for i, r := range o.CurrentResults() {
		res, err := renderReport(tx, o, r, i+1)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

func readDiagnosticReport(tx store.ReadTx, id string) (fhir.Result, error) {
	i := strings.LastIndex(id, reportSuffix)
	if i < 0 {
		return fhir.Result{}, fhir.ErrNotFound
	}
	n, err := strconv.Atoi(id[i+len(reportSuffix):])
	if err != nil || n < 1 {
		return fhir.Result{}, fhir.ErrNotFound
	}
	o, err := tx.Order(id[:i])
	if err != nil {
		return fhir.Result{}, notFound(err)
	}
	results := o.CurrentResults()
	if n > len(results) {
		return fhir.Result{}, fhir.ErrNotFound
	}
	return renderReport(tx, o, results[n-1], n)
}

// renderReport is one result as a DiagnosticReport with id {order}-r{n}; its version is
// the number of versions of the result received (a correction is version 2).
func renderReport(tx store.ReadTx, o *order.Order, r order.Result, n int) (fhir.Result, error) {
	id := o.ID + reportSuffix + strconv.Itoa(n)
	version := 0
	for _, v := range o.Results {
		if v.ID == r.ID {
			version++
		}
	}
	dr, obs := mapping.ToDiagnosticReport(o, r)
	dr.Id = &id
	data, err := containObservations(dr, obs)
	if err != nil {
		return fhir.Result{}, err
	}
	at := r.Issued
	if at.IsZero() {
		at = o.Updated
	}
	if data, err = withMeta(data, id, max(version, 1), at); err != nil {
		return fhir.Result{}, err
	}
	return fhir.Result{Type: typeDiagnosticReport, ID: id, VersionID: strconv.Itoa(max(version, 1)), LastUpdated: at, Resource: data}, nil
}

// containObservations encodes a report with its observations in
// DiagnosticReport.contained and DiagnosticReport.result pointing at them, as the
// engine serves no Observation endpoint. (The samply structs have no contained
// element, so this is done on the JSON.)
func containObservations(dr *samply.DiagnosticReport, obs []samply.Observation) ([]byte, error) {
	dr.Result = nil
	var contained []json.RawMessage
	for i := range obs {
		local := "obs" + strconv.Itoa(i+1)
		obs[i].Id = &local
		data, err := json.Marshal(obs[i])
		if err != nil {
			return nil, err
		}
		contained = append(contained, data)
		ref := "#" + local
		dr.Result = append(dr.Result, samply.Reference{Reference: &ref})
	}
	data, err := json.Marshal(dr)
	if err != nil || len(contained) == 0 {
		return data, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	m["contained"], _ = json.Marshal(contained)
	return json.Marshal(m)
}

// createDiagnosticReport takes a result sent as a DiagnosticReport: it is matched to its
// order (basedOn ServiceRequest/{id}, else an identifier that is a placer number), added
// to the order, and queued for delivery to the order's sender, in one transaction. A
// report that matches no order, or that the order's results refuse, is kept (the message
// and its body are stored) and answered 422.
func (b *FHIRBackend) createDiagnosticReport(ctx context.Context, req fhir.CreateRequest) (fhir.Result, error) {
	e := b.e
	at := e.now()
	fr, mapIssues := mapping.FromFHIRDiagnosticReport(req.Resource)
	msgID, err := e.store.ReserveID(ctx, store.KindMessage)
	if err != nil {
		return fhir.Result{}, err
	}
	var res fhir.Result
	var refused *fhir.Error
	var notify []string
	err = e.store.Update(ctx, func(tx store.Tx) error {
		res, refused, notify = fhir.Result{}, nil, nil
		o, err := matchReport(tx, fr)
		if err != nil {
			return err
		}
		if o == nil {
			refused = &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: []fhir.Issue{{Severity: "error", Code: "not-found",
				Expression: "DiagnosticReport.basedOn", Diagnostics: "no order matches basedOn " + strings.Join(fr.BasedOn, ", ") +
					" or identifiers " + strings.Join(fr.Identifiers, ", ") + "; the report is kept"}}}
			return putFHIRMessage(tx, msgID, req.Client, typeDiagnosticReport, req.Resource, at, "422")
		}
		r := fr.Result
		r.MessageID = msgID
		if r.Issued.IsZero() {
			r.Issued = at
		}
		if err := o.AddResult(r, at, msgID); err != nil {
			refused = &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: []fhir.Issue{{Severity: "error", Code: "business-rule",
				Expression: "DiagnosticReport.status", Diagnostics: err.Error()}}}
			return putFHIRMessage(tx, msgID, req.Client, typeDiagnosticReport, req.Resource, at, "422", o.ID)
		}
		if err := tx.PutOrder(o); err != nil {
			return err
		}
		if notify, err = e.enqueueResult(tx, o, r, at); err != nil {
			return err
		}
		if err := putFHIRMessage(tx, msgID, req.Client, typeDiagnosticReport, req.Resource, at, "201", o.ID); err != nil {
			return err
		}
		n := 0
		for i, cur := range o.CurrentResults() {
			if cur.ID == r.ID {
				n = i + 1
			}
		}
		res, err = renderReport(tx, o, r, max(n, 1))
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
	e.notify(notify)
	return res, nil
}

// matchReport finds the order a report belongs to.
func matchReport(tx store.ReadTx, fr mapping.FHIRResult) (*order.Order, error) {
	for _, id := range fr.BasedOn {
		if o, err := tx.Order(id); err == nil {
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
