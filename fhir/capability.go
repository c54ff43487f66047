package fhir

import (
	"net/http"
	"time"
)

// searchParam is a search parameter the server implements for a type.
type searchParam struct {
	Name string // e.g. "patient"
	Type string // FHIR search parameter type: token, reference, date
	Doc  string
}

// resourceType is one resource type the server serves and the interactions it
// supports. The routes and the CapabilityStatement are both built from this table.
type resourceType struct {
	Name                         string
	Create, Read, Update, Search bool
	// Transaction: an entry of a transaction Bundle may write it (POST, or PUT to
	// [type]/[id]); the Backend says what each means for the type (Doc).
	Transaction bool
	// ConditionalCreate: POST honours If-None-Exist (ifNoneExist in a transaction).
	ConditionalCreate bool
	// UpdateCreate: a PUT to an id that names no resource creates it with that id.
	UpdateCreate bool
	// ConditionKeys are the search parameters an index serves: an If-None-Exist must
	// name one of them, or it is answered 412 before the body is read, as the backend
	// would have to examine resources one by one to honour it.
	ConditionKeys []string
	// Params are the parameters a search (when Search is set) and an If-None-Exist
	// may use; the CapabilityStatement lists them as search parameters when Search is.
	Params []searchParam
	Doc    string
}

// param returns the declared search parameter name, or nil.
func (rt *resourceType) param(name string) *searchParam {
	for i := range rt.Params {
		if rt.Params[i].Name == name {
			return &rt.Params[i]
		}
	}
	return nil
}

// resourceTypes is the table of what this server implements.
func resourceTypes() []*resourceType {
	types := []*resourceType{
		{
			Name: "ServiceRequest", Create: true, Read: true, Update: true, Search: true, Transaction: true, ConditionalCreate: true,
			UpdateCreate:  true,
			ConditionKeys: []string{"identifier"},
			Doc: "Imaging orders. A create runs the order through the engine's checks; findings are returned with Prefer: return=OperationOutcome and recorded on the order's Task. " +
				"An update (PUT, alone or in a transaction; If-Match honoured) changes the order whose ServiceRequest it names, and only the client that created it may. " +
				"A PUT to an id that names no order creates the order when the id is a UUID: the ServiceRequest keeps that id (its Task, results and searches refer to it), " +
				"the order gets one from the engine; any other unknown id is refused (404 alone, 400 in a transaction), as the engine assigns the ids it does not get as UUIDs: " +
				"create such an order with POST. In a transaction Bundle, POST ServiceRequest creates an order (ifNoneExist by identifier honoured).",
			Params: []searchParam{
				{"identifier", "token", "ServiceRequest.identifier: [system]|[value] or value"},
				{"patient", "reference", "ServiceRequest.subject (a Patient)"},
				{"status", "token", "ServiceRequest.status"},
				{"requester", "reference", "ServiceRequest.requester"},
				{"authored", "date", "ServiceRequest.authoredOn, with prefixes eq ne gt lt ge le sa eb ap"},
			},
		},
		{
			Name: "DiagnosticReport", Create: true, Read: true, Search: true,
			Doc: "Results. A report whose basedOn names a ServiceRequest completes that order.",
			Params: []searchParam{
				{"based-on", "reference", "DiagnosticReport.basedOn (a ServiceRequest)"},
				{"patient", "reference", "DiagnosticReport.subject (a Patient)"},
			},
		},
		{
			Name: "Task", Read: true, Search: true, Transaction: true,
			Doc: "Fulfillment status of an order, kept by the engine: ServiceRequest/[id] has Task/[id]-task. " +
				"A Task that comes in a transaction Bundle with its order is kept as sent, as the resources an order refers to are " +
				"(POST gives it a new id; PUT keeps that of its URL, which must not end in -task); based-on searches list it too.",
			Params: []searchParam{
				{"based-on", "reference", "Task.basedOn, e.g. ServiceRequest/{id}"},
			},
		},
		{
			Name: "Subscription", Create: true, Read: true,
			Doc: "rest-hook subscriptions for DiagnosticReports.",
		},
	}
	for _, name := range keptTypes {
		types = append(types, &resourceType{
			Name: name, Read: true, Transaction: true, ConditionalCreate: true, ConditionKeys: []string{"identifier"},
			Params: []searchParam{{"identifier", "token", name + ".identifier: [system]|[value] or value"}},
			Doc:    keptDoc,
		})
	}
	return types
}

// keptTypes are the resources an order refers to that the server keeps as a client
// sends them in a transaction Bundle with the order, so that every reference and every
// Location of the transaction reads back.
var keptTypes = []string{"Patient", "Practitioner", "PractitionerRole", "Organization", "Encounter", "Coverage",
	"Condition", "Observation", "Provenance", "ClaimResponse", "Consent"}

const keptDoc = "Kept as sent when it comes in a transaction Bundle, with the orders that refer to it: " +
	"POST gives it a new id (ifNoneExist by identifier honoured: a match is used instead), PUT [type]/[id] keeps the id " +
	"of its URL and stores a new version when it exists (ifMatch honoured). Read and vread only otherwise."

// Capability JSON (https://hl7.org/fhir/R4/capabilitystatement.html).
type capabilityJSON struct {
	ResourceType   string             `json:"resourceType"`
	Status         string             `json:"status"`
	Date           string             `json:"date"`
	Publisher      string             `json:"publisher"`
	Kind           string             `json:"kind"`
	Software       softwareJSON       `json:"software"`
	Implementation implementationJSON `json:"implementation"`
	FHIRVersion    string             `json:"fhirVersion"`
	Format         []string           `json:"format"`
	Rest           []restJSON         `json:"rest"`
}

type softwareJSON struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type implementationJSON struct {
	Description string `json:"description"`
	URL         string `json:"url,omitempty"`
}

type restJSON struct {
	Mode          string             `json:"mode"`
	Documentation string             `json:"documentation,omitempty"`
	Resource      []restResourceJSON `json:"resource"`
	Interaction   []codeJSON         `json:"interaction,omitempty"`
}

type restResourceJSON struct {
	Type              string            `json:"type"`
	Documentation     string            `json:"documentation,omitempty"`
	Interaction       []codeJSON        `json:"interaction"`
	Versioning        string            `json:"versioning,omitempty"`
	ConditionalCreate bool              `json:"conditionalCreate,omitempty"`
	UpdateCreate      *bool             `json:"updateCreate,omitempty"`
	ConditionalUpdate bool              `json:"conditionalUpdate"`
	ConditionalDelete string            `json:"conditionalDelete"`
	SearchParam       []searchParamJSON `json:"searchParam,omitempty"`
}

type codeJSON struct {
	Code string `json:"code"`
}

type searchParamJSON struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	Documentation string `json:"documentation,omitempty"`
}

// restDoc documents the protocol choices a client needs to know.
const restDoc = "JSON only (application/fhir+json; _format=json). Errors are OperationOutcomes. " +
	"Create and update honour Prefer: return=minimal|representation|OperationOutcome (default representation). " +
	"Every Location names a version ([type]/[id]/_history/[vid]) that reads back (vread); " +
	"versions before the current one are kept for resources stored as a client sent them. " +
	"Search ignores unknown parameters and reports them in an OperationOutcome entry (search.mode=outcome) " +
	"unless Prefer: handling=strict, which answers 400; _count defaults to 20, at most 100; " +
	"pages are linked with _offset (self, first, previous, next, last). " +
	"POST [base] takes transaction Bundles (all or nothing: every entry is decided before anything is stored; " +
	"entries POST or PUT the types whose documentation says how, with ifNoneExist and ifMatch honoured, " +
	"and any other entry refuses the whole Bundle with 400) and batch Bundles (each entry on its own: " +
	"POST create, PUT update, GET read, vread or search)."

// capability renders the CapabilityStatement from the resource table.
func (h *Handler) capability(r *http.Request) *capabilityJSON {
	rest := restJSON{Mode: "server", Documentation: restDoc, Interaction: []codeJSON{{"transaction"}, {"batch"}}}
	for _, rt := range h.types {
		res := restResourceJSON{
			Type: rt.Name, Documentation: rt.Doc, Versioning: "versioned",
			ConditionalCreate: rt.ConditionalCreate, ConditionalDelete: "not-supported",
		}
		if rt.Read {
			res.Interaction = append(res.Interaction, codeJSON{"read"}, codeJSON{"vread"})
		}
		if rt.Update {
			res.Interaction = append(res.Interaction, codeJSON{"update"})
			res.Versioning = "versioned-update"
			res.UpdateCreate = &rt.UpdateCreate
		}
		if rt.Search {
			res.Interaction = append(res.Interaction, codeJSON{"search-type"})
		}
		if rt.Create {
			res.Interaction = append(res.Interaction, codeJSON{"create"})
		}
		for _, p := range rt.Params {
			if rt.Search { // otherwise they are If-None-Exist parameters only
				res.SearchParam = append(res.SearchParam, searchParamJSON{p.Name, p.Type, p.Doc})
			}
		}
		rest.Resource = append(rest.Resource, res)
	}
	return &capabilityJSON{
		ResourceType: "CapabilityStatement",
		Status:       "active",
		Date:         h.cfg.Now().UTC().Format(time.RFC3339),
		Publisher:    "radbridge",
		Kind:         "instance",
		Software:     softwareJSON{Name: "radbridge", Version: h.cfg.SoftwareVersion},
		Implementation: implementationJSON{
			Description: "radbridge FHIR R4 API for imaging orders", URL: h.base(r),
		},
		FHIRVersion: "4.0.1",
		Format:      []string{"json", mediaFHIRJSON},
		Rest:        []restJSON{rest},
	}
}

// metadata serves GET [base]/metadata.
func (h *Handler) metadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.capability(r))
}
