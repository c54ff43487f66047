package fhirserver

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	samply "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// scanLimit bounds how many orders a search without an indexed parameter (identifier,
// status) examines: the newest ones.
const scanLimit = store.MaxLimit

// partialSearch is the warning for a search whose candidates were cut at the newest
// scanLimit orders: its matches may not be all there are.
func partialSearch(typ string) fhir.Issue {
	hint := "identifier"
	if typ != typeServiceRequest {
		hint = "based-on"
	}
	return fhir.Issue{Severity: "warning", Code: "too-costly",
		Diagnostics: "only the newest " + strconv.Itoa(scanLimit) + " candidate orders were examined: older matches are not listed; " +
			"search by " + hint + " to reach every order"}
}

// Search implements fhir.Backend.
func (b *Server) Search(ctx context.Context, typ string, q fhir.Query) (fhir.SearchResult, error) {
	var out fhir.SearchResult
	err := b.store.View(ctx, func(tx store.ReadTx) error {
		switch typ {
		case typeServiceRequest:
			ids, total, partial, err := b.search(tx, typ, q)
			if err != nil {
				return err
			}
			out.Total = total
			if partial {
				out.Issues = append(out.Issues, partialSearch(typ))
			}
			for _, id := range ids {
				r, err := b.read(tx, typ, id)
				if err != nil {
					return err
				}
				out.Resources = append(out.Resources, r.Resource)
			}
			return nil
		case typeTask, typeDiagnosticReport:
			all, partial, err := searchByOrder(tx, typ, q)
			if err != nil {
				return err
			}
			out.Total = len(all)
			if partial {
				out.Issues = append(out.Issues, partialSearch(typ))
			}
			out.Resources = page(all, q)
			return nil
		case typeSubscription:
			list, total, err := tx.Resources(typ, store.MaxLimit)
			if err != nil {
				return err
			}
			out.Total = total
			for _, r := range list {
				out.Resources = append(out.Resources, r.JSON)
			}
			out.Resources = page(out.Resources, q)
			return nil
		}
		return notSupported(typ, "search")
	})
	return out, err
}

func page[T any](all []T, q fhir.Query) []T {
	count := q.Count
	if count <= 0 {
		count = 20
	}
	if q.Offset >= len(all) {
		return nil
	}
	return all[q.Offset:min(len(all), q.Offset+count)]
}

// search returns one page of the ids of the ServiceRequests that match q (their own ids:
// Order.ServiceRequestID), and the total.
// Candidates come from the order indexes (placer number for identifier, status); each is
// then matched on its ServiceRequest, stored or rendered, so that every parameter means
// the same for orders from HL7 v2 and from FHIR.
func (b *Server) search(tx store.ReadTx, typ string, q fhir.Query) (ids []string, total int, partial bool, err error) {
	cands, partial, exact, err := candidates(tx, q.Params)
	if err != nil {
		return nil, 0, false, err
	}
	for _, o := range cands {
		r, err := renderServiceRequest(tx, o)
		if err != nil {
			return nil, 0, false, err
		}
		var sr samply.ServiceRequest
		if err := json.Unmarshal(r.Resource, &sr); err != nil {
			continue
		}
		ok, err := matchServiceRequest(&sr, o, q.Params)
		if err != nil {
			return nil, 0, false, err
		}
		if ok {
			ids = append(ids, o.ServiceRequestID())
		}
	}
	total = len(ids)
	if exact >= 0 {
		total = exact // what the index counts, beyond the candidates it listed
	}
	return page(ids, q), total, partial, nil
}

// candidates picks the orders a ServiceRequest search has to examine. When the order
// indexes alone answer the search (no parameter, or status only), exact is the number
// of orders that match, which may exceed those listed (at most store.MaxLimit per
// index); otherwise it is -1 and the matches among the candidates are the total.
func candidates(tx store.ReadTx, params map[string][]string) (out []*order.Order, partial bool, exact int, err error) {
	seen := map[string]bool{}
	add := func(list []*order.Order) {
		for _, o := range list {
			if !seen[o.ID] {
				seen[o.ID] = true
				out = append(out, o)
			}
		}
	}
	// orders adds the orders q lists and notes whether it listed fewer than match, and
	// how many match in all.
	matched := 0
	orders := func(q store.OrderQuery) error {
		list, total, err := tx.Orders(q)
		add(list)
		partial = partial || total > len(list)
		matched += total
		return err
	}
	if vals := params["identifier"]; len(vals) > 0 {
		// Indexes only, never a scan: this also runs inside the write transaction of a
		// conditional create. A placer number finds any order; every identifier of a
		// posted ServiceRequest is indexed with it.
		for _, v := range strings.Split(vals[0], ",") {
			_, value := splitToken(v)
			if err := orders(store.OrderQuery{Placer: value, Limit: store.MaxLimit}); err != nil {
				return nil, false, -1, err
			}
			ids, err := tx.FindResources(typeServiceRequest, "identifier", value)
			if err != nil {
				return nil, false, -1, err
			}
			for _, id := range ids {
				if o, err := orderOf(tx, id); err == nil {
					add([]*order.Order{o})
				}
			}
		}
		return out, partial, -1, nil
	}
	exact = -1
	if len(params) == 0 || len(params) == 1 && len(params["status"]) == 1 {
		exact = 0 // the status index, or the count of all orders, is the answer
	}
	if vals := params["status"]; len(vals) > 0 {
		asked := map[order.Status]bool{}
		for _, v := range strings.Split(vals[0], ",") {
			for _, s := range orderStatusesFor(v) {
				if asked[s] {
					continue
				}
				asked[s] = true
				if err := orders(store.OrderQuery{Status: s, Limit: store.MaxLimit}); err != nil {
					return nil, false, -1, err
				}
			}
		}
	} else if err := orders(store.OrderQuery{Limit: scanLimit}); err != nil {
		return nil, false, -1, err
	}
	if exact == 0 {
		exact = matched
	}
	return out, partial, exact, nil
}

// orderStatusesFor lists the order statuses shown as a ServiceRequest status.
func orderStatusesFor(srStatus string) []order.Status {
	var out []order.Status
	for _, s := range []order.Status{order.StatusReceived, order.StatusIncomplete, order.StatusPendingAuth, order.StatusReady,
		order.StatusInProgress, order.StatusResulted, order.StatusDelivered, order.StatusCancelled, order.StatusOnHold,
		order.StatusDenied, order.StatusEnteredInError} {
		if s.ServiceRequestStatus() == srStatus {
			out = append(out, s)
		}
	}
	return out
}

// matchServiceRequest evaluates the search parameters on a ServiceRequest and its order
// (which holds the identifiers of a patient or practitioner that the resource names
// through a contained resource): a comma between values means any of them, a repeated
// parameter means all of them.
func matchServiceRequest(sr *samply.ServiceRequest, o *order.Order, params map[string][]string) (bool, error) {
	for name, vals := range params {
		for _, val := range vals {
			any := false
			for _, v := range strings.Split(val, ",") {
				ok, err := matchParam(sr, o, name, v)
				if err != nil {
					return false, err
				}
				any = any || ok
			}
			if !any {
				return false, nil
			}
		}
	}
	return true, nil
}

func matchParam(sr *samply.ServiceRequest, o *order.Order, name, v string) (bool, error) {
	switch name {
	case "identifier":
		system, value := splitToken(v)
		for _, id := range sr.Identifier {
			if id.Value != nil && *id.Value == value && (system == nil || deref(id.System) == *system) {
				return true, nil
			}
		}
		return false, nil
	case "status":
		return sr.Status.Code() == v, nil
	case "patient", "subject":
		if matchReference(&sr.Subject, "Patient", v) {
			return true, nil
		}
		for _, id := range o.Patient.Identifiers {
			if id.Value == strings.TrimPrefix(v, "Patient/") {
				return true, nil
			}
		}
		return false, nil
	case "requester":
		v := strings.TrimPrefix(v, "Practitioner/")
		return sr.Requester != nil && matchReference(sr.Requester, "Practitioner", v) ||
			o.Provider.NPI != "" && o.Provider.NPI == v || o.Provider.ID != "" && o.Provider.ID == v, nil
	case "authored":
		if sr.AuthoredOn == nil {
			return false, nil
		}
		return matchDate(*sr.AuthoredOn, v)
	}
	return false, &fhir.Error{Status: http.StatusBadRequest, Issues: []fhir.Issue{{Severity: "error", Code: "not-supported",
		Diagnostics: "search parameter " + name + " is not supported for ServiceRequest"}}}
}

// splitToken splits a token parameter "system|value"; system is nil when no bar is
// given (any system) and points at "" for "|value" (no system).
func splitToken(v string) (*string, string) {
	if i := strings.IndexByte(v, '|'); i >= 0 {
		s := v[:i]
		return &s, v[i+1:]
	}
	return nil, v
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// matchReference matches a reference parameter: "Type/id", a bare id, or an identifier
// value of the referenced resource (an NPI, an MRN) carried on the reference.
func matchReference(ref *samply.Reference, typ, v string) bool {
	v = strings.TrimPrefix(v, typ+"/")
	if r := deref(ref.Reference); r != "" && (r == typ+"/"+v || strings.HasSuffix(r, "/"+typ+"/"+v) || r == v) {
		return true
	}
	return ref.Identifier != nil && deref(ref.Identifier.Value) == v
}

// matchDate evaluates a date parameter with an optional prefix (eq, ne, gt, lt, ge, le)
// against a dateTime: equality means the same instant to the precision the parameter
// gives (a day, a month...).
func matchDate(value, param string) (bool, error) {
	prefix := "eq"
	if len(param) > 2 && strings.Contains("eq ne gt lt ge le", param[:2]) && param[2] >= '0' && param[2] <= '9' {
		prefix, param = param[:2], param[2:]
	}
	lo, hi, err := dateRange(param)
	if err != nil {
		return false, &fhir.Error{Status: http.StatusBadRequest, Issues: []fhir.Issue{{Severity: "error", Code: "value",
			Diagnostics: "authored: " + err.Error()}}}
	}
	vlo, vhi, err := dateRange(value)
	if err != nil {
		return false, nil
	}
	switch prefix {
	case "eq":
		return !vlo.Before(lo) && !vhi.After(hi), nil
	case "ne":
		return vhi.Before(lo) || vlo.After(hi), nil
	case "gt":
		return vhi.After(hi), nil
	case "lt":
		return vlo.Before(lo), nil
	case "ge":
		return !vhi.Before(lo), nil
	}
	return !vlo.After(hi), nil // le
}

// dateRange returns the instants a FHIR date or dateTime covers, from its precision.
func dateRange(s string) (time.Time, time.Time, error) {
	layouts := []struct {
		layout string
		span   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
		{time.RFC3339, func(t time.Time) time.Time { return t.Add(time.Second) }},
		{time.RFC3339Nano, func(t time.Time) time.Time { return t.Add(time.Nanosecond) }},
		{"2006-01-02T15:04", func(t time.Time) time.Time { return t.Add(time.Minute) }},
		{"2006-01-02T15:04:05", func(t time.Time) time.Time { return t.Add(time.Second) }},
	}
	for _, l := range layouts {
		if t, err := time.Parse(l.layout, s); err == nil {
			return t, l.span(t).Add(-time.Nanosecond), nil
		}
	}
	return time.Time{}, time.Time{}, &time.ParseError{Layout: "YYYY[-MM[-DD[Thh:mm[:ss]]]][Z|+hh:mm]", Value: s, Message: ": not a FHIR date"}
}

// searchByOrder finds Tasks and DiagnosticReports by the order they belong to:
// based-on=ServiceRequest/{id} (or patient= for DiagnosticReports). The Tasks of
// based-on are the order's own and those a client sent in a transaction whose basedOn
// names it.
func searchByOrder(tx store.ReadTx, typ string, q fhir.Query) (out []json.RawMessage, partial bool, err error) {
	var orders []*order.Order
	var kept []json.RawMessage // Tasks a client sent in a transaction
	if v := q.Params["based-on"]; len(v) > 0 {
		for _, ref := range strings.Split(v[0], ",") {
			id := strings.TrimPrefix(ref, typeServiceRequest+"/")
			if o, err := orderOf(tx, id); err == nil {
				orders = append(orders, o)
			}
			if typ != typeTask {
				continue
			}
			ids, err := tx.FindResources(typeTask, "based-on", typeServiceRequest+"/"+id)
			if err != nil {
				return nil, false, err
			}
			for _, tid := range ids {
				r, err := tx.Resource(typeTask, tid)
				if err != nil {
					return nil, false, notFound(err)
				}
				kept = append(kept, r.JSON)
			}
		}
	} else if typ == typeDiagnosticReport && len(q.Params["patient"]) > 0 {
		list, total, err := tx.Orders(store.OrderQuery{Limit: scanLimit})
		if err != nil {
			return nil, false, err
		}
		partial = total > len(list)
		want := strings.TrimPrefix(q.Params["patient"][0], "Patient/")
		for _, o := range list {
			for _, id := range o.Patient.Identifiers {
				if id.Value == want {
					orders = append(orders, o)
					break
				}
			}
		}
	} else {
		return nil, false, &fhir.Error{Status: http.StatusBadRequest, Issues: []fhir.Issue{{Severity: "error", Code: "required",
			Diagnostics: typ + " search needs based-on=ServiceRequest/{id}" + map[bool]string{true: " or patient=", false: ""}[typ == typeDiagnosticReport]}}}
	}
	for _, o := range orders {
		if typ == typeTask {
			r, err := renderTask(o)
			if err != nil {
				return nil, false, err
			}
			out = append(out, r.Resource)
			continue
		}
		reports, err := diagnosticReports(o)
		if err != nil {
			return nil, false, err
		}
		for _, r := range reports {
			out = append(out, r.Resource)
		}
	}
	return append(out, kept...), partial, nil
}
