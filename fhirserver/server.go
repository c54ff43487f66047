// Package fhirserver is radbridge's FHIR R4 REST backend (fhir.Backend): create, read,
// update and search of ServiceRequests, transaction Bundles, DiagnosticReports, Tasks
// and Subscriptions. A ServiceRequest is an order (the resource id is the order id, or
// the UUID its client gave it with PUT: Order.ServiceRequestID), created and changed
// through the engine's lifecycle and checks like an HL7 v2 order; a Task is the order's
// fulfillment status; a DiagnosticReport is one of its results. A resource a client
// posted is kept as posted (with a server-assigned id and meta) and read back so, as are
// the resources a transaction brings with its orders; one rendered from a v2 order is
// built from the order on read. Package fhir does the HTTP and FHIR protocol work in
// front of it.
package fhirserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	fhirmodels "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/mapping/fhirmap"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// Server is the REST backend behind package fhir's handlers. It is safe for concurrent
// use.
type Server struct {
	eng   *engine.Engine
	store store.Store
}

var _ fhir.Backend = (*Server)(nil)

// New returns the FHIR backend of eng, which stores into st (the engine's store).
func New(eng *engine.Engine, st store.Store) *Server { return &Server{eng: eng, store: st} }

// Resource types the backend holds.
const (
	typeServiceRequest   = "ServiceRequest"
	typeTask             = "Task"
	typeDiagnosticReport = "DiagnosticReport"
	typeSubscription     = "Subscription"
)

// Create implements fhir.Backend.
func (b *Server) Create(ctx context.Context, req fhir.CreateRequest) (fhir.Result, error) {
	switch req.Type {
	case typeServiceRequest:
		return b.createServiceRequest(ctx, req)
	case typeDiagnosticReport:
		return b.createDiagnosticReport(ctx, req)
	case typeSubscription:
		return b.createSubscription(ctx, req)
	}
	return fhir.Result{}, notSupported(req.Type, "create")
}

// Observe implements fhir.Backend: every answer to a FHIR write is counted in the
// engine's metrics (radbridge_messages_total) with its HTTP status, as every HL7 v2
// message is with its acknowledgment code.
func (b *Server) Observe(typ string, status int, start time.Time) {
	b.eng.Observe(typ, strconv.Itoa(status), start)
}

// Read implements fhir.Backend.
func (b *Server) Read(ctx context.Context, typ, id string) (fhir.Result, error) {
	var res fhir.Result
	err := b.store.View(ctx, func(tx store.ReadTx) error {
		var err error
		res, err = b.read(tx, typ, id)
		return err
	})
	return res, err
}

// VRead implements fhir.Backend: the current version as Read serves it; an earlier
// one as the store kept it (a resource a client sent, or a ServiceRequest it posted or
// put, with the status it had then). Resources built from orders (Tasks,
// DiagnosticReports, the ServiceRequests of HL7 v2 orders) have their current version
// only.
func (b *Server) VRead(ctx context.Context, typ, id, vid string) (fhir.Result, error) {
	var res fhir.Result
	err := b.store.View(ctx, func(tx store.ReadTx) error {
		cur, err := b.read(tx, typ, id)
		if err != nil || cur.VersionID == vid {
			res = cur
			return err
		}
		v, err := strconv.Atoi(vid)
		if n, _ := strconv.Atoi(cur.VersionID); err != nil || v < 1 || v >= n || strconv.Itoa(v) != vid {
			return fhir.ErrNotFound
		}
		r, err := tx.ResourceVersion(typ, id, v)
		if err != nil {
			return notFound(err)
		}
		res = storedResult(r)
		return nil
	})
	return res, err
}

func (b *Server) read(tx store.ReadTx, typ, id string) (fhir.Result, error) {
	switch typ {
	case typeServiceRequest:
		o, err := orderOf(tx, id)
		if err != nil {
			return fhir.Result{}, notFound(err)
		}
		return renderServiceRequest(tx, o)
	case typeTask:
		if o, err := tx.Order(strings.TrimSuffix(id, taskSuffix)); err == nil && strings.HasSuffix(id, taskSuffix) {
			return renderTask(o)
		}
	case typeDiagnosticReport:
		return readDiagnosticReport(tx, id)
	}
	// A resource a client sent (a Subscription, or one created in a transaction).
	r, err := tx.Resource(typ, id)
	if err != nil {
		return fhir.Result{}, notFound(err)
	}
	return storedResult(r), nil
}

// orderOf returns the order whose ServiceRequest has the given id: the order with that
// ID, unless a client gave its ServiceRequest an id of its own, or the order whose
// ServiceRequest a client created with that id (stored under it, with its order's ID).
func orderOf(tx store.ReadTx, id string) (*order.Order, error) {
	o, err := tx.Order(id)
	switch {
	case err == nil && o.ServiceRequestID() == id:
		return o, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	r, err := tx.Resource(typeServiceRequest, id)
	if err != nil {
		return nil, err
	}
	if r.OrderID == "" || r.OrderID == id {
		return nil, store.ErrNotFound
	}
	if o, err = tx.Order(r.OrderID); err != nil {
		return nil, err
	}
	if o.ServiceRequestID() != id {
		return nil, store.ErrNotFound
	}
	return o, nil
}

// isClientID reports whether a client may give a new ServiceRequest this id (a PUT that
// creates its order): a UUID, 8-4-4-4-12 hexadecimal digits. A client's ids and those
// of the orders the engine creates share one space, and the store's order ids are
// opaque; a UUID (a random one, as clients make them) is the one form that meets an id
// of any other origin by no chance worth counting, so that a client cannot take the id
// the store gives a later order.
func isClientID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fhir.ErrNotFound
	}
	return err
}

func notSupported(typ, interaction string) error {
	return &fhir.Error{Status: http.StatusMethodNotAllowed, Issues: []fhir.Issue{{Severity: "error", Code: "not-supported",
		Diagnostics: interaction + " of " + typ + " is not supported"}}}
}

// createServiceRequest maps, checks and stores a new order from a ServiceRequest. The
// mapping, checks, lifecycle steps and encoding run before the transaction; the
// conditional-create search, the uniqueness of the order key and the writes run inside
// it, serialized with every other write, so that identical concurrent creates store one
// order.
func (b *Server) createServiceRequest(ctx context.Context, req fhir.CreateRequest) (fhir.Result, error) {
	at := b.eng.Now()
	fo, sr, mapIssues := fhirmap.FromFHIRServiceRequestJSON(req.Resource)
	if sr == nil {
		return fhir.Result{}, &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: fhirIssues(mapIssues)}
	}
	if e := keyLimitError(typeServiceRequest, srIdentifierValues(sr), fo.Order.Source.FHIRSource); e != nil {
		return fhir.Result{}, e
	}
	if req.IfNoneExist != nil && !indexedCondition(req.IfNoneExist) {
		return fhir.Result{}, &fhir.Error{Status: http.StatusPreconditionFailed, Issues: []fhir.Issue{{Severity: "error", Code: "too-costly",
			Diagnostics: "If-None-Exist must name an identifier: a conditional create is checked against the identifier index, " +
				"never by examining orders one by one"}}}
	}
	o := fo.Order
	o.Source.Kind, o.Source.ClientID = order.SourceFHIR, req.Client
	msgID, err := b.store.ReserveID(ctx, store.KindMessage)
	if err != nil {
		return fhir.Result{}, err
	}
	nr, err := b.prepareRequest(ctx, o, fo.Control, req.Resource, "", identifiers(sr), at, msgID)
	if err != nil {
		return fhir.Result{}, err
	}
	var res fhir.Result
	err = b.store.Update(ctx, func(tx store.Tx) error {
		res = fhir.Result{}
		if req.IfNoneExist != nil {
			// Only the orders the identifier index names are examined (indexedCondition),
			// so the check costs the serialized commit a few lookups, not a scan.
			found, total, _, err := b.search(tx, typeServiceRequest, fhir.Query{Params: req.IfNoneExist, Count: 2})
			if err != nil {
				return err
			}
			switch {
			case total == 1:
				res, err = b.read(tx, typeServiceRequest, found[0])
				return err
			case total > 1:
				return &fhir.Error{Status: http.StatusPreconditionFailed, Issues: []fhir.Issue{{Severity: "error", Code: "duplicate",
					Diagnostics: "If-None-Exist matches " + strconv.Itoa(total) + " ServiceRequests: the condition must identify one"}}}
			}
		}
		r, err := nr.admit(tx, "ServiceRequest.identifier")
		if err != nil {
			return err
		}
		if err := putFHIRMessage(tx, msgID, req.Client, typeServiceRequest, req.Resource, at, "201", o.ID); err != nil {
			return err
		}
		res = r
		res.Issues = append(res.Issues, fhirIssues(mapIssues)...)
		return nil
	})
	if err != nil {
		return fhir.Result{}, err
	}
	if res.Created {
		b.eng.Notify(nr.nw.Queued()) // the payer workflow's request, when one was queued
	}
	return res, nil
}

// newRequest is a new order from a ServiceRequest, made ready outside the write
// transaction: the order prepared for admission and its ServiceRequest stamped, as
// stored and as served.
type newRequest struct {
	nw             *engine.NewOrder
	stored, served []byte
	index          map[string][]string
	at             time.Time
}

// prepareRequest makes o, mapped from the ServiceRequest raw with status control c, a
// new order created at at by message msgID. srID is the id the client gave the
// ServiceRequest (a PUT that creates the order), "" when the order's id is its
// ServiceRequest's (a POST).
func (b *Server) prepareRequest(ctx context.Context, o *order.Order, c order.Control, raw []byte, srID string,
	index map[string][]string, at time.Time, msgID string) (*newRequest, error) {
	o.Source.ResourceID = srID
	nw, err := b.eng.PrepareNew(ctx, o, order.Control{Code: "NW"}, createdAs(c), at, msgID)
	if err != nil {
		return nil, err
	}
	stored, served, err := fhirmap.StampRequest(raw, o.ServiceRequestID(), 1, at, o.Status.ServiceRequestStatus())
	if err != nil {
		return nil, err
	}
	return &newRequest{nw: nw, stored: stored, served: served, index: index, at: at}, nil
}

// admit stores the new order and its ServiceRequest in tx, and returns the
// ServiceRequest as served with the order's findings. An order of the same client with
// the same placer number refuses it: a *fhir.Error 409 at expr.
func (n *newRequest) admit(tx store.Tx, expr string) (fhir.Result, error) {
	o := n.nw.Order
	if err := n.nw.Admit(tx); err != nil {
		var dup *engine.DuplicateError
		if errors.As(err, &dup) {
			return fhir.Result{}, &fhir.Error{Status: http.StatusConflict, Issues: []fhir.Issue{{Severity: "error", Code: "duplicate", Expression: expr,
				Diagnostics: "this client already has an order with placer number " + o.Placer + " (ServiceRequest/" + dup.Existing.ServiceRequestID() +
					"): update it with PUT, or make the create conditional with If-None-Exist"}}}
		}
		return fhir.Result{}, err
	}
	r := &store.Resource{Type: typeServiceRequest, ID: o.ServiceRequestID(), LastUpdated: n.at, JSON: n.stored, OrderID: o.ID, Index: n.index}
	if err := tx.PutResource(r); err != nil {
		return fhir.Result{}, err
	}
	res := storedResult(r)
	res.Resource, res.Created, res.Issues = n.served, true, findingsIssues(o)
	return res, nil
}

// indexedCondition reports whether a conditional create's criteria name an identifier,
// so that its candidates come from the identifier index alone (candidates) and the
// search inside the write transaction never scans.
func indexedCondition(params url.Values) bool {
	return strings.TrimSpace(params.Get("identifier")) != ""
}

// createdAs is the control a new order takes after it is admitted, for a ServiceRequest
// created in a status other than active: on hold (HD) or revoked (CA). A completed one
// (SC) is still a new order, as are the others.
func createdAs(c order.Control) order.Control {
	switch strings.ToUpper(c.Code) {
	case "HD", "CA":
		return c
	}
	return order.Control{}
}

// identifiers lists a ServiceRequest's identifier values for store.Resource.Index, as
// identifierIndex does from its JSON.
func identifiers(sr *fhirmodels.ServiceRequest) map[string][]string {
	if len(sr.Identifier) == 0 {
		return nil
	}
	var values []string
	for _, id := range sr.Identifier {
		if id.Value != nil && *id.Value != "" {
			values = append(values, *id.Value)
		}
	}
	return map[string][]string{"identifier": values}
}

// putFHIRMessage records an inbound FHIR request like an HL7 v2 message: its raw body is
// kept for audit and reprocessing.
func putFHIRMessage(tx store.Tx, id, client, typ string, raw []byte, at time.Time, status string, orderIDs ...string) error {
	return tx.PutMessage(&store.Message{ID: id, Kind: "fhir", Sender: client, Type: typ, ReceivedAt: at,
		AckCode: status, Size: len(raw), OrderIDs: orderIDs}, raw)
}

// createOther stores a resource the engine only keeps (a Subscription): a new id with
// the given prefix, meta set.
func (b *Server) createOther(ctx context.Context, req fhir.CreateRequest) (fhir.Result, error) {
	at := b.eng.Now()
	id, err := b.store.ReserveID(ctx, store.KindResource)
	if err != nil {
		return fhir.Result{}, err
	}
	data, err := fhirmap.WithMeta(req.Resource, id, 1, at)
	if err != nil {
		return fhir.Result{}, err
	}
	r := &store.Resource{Type: req.Type, ID: id, LastUpdated: at, JSON: data}
	if err := b.store.Update(ctx, func(tx store.Tx) error { return tx.PutResource(r) }); err != nil {
		return fhir.Result{}, err
	}
	res := storedResult(r)
	res.Created = true
	return res, nil
}

// identifierIndex lists a resource's identifier values for store.Resource.Index.
func identifierIndex(resource []byte) map[string][]string {
	var r struct {
		Identifier []struct {
			Value string `json:"value"`
		} `json:"identifier"`
	}
	if json.Unmarshal(resource, &r) != nil || len(r.Identifier) == 0 {
		return nil
	}
	var values []string
	for _, id := range r.Identifier {
		if id.Value != "" {
			values = append(values, id.Value)
		}
	}
	return map[string][]string{"identifier": values}
}

func storedResult(r *store.Resource) fhir.Result {
	return fhir.Result{Type: r.Type, ID: r.ID, VersionID: strconv.Itoa(r.Version), LastUpdated: r.LastUpdated, Resource: r.JSON}
}

// renderServiceRequest returns an order's ServiceRequest: the stored resource (under the
// id its client gave it, if it did), its status following the order's lifecycle, or for
// an order no client posted, one built from the order (its version is the number of
// lifecycle changes).
func renderServiceRequest(tx store.ReadTx, o *order.Order) (fhir.Result, error) {
	status := o.Status.ServiceRequestStatus()
	if r, err := tx.Resource(typeServiceRequest, o.ServiceRequestID()); err == nil {
		data, err := fhirmap.WithStatus(r.JSON, status)
		if err != nil {
			return fhir.Result{}, err
		}
		res := storedResult(r)
		res.Resource = data
		return res, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return fhir.Result{}, err
	}
	data, err := fhirmap.ServiceRequestJSON(o)
	if err != nil {
		return fhir.Result{}, err
	}
	version := max(len(o.History), 1)
	data, err = fhirmap.WithMeta(data, o.ID, version, o.Updated)
	if err != nil {
		return fhir.Result{}, err
	}
	return fhir.Result{Type: typeServiceRequest, ID: o.ID, VersionID: strconv.Itoa(version), LastUpdated: o.Updated, Resource: data}, nil
}

// taskSuffix makes an order's Task id from its own: ord-7 -> ord-7-task.
const taskSuffix = "-task"

func renderTask(o *order.Order) (fhir.Result, error) {
	id := o.ID + taskSuffix
	data, err := fhirmap.TaskJSON(o) // its id is replaced below
	if err != nil {
		return fhir.Result{}, err
	}
	version := max(len(o.History), 1)
	if data, err = fhirmap.WithMeta(data, id, version, o.Updated); err != nil {
		return fhir.Result{}, err
	}
	return fhir.Result{Type: typeTask, ID: id, VersionID: strconv.Itoa(version), LastUpdated: o.Updated, Resource: data}, nil
}

// findingsIssues reports an order's check findings as OperationOutcome issues, typed by
// their class: required, value, code-invalid or informational.
func findingsIssues(o *order.Order) []fhir.Issue {
	var out []fhir.Issue
	for _, f := range o.Findings {
		code := "required"
		switch f.Kind() {
		case order.FindingInvalid:
			code = "value"
		case order.FindingUnknown:
			code = "code-invalid"
		case order.FindingInformational:
			code = "informational"
		}
		out = append(out, fhir.Issue{Severity: string(f.Severity), Code: code, Expression: f.FHIRPath, Diagnostics: f.Text, Details: f.Code})
	}
	return out
}

func fhirIssues(in []fhirmap.FHIRIssue) []fhir.Issue {
	var out []fhir.Issue
	for _, is := range in {
		out = append(out, fhir.Issue{Severity: string(is.Severity), Code: is.Code, Expression: is.Expression, Diagnostics: is.Diagnostics})
	}
	return out
}
