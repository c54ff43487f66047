package fhirmap

import (
	"encoding/json"
	"strconv"
	"time"

	samply "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/radbridge/radbridge/internal/jsontext"
	"github.com/radbridge/radbridge/order"
)

// reportSuffix separates an order id from a result's position: ord-7-r1 is the first
// result of order ord-7.
const reportSuffix = "-r"

// ReportID is the id of the DiagnosticReport of an order's n-th current result
// (order.Order.CurrentResults, from 1): ord-7-r1 for the first result of ord-7.
func ReportID(orderID string, n int) string { return orderID + reportSuffix + strconv.Itoa(n) }

// ParseReportID splits a DiagnosticReport id made by ReportID; ok is false for any
// other id.
func ParseReportID(id string) (orderID string, n int, ok bool) {
	for i := len(id) - len(reportSuffix); i > 0; i-- {
		if id[i:i+len(reportSuffix)] == reportSuffix {
			n, err := strconv.Atoi(id[i+len(reportSuffix):])
			if err != nil || n < 1 || strconv.Itoa(n) != id[i+len(reportSuffix):] {
				return "", 0, false
			}
			return id[:i], n, true
		}
	}
	return "", 0, false
}

// ReportNumber is the position (from 1) of the result with the given ID among the
// order's current results, the n of its DiagnosticReport id; 1 when it is not there.
func ReportNumber(o *order.Order, resultID string) int {
	for i, cur := range o.CurrentResults() {
		if cur.ID == resultID {
			return i + 1
		}
	}
	return 1
}

// DiagnosticReportJSON renders an order's result as the DiagnosticReport radbridge
// serves and delivers, whatever dialect the result came in: id ReportID(o.ID, n), its
// observations contained, meta.versionId the number of versions of the result received
// (a correction is version 2) and meta.lastUpdated its issue time (else the order's
// last change), which it also returns. Control characters in the result's text become
// U+FFFD (see the package comment).
func DiagnosticReportJSON(o *order.Order, r order.Result, n int) (data []byte, version int, at time.Time, err error) {
	id := ReportID(o.ID, n)
	for _, v := range o.Results {
		if v.ID == r.ID {
			version++
		}
	}
	version = max(version, 1)
	dr, obs := ToDiagnosticReport(o, r)
	dr.Id = &id
	if data, err = containObservations(dr, obs); err != nil {
		return nil, 0, time.Time{}, err
	}
	data = jsontext.ReplaceControls(data)
	at = r.Issued
	if at.IsZero() {
		at = o.Updated
	}
	if data, err = WithMeta(data, id, version, at); err != nil {
		return nil, 0, time.Time{}, err
	}
	return data, version, at, nil
}

// containObservations encodes a report with its observations in
// DiagnosticReport.contained and DiagnosticReport.result pointing at them, as radbridge
// serves no Observation endpoint. (The samply structs have no contained element, so
// this is done on the JSON.)
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
