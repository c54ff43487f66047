package fhirserver

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/mapping/fhirmap"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// Update implements fhir.Backend for ServiceRequests: the new content replaces the
// order's data (like an XO), and its status drives the lifecycle: active re-checks it,
// on-hold holds it, revoked cancels it. Only the client that created a ServiceRequest
// may update it; one from an HL7 v2 sender is changed by that sender's messages.
//
// An id that names no order creates one (201) when it is a UUID (isClientID): the
// ServiceRequest keeps the client's id, the order gets one from the engine. Any other
// unknown id is 404: the client creates the order with POST.
func (b *Server) Update(ctx context.Context, req fhir.UpdateRequest) (fhir.Result, error) {
	if req.Type != typeServiceRequest {
		return fhir.Result{}, notSupported(req.Type, "update")
	}
	at := b.eng.Now()
	fo, sr, mapIssues := fhirmap.FromFHIRServiceRequestJSON(req.Resource)
	if sr == nil {
		return fhir.Result{}, &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: fhirIssues(mapIssues)}
	}
	if e := keyLimitError(typeServiceRequest, srIdentifierValues(sr), fo.Order.Source.FHIRSource); e != nil {
		return fhir.Result{}, e
	}
	inc := fo.Order
	inc.Source.Kind, inc.Source.ClientID = order.SourceFHIR, req.Client
	msgID, err := b.store.ReserveID(ctx, store.KindMessage)
	if err != nil {
		return fhir.Result{}, err
	}
	b.eng.Verify(ctx, inc, at) // what other services say (eligibility), before the transaction
	var create *newRequest     // the order, should the id name none
	if isClientID(req.ID) {
		var err error
		if create, err = b.prepareRequest(ctx, inc.Clone(), fo.Control, req.Resource, req.ID, identifiers(sr), at, msgID); err != nil {
			return fhir.Result{}, err
		}
	}
	b.eng.Check(inc, at)
	u := &orderUpdate{id: req.ID, client: req.Client, ifMatch: req.IfMatch, raw: req.Resource, inc: inc, ctl: fo.Control, index: identifiers(sr)}
	var res fhir.Result
	err = b.store.Update(ctx, func(tx store.Tx) error {
		r, o, err := b.putRequest(tx, u, create, at, msgID, "ServiceRequest.identifier")
		if errors.Is(err, errNoOrder) {
			return &fhir.Error{Status: http.StatusNotFound, Issues: []fhir.Issue{{Severity: "error", Code: "not-found",
				Diagnostics: "ServiceRequest/" + req.ID + " does not exist. " + clientIDRule}}}
		}
		if err != nil {
			return err
		}
		status := "200"
		if r.Created {
			status = "201"
		}
		if err := putFHIRMessage(tx, msgID, req.Client, typeServiceRequest, req.Resource, at, status, o.ID); err != nil {
			return err
		}
		res = r
		res.Issues = append(res.Issues, fhirIssues(mapIssues)...)
		return nil
	})
	if err == nil {
		b.eng.Notify(u.notify)
	}
	return res, err
}

// clientIDRule says which ServiceRequest ids a client may choose.
const clientIDRule = "The engine assigns order ids: a PUT creates an order only with an id that is a UUID " +
	"(8-4-4-4-12 hexadecimal digits, as no id the engine assigns is); create the order with POST ServiceRequest, " +
	"or PUT it with a UUID as its id"

// putRequest applies a PUT of a ServiceRequest in tx: an update of the order its id
// names, else, when create is not nil, the new order create; else errNoOrder. It
// returns the ServiceRequest as served with the order's findings, and the order.
func (b *Server) putRequest(tx store.Tx, u *orderUpdate, create *newRequest, at time.Time, msgID, expr string) (fhir.Result, *order.Order, error) {
	u.notify = nil // the transaction may run again
	res, o, err := b.applyUpdate(tx, u, at, msgID)
	if !errors.Is(err, errNoOrder) || create == nil {
		return res, o, err
	}
	if u.ifMatch != "" {
		return fhir.Result{}, nil, &fhir.Error{Status: http.StatusPreconditionFailed, Issues: []fhir.Issue{{Severity: "error", Code: "conflict",
			Diagnostics: "If-Match names a version of ServiceRequest/" + u.id + ", which does not exist"}}}
	}
	res, err = create.admit(tx, expr)
	u.notify = create.nw.Queued()
	return res, create.nw.Order, err
}

// orderUpdate is a change to an order from a ServiceRequest, mapped and checked outside
// the write transaction.
type orderUpdate struct {
	id, client, ifMatch string
	raw                 []byte // the ServiceRequest as sent (in a transaction, its references resolved)
	inc                 *order.Order
	ctl                 order.Control
	index               map[string][]string
	// notify are the delivery destinations the update queued for (the payer
	// workflow's requests), to wake once it is committed; set by putRequest.
	notify []string
}

// errNoOrder means that an update names no order.
var errNoOrder = errors.New("no such order")

// applyUpdate applies u to its order in tx: the order's data replaced and its status
// applied (applyFHIRStatus), the ServiceRequest stored as a new version. It returns the
// ServiceRequest as served with the order's findings, and the order.
func (b *Server) applyUpdate(tx store.Tx, u *orderUpdate, at time.Time, msgID string) (fhir.Result, *order.Order, error) {
	cur, err := orderOf(tx, u.id)
	if errors.Is(err, store.ErrNotFound) {
		return fhir.Result{}, nil, errNoOrder
	} else if err != nil {
		return fhir.Result{}, nil, err
	}
	prev, err := tx.Resource(typeServiceRequest, u.id)
	if errors.Is(err, store.ErrNotFound) || cur.Source.Kind != order.SourceFHIR || cur.Source.ClientID != u.client {
		return fhir.Result{}, nil, &fhir.Error{Status: http.StatusConflict, Issues: []fhir.Issue{{Severity: "error", Code: "business-rule",
			Diagnostics: "ServiceRequest/" + u.id + " was not created by this client: it changes only through messages from its own sender"}}}
	} else if err != nil {
		return fhir.Result{}, nil, err
	}
	if want := ifMatchVersion(u.ifMatch); want != "" && want != strconv.Itoa(prev.Version) {
		return fhir.Result{}, nil, &fhir.Error{Status: http.StatusPreconditionFailed, Issues: []fhir.Issue{{Severity: "error", Code: "conflict",
			Diagnostics: "If-Match names version " + want + " but the current version is " + strconv.Itoa(prev.Version)}}}
	}
	was, had := cur.Status, cur.Authorization
	o := engine.Merge(cur, u.inc.Clone())
	if err := applyFHIRStatus(o, u.ctl, at, msgID); err != nil {
		return fhir.Result{}, nil, &fhir.Error{Status: http.StatusConflict, Issues: []fhir.Issue{{Severity: "error", Code: "business-rule",
			Expression: "ServiceRequest.status", Diagnostics: explain(err)}}}
	}
	if u.notify, err = b.eng.FollowAuthorization(tx, o, was, had, at); err != nil {
		return fhir.Result{}, nil, err
	}
	if err := tx.PutOrder(o); err != nil {
		return fhir.Result{}, nil, err
	}
	data, served, err := fhirmap.StampRequest(u.raw, u.id, prev.Version+1, at, o.Status.ServiceRequestStatus())
	if err != nil {
		return fhir.Result{}, nil, err
	}
	r := &store.Resource{Type: typeServiceRequest, ID: u.id, LastUpdated: at, JSON: data, OrderID: o.ID, Index: u.index}
	if err := tx.PutResource(r); err != nil {
		return fhir.Result{}, nil, err
	}
	res := storedResult(r)
	res.Resource, res.Issues = served, findingsIssues(o)
	return res, o, nil
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
