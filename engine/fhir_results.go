package engine

import (
	"encoding/json"
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
