package fhirserver

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/internal/jsontext"
	"github.com/radbridge/radbridge/mapping/fhirmap"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// Update implements fhir.Backend for ServiceRequests: the new content replaces the
// order's data (like an XO), and its status drives the lifecycle: active re-checks it,
// on-hold holds it, revoked cancels it. Only the client that created a ServiceRequest
// may update it; one from an HL7 v2 sender is changed by that sender's messages.
func (b *Server) Update(ctx context.Context, req fhir.UpdateRequest) (fhir.Result, error) {
	if req.Type != typeServiceRequest {
		return fhir.Result{}, notSupported(req.Type, "update")
	}
	at := b.eng.Now()
	fo, sr, mapIssues := fhirmap.FromFHIRServiceRequestJSON(req.Resource)
	if sr == nil {
		return fhir.Result{}, &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: fhirIssues(mapIssues)}
	}
	index := identifiers(sr)
	inc := fo.Order
	inc.Source.Kind, inc.Source.ClientID = order.SourceFHIR, req.Client
	b.eng.Check(inc, at)
	msgID := b.store.ReserveID(store.KindMessage)
	var res fhir.Result
	var notify []string
	err := b.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.Order(req.ID)
		if err != nil {
			return notFound(err)
		}
		was, had := cur.Status, cur.Authorization
		prev, err := tx.Resource(typeServiceRequest, req.ID)
		if errors.Is(err, store.ErrNotFound) || cur.Source.Kind != order.SourceFHIR || cur.Source.ClientID != req.Client {
			return &fhir.Error{Status: http.StatusConflict, Issues: []fhir.Issue{{Severity: "error", Code: "business-rule",
				Diagnostics: "ServiceRequest/" + req.ID + " was not created by this client: it changes only through messages from its own sender"}}}
		} else if err != nil {
			return err
		}
		if want := strings.Trim(strings.TrimPrefix(req.IfMatch, "W/"), `"`); req.IfMatch != "" && want != strconv.Itoa(prev.Version) {
			return &fhir.Error{Status: http.StatusPreconditionFailed, Issues: []fhir.Issue{{Severity: "error", Code: "conflict",
				Diagnostics: "If-Match names version " + want + " but the current version is " + strconv.Itoa(prev.Version)}}}
		}
		o := engine.Merge(cur, inc.Clone())
		if err := applyFHIRStatus(o, fo.Control, at, msgID); err != nil {
			return &fhir.Error{Status: http.StatusConflict, Issues: []fhir.Issue{{Severity: "error", Code: "business-rule",
				Expression: "ServiceRequest.status", Diagnostics: err.Error()}}}
		}
		if notify, err = b.eng.FollowAuthorization(tx, o, was, had, at); err != nil {
			return err
		}
		if err := tx.PutOrder(o); err != nil {
			return err
		}
		data, served, err := fhirmap.StampRequest(req.Resource, o.ID, prev.Version+1, at, o.Status.ServiceRequestStatus())
		if err != nil {
			return err
		}
		r := &store.Resource{Type: typeServiceRequest, ID: o.ID, LastUpdated: at, JSON: data, OrderID: o.ID, Index: index}
		if err := tx.PutResource(r); err != nil {
			return err
		}
		if err := putFHIRMessage(tx, msgID, req.Client, typeServiceRequest, req.Resource, at, "200", o.ID); err != nil {
			return err
		}
		res = storedResult(r)
		res.Resource, res.Issues = served, append(findingsIssues(o), fhirIssues(mapIssues)...)
		return nil
	})
	if err == nil {
		b.eng.Notify(notify)
	}
	return res, err
}

// applyFHIRStatus applies a ServiceRequest's status to its order: active (or a status
// the mapping reads as no control) replaces the data and re-runs the checks, like an
// HL7 XO; on-hold holds, revoked cancels, and active after a hold releases it first.
func applyFHIRStatus(o *order.Order, c order.Control, at time.Time, msgID string) error {
	switch strings.ToUpper(c.Code) {
	case "HD", "CA", "SC":
		return o.ApplyControl(c, at, msgID)
	}
	if o.Status == order.StatusOnHold {
		if err := o.Release(at, "ServiceRequest.status=active", msgID); err != nil {
			return err
		}
	}
	if err := o.ApplyControl(order.Control{Code: "XO"}, at, msgID); err != nil {
		return err
	}
	if o.Status == order.StatusReceived {
		return o.Settle(at, "", msgID)
	}
	return nil
}

// notInTransaction are the types a transaction cannot create: those the engine derives
// from orders or keeps apart.
var notInTransaction = map[string]bool{"Bundle": true, "DiagnosticReport": true, "Subscription": true, "OperationOutcome": true}

// Transaction implements fhir.Backend: every entry in one store transaction. Entries
// get ids first: POST entries new ones; PUT entries of the resources a ServiceRequest
// refers to keep the id in their URL (an upsert); a ServiceRequest, being an order,
// always gets an order id, and references to the id a client gave it are rewritten.
// urn:uuid references between entries are rewritten to the ids, the ServiceRequests
// become orders (mapped with the other entries as their context), and the rest are
// stored as they are.
func (b *Server) Transaction(ctx context.Context, entries []fhir.Entry) ([]fhir.Result, error) {
	at := b.eng.Now()
	ids := make([]string, len(entries))
	types := make([]string, len(entries))
	refs := map[string]string{}
	for i, en := range entries {
		parts := strings.SplitN(strings.Trim(en.URL, "/"), "/", 2)
		typ, urlID := parts[0], ""
		if len(parts) == 2 {
			urlID = parts[1]
		}
		types[i] = typ
		switch {
		case en.Method != http.MethodPost && en.Method != http.MethodPut:
			return nil, entryError(i, "entry.request.method "+en.Method+" is not supported in a transaction: use POST or PUT")
		case en.Method == http.MethodPut && (urlID == "" || !validID(urlID)):
			return nil, entryError(i, "entry.request.url "+strconv.Quote(en.URL)+" must be Type/id for a PUT")
		case typ == typeServiceRequest:
			ids[i] = b.store.ReserveID(store.KindOrder)
			if urlID != "" {
				refs[typ+"/"+urlID] = typ + "/" + ids[i]
			}
		case notInTransaction[typ] || !validID(typ):
			return nil, entryError(i, "resource type "+typ+" cannot be created in a transaction here")
		case urlID != "":
			ids[i] = urlID
		default:
			ids[i] = b.resourceID(strings.ToLower(typ[:3]) + "-")
		}
		if en.FullURL != "" {
			refs[en.FullURL] = typ + "/" + ids[i]
		}
	}
	// The resources with their ids, meta and rewritten references, as one Bundle for
	// the mapping, which resolves a ServiceRequest's references within it.
	resolved := make([][]byte, len(entries))
	var bundle bytes.Buffer
	bundle.WriteString(`{"resourceType":"Bundle","type":"transaction","entry":[`)
	for i, en := range entries {
		data, err := jsontext.RewriteReferences(en.Resource, refs)
		if err == nil {
			data, err = fhirmap.WithMeta(data, ids[i], 1, at)
		}
		if err != nil {
			return nil, entryError(i, "resource is not a JSON object")
		}
		resolved[i] = data
		if i > 0 {
			bundle.WriteByte(',')
		}
		bundle.WriteString(`{"fullUrl":` + strconv.Quote(types[i]+"/"+ids[i]) + `,"resource":`)
		bundle.Write(data)
		bundle.WriteString(`,"request":{"method":"POST","url":` + strconv.Quote(types[i]) + `}}`)
	}
	bundle.WriteString(`]}`)
	fos, mapIssues := fhirmap.FromFHIR(bundle.Bytes())
	msgID := b.store.ReserveID(store.KindMessage)
	byEntry := map[int]*engine.NewOrder{}
	for _, fo := range fos {
		fo.Order.Source.Kind, fo.Order.Source.ClientID = order.SourceFHIR, entries[fo.Entry].Client
		fo.Order.ID = ids[fo.Entry]
		nw, err := b.eng.PrepareNew(ctx, fo.Order, order.Control{Code: "NW"}, createdAs(fo.Control), at, msgID)
		if err != nil {
			return nil, err
		}
		byEntry[fo.Entry] = nw
	}
	results := make([]fhir.Result, len(entries))
	err := b.store.Update(ctx, func(tx store.Tx) error {
		var orderIDs []string
		for i := range entries {
			typ := types[i]
			r := &store.Resource{Type: typ, ID: ids[i], LastUpdated: at, JSON: resolved[i]}
			var issues []fhir.Issue
			if nw, ok := byEntry[i]; ok {
				if err := nw.Admit(tx); err != nil {
					var dup *engine.DuplicateError
					if errors.As(err, &dup) {
						return &fhir.Error{Status: http.StatusConflict, Issues: []fhir.Issue{{Severity: "error", Code: "duplicate",
							Expression:  "Bundle.entry[" + strconv.Itoa(i) + "].resource.identifier",
							Diagnostics: "an order with placer number " + nw.Order.Placer + " already exists (ServiceRequest/" + dup.Existing.ID + ")"}}}
					}
					return err
				}
				r.OrderID, r.Index = nw.Order.ID, identifierIndex(r.JSON)
				orderIDs = append(orderIDs, nw.Order.ID)
				issues = findingsIssues(nw.Order)
			}
			if err := tx.PutResource(r); err != nil {
				return err
			}
			results[i] = fhir.Result{Type: typ, ID: r.ID, VersionID: strconv.Itoa(r.Version), LastUpdated: at, Resource: r.JSON,
				Created: r.Version == 1, Issues: issues}
		}
		if len(results) > 0 {
			results[0].Issues = append(results[0].Issues, fhirIssues(mapIssues)...)
		}
		return putFHIRMessage(tx, msgID, entriesClient(entries), "Bundle", bundle.Bytes(), at, "200", orderIDs...)
	})
	if err != nil {
		return nil, err
	}
	for _, nw := range byEntry {
		b.eng.Notify(nw.Queued())
	}
	b.eng.Observe("Bundle", "200", at)
	return results, nil
}

// validID reports whether s is a FHIR id: 1 to 64 letters, digits, '-' and '.'.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func entriesClient(entries []fhir.Entry) string {
	if len(entries) == 0 {
		return ""
	}
	return entries[0].Client
}

func entryError(i int, text string) error {
	return &fhir.Error{Status: http.StatusBadRequest, Issues: []fhir.Issue{{Severity: "error", Code: "not-supported",
		Expression: "Bundle.entry[" + strconv.Itoa(i) + "]", Diagnostics: text}}}
}
