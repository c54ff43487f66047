package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"time"
)

// Backend is what the FHIR handlers need from the engine, which implements it. The
// handlers do the HTTP and FHIR protocol work (content negotiation, size limits, the
// validation gate, OperationOutcome, Bundles, paging); the backend stores resources and
// runs them through the same pipeline as HL7 v2 messages.
//
// Resources cross this boundary as JSON that has passed the validation gate. The
// backend returns resources as stored, meta (versionId, lastUpdated, source) included.
type Backend interface {
	// Create stores a new resource of req.Type. With req.IfNoneExist set it is a
	// conditional create: when exactly one resource matches, that one is returned with
	// Created false and nothing is stored; when several match it fails with Error{412}.
	// Identical concurrent conditional creates produce one resource.
	Create(ctx context.Context, req CreateRequest) (Result, error)
	// Update replaces resource typ/id (creating it when absent, as FHIR update-as-create
	// allows only if the backend supports it; otherwise Error{404}). With IfMatch set
	// ("W/\"3\"" or "3") a version other than the current one fails with Error{412}.
	Update(ctx context.Context, req UpdateRequest) (Result, error)
	// Read returns the current version of typ/id, or ErrNotFound.
	Read(ctx context.Context, typ, id string) (Result, error)
	// VRead returns version vid of typ/id (the versionId that Result.VersionID and the
	// Location of a write name), or ErrNotFound when the resource or that version is not
	// kept. The current version reads as Read returns it.
	VRead(ctx context.Context, typ, id, vid string) (Result, error)
	// Search returns the resources of typ that match q, newest first, and the total.
	Search(ctx context.Context, typ string, q Query) (SearchResult, error)
	// Transaction applies every entry of a transaction Bundle atomically (all or none),
	// resolving urn:uuid references between entries to the ids it assigns, and returns
	// one Result per entry, in order.
	Transaction(ctx context.Context, entries []Entry) ([]Result, error)
	// Observe counts one answer to a write (a create, update, transaction or batch,
	// and any request with another method than GET or HEAD): typ is the resource type of
	// the URL ("Bundle" for the base, "other" for a type the server does not serve),
	// status the HTTP status answered, whoever decided it (the handlers, the gate or the
	// Backend), and start when the request arrived. The handlers call it once per such
	// request, after the answer is written.
	Observe(typ string, status int, start time.Time)
}

// CreateRequest is a create (POST [base]/[type]).
type CreateRequest struct {
	Type     string          // resource type, e.g. "ServiceRequest"
	Resource json.RawMessage // validated JSON; any id it carries is ignored
	// IfNoneExist is the parsed If-None-Exist header (search parameters), nil when the
	// create is unconditional.
	IfNoneExist url.Values
	// Client identifies the caller (authenticated client id, or the remote address
	// when there is no authentication); orders are namespaced by it.
	Client string
}

// UpdateRequest is an update (PUT [base]/[type]/[id]).
type UpdateRequest struct {
	Type     string
	ID       string
	Resource json.RawMessage
	IfMatch  string // the If-Match header, empty when absent
	Client   string
}

// Entry is one entry of a transaction Bundle.
type Entry struct {
	FullURL  string          // entry.fullUrl, e.g. "urn:uuid:..."; may be empty
	Method   string          // entry.request.method: POST, PUT, GET, DELETE
	URL      string          // entry.request.url, e.g. "ServiceRequest" or "Patient/123"
	Resource json.RawMessage // validated JSON; nil for GET and DELETE
	// IfNoneExist and IfMatch come from entry.request.
	IfNoneExist url.Values
	IfMatch     string
	Client      string
}

// Result is a resource as the backend stored or found it.
type Result struct {
	Type        string
	ID          string
	VersionID   string
	LastUpdated time.Time
	Resource    json.RawMessage // as stored, with meta
	// Created is true when a create stored a new resource, false when a conditional
	// create found an existing one (or for reads and updates of existing resources).
	Created bool
	// Issues are findings to report with the resource (completeness and
	// prior-authorization findings of an order, for example), as OperationOutcome
	// issues in the response.
	Issues []Issue
}

// SearchResult is one page of a search.
type SearchResult struct {
	Total     int
	Resources []json.RawMessage
	// Issues are warnings about the search itself, such as a search that could only
	// examine part of the data; they are answered in the Bundle's OperationOutcome
	// entry (search.mode=outcome).
	Issues []Issue
}

// Query is a search: the FHIR search parameters (already checked against the
// parameters the CapabilityStatement declares for the type), and paging.
type Query struct {
	Params url.Values
	Count  int // page size (_count); 0 means the default
	Offset int // how many matches to skip (from the paging links)
}

// Issue is one OperationOutcome issue.
type Issue struct {
	Severity    string // fatal, error, warning, information
	Code        string // FHIR issue-type code: invalid, required, value, not-found, conflict, ...
	Expression  string // FHIRPath of the element, e.g. "ServiceRequest.subject"
	Diagnostics string // text a person can act on
	Details     string // optional coded detail (e.g. a radbridge finding code)
}

// Error is a failure with an HTTP status and the issues to return in an
// OperationOutcome. Backends return it for client errors (4xx); any other error is
// answered 500 with a generic OperationOutcome (its text is logged, not returned).
type Error struct {
	Status int
	Issues []Issue
}

func (e *Error) Error() string {
	if len(e.Issues) > 0 {
		return e.Issues[0].Diagnostics
	}
	return "fhir error"
}

// ErrNotFound is returned by Read and Update for a resource that does not exist.
var ErrNotFound = errors.New("resource not found")
