package fhir

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// batch serves a batch Bundle (https://hl7.org/fhir/R4/http.html#transaction): each
// entry is validated and processed on its own, through the same checks as the
// matching single interaction (POST create, PUT update, GET read, vread or search), and
// a failed entry does not stop the others; an entry the caller's scopes do not permit
// is answered 403 and not processed. The answer is 200 with a batch-response
// Bundle whose entries carry their own status and OperationOutcome. Problems of the
// Bundle itself (outside the entries' resources) fail the whole request.
func (h *Handler) batch(w http.ResponseWriter, r *http.Request, body []byte, scanned []scanIssue) {
	var shell []Issue
	for _, si := range scanned {
		if !inEntryResource(si.Path) {
			shell = append(shell, Issue{Severity: "error", Code: si.Code, Expression: joinPath("Bundle", si.Path), Diagnostics: si.Msg})
		}
	}
	if len(shell) == 0 {
		shell = h.gate.shell(body)
	}
	if len(shell) > 0 {
		writeError(w, unprocessable(shell))
		return
	}
	var rb rawBundle
	if err := json.Unmarshal(body, &rb); err != nil {
		writeError(w, errorf(http.StatusBadRequest, "structure", "Bundle.entry", "the Bundle's entries cannot be read"))
		return
	}
	base, pref := h.base(r), parsePrefer(r)
	out := bundleJSON{ResourceType: "Bundle", Type: "batch-response",
		Timestamp: h.cfg.Now().UTC().Format(time.RFC3339), Entry: make([]entryJSON, 0, len(rb.Entry))}
	for i, re := range rb.Entry {
		ent, err := h.batchEntry(r, base, pref, fmt.Sprintf("Bundle.entry[%d]", i), re)
		if err != nil {
			e := h.outcomeOf(r, "batch", err)
			ent = entryJSON{Response: &responseJSON{
				Status: strconv.Itoa(e.Status) + " " + http.StatusText(e.Status), Outcome: newOutcome(e.Issues)}}
		}
		out.Entry = append(out.Entry, ent)
	}
	writeJSON(w, http.StatusOK, out)
}

// shell validates a Bundle without its entries' resources (checked one by one
// later) through google/fhir: Bundle-level elements and each entry's request.
func (g *gate) shell(body []byte) []Issue {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return []Issue{{Severity: "error", Code: "structure", Expression: "Bundle", Diagnostics: "the Bundle cannot be read"}}
	}
	if raw, ok := top["entry"]; ok {
		var entries []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &entries); err != nil {
			return []Issue{{Severity: "error", Code: "structure", Expression: "Bundle.entry", Diagnostics: "entry must be an array of objects"}}
		}
		for _, e := range entries {
			delete(e, "resource")
		}
		top["entry"], _ = json.Marshal(entries) // re-encoding decoded JSON cannot fail
	}
	b, _ := json.Marshal(top)
	return g.unmarshal(b, "Bundle", nil)
}

// inEntryResource reports whether a scan path ("entry[3].resource.status") lies in
// an entry's resource.
func inEntryResource(path string) bool {
	rest, ok := strings.CutPrefix(path, "entry[")
	if !ok {
		return false
	}
	i := strings.IndexByte(rest, ']')
	return i >= 0 && (rest[i+1:] == ".resource" || strings.HasPrefix(rest[i+1:], ".resource."))
}

// batchEntry processes one batch entry (p is its FHIRPath) and returns its response
// entry, or an error for its failure.
func (h *Handler) batchEntry(r *http.Request, base string, pref prefer, p string, re rawEntry) (entryJSON, error) {
	if re.Request == nil {
		return entryJSON{}, errorf(http.StatusBadRequest, "required", p+".request", "every batch entry needs a request")
	}
	u, segs, query, e := entryURL(base, p, re.Request.URL)
	if e != nil {
		return entryJSON{}, e
	}
	if e := h.permitEntry(r, p, re.Request.Method, segs); e != nil {
		return entryJSON{}, e
	}
	rt, ok := h.byTyp[segs[0]]
	if !ok {
		return entryJSON{}, errorf(http.StatusNotFound, "not-supported", p+".request.url", "resource type %q is not supported by this server", segs[0])
	}
	method := re.Request.Method
	notAllowed := errorf(http.StatusMethodNotAllowed, "not-supported", p+".request.method", "%s %s is not supported", method, u)
	ctx, client := r.Context(), clientOf(r)
	switch {
	case method == http.MethodPost && rt.Create && len(segs) == 1:
		if _, e := h.entryResource(p, rt, re, ""); e != nil {
			return entryJSON{}, e
		}
		var cond url.Values
		if v := re.Request.IfNoneExist; v != "" {
			if cond, e = h.condition(rt, v); e != nil {
				return entryJSON{}, at(e, p+".request.ifNoneExist")
			}
		}
		res, err := h.be.Create(ctx, CreateRequest{Type: rt.Name, Resource: re.Resource, IfNoneExist: cond, Client: client})
		return resultEntry(base, pref, method, withType(res, rt)), err
	case method == http.MethodPut && rt.Update && len(segs) == 2 && query == "":
		if _, e := h.entryResource(p, rt, re, segs[1]); e != nil {
			return entryJSON{}, e
		}
		ifMatch, ok := normalizeIfMatch(re.Request.IfMatch)
		if !ok {
			return entryJSON{}, errorf(http.StatusBadRequest, "value", p+".request.ifMatch", `ifMatch must be a version ETag such as W/"3"`)
		}
		res, err := h.be.Update(ctx, UpdateRequest{Type: rt.Name, ID: segs[1], Resource: re.Resource, IfMatch: ifMatch, Client: client})
		return resultEntry(base, pref, method, withType(res, rt)), err
	case method == http.MethodGet && rt.Read && len(segs) == 2:
		if !validID(segs[1]) {
			return entryJSON{}, errorf(http.StatusBadRequest, "value", p+".request.url", "%q is not a valid FHIR id", segs[1])
		}
		res, err := h.be.Read(ctx, rt.Name, segs[1])
		return resultEntry(base, pref, method, withType(res, rt)), err
	case method == http.MethodGet && rt.Read && len(segs) == 4 && segs[2] == "_history":
		if !validID(segs[1]) || !validID(segs[3]) {
			return entryJSON{}, errorf(http.StatusBadRequest, "value", p+".request.url", "%q is not a valid FHIR id and version", segs[1]+"/_history/"+segs[3])
		}
		res, err := h.be.VRead(ctx, rt.Name, segs[1], segs[3])
		return resultEntry(base, pref, method, withType(res, rt)), err
	case method == http.MethodGet && rt.Search && len(segs) == 1:
		q, err := url.ParseQuery(query)
		if err != nil {
			return entryJSON{}, errorf(http.StatusBadRequest, "invalid", p+".request.url", "the search parameters cannot be parsed")
		}
		b, err := h.searchset(r, rt, q)
		if err != nil {
			return entryJSON{}, err
		}
		return entryJSON{Resource: b, Response: &responseJSON{Status: "200 OK"}}, nil
	}
	return entryJSON{}, notAllowed
}

// entryResource validates a batch entry's resource through the gate, with the
// findings' expressions rooted at the entry; for a PUT the id must be id.
func (h *Handler) entryResource(p string, rt *resourceType, re rawEntry, id string) (facts, *Error) {
	if len(re.Resource) == 0 {
		return facts{}, errorf(http.StatusBadRequest, "required", p+".resource", "this entry needs a resource")
	}
	f, e := h.gate.check(re.Resource, rt.Name)
	if e != nil {
		return f, reroot(e, rt.Name, p+".resource")
	}
	if id != "" && f.ID != id {
		return f, errorf(http.StatusBadRequest, "invalid", p+".resource.id", "resource id %q does not match request.url (%s)", f.ID, id)
	}
	return f, nil
}

// reroot moves the expressions of e from a resource root ("ServiceRequest.status",
// "resourceType", none) under prefix ("Bundle.entry[2].resource.status").
func reroot(e *Error, root, prefix string) *Error {
	for i := range e.Issues {
		x := e.Issues[i].Expression
		switch {
		case x == "" || x == root:
			x = prefix
		case x == "resourceType":
			x = prefix + ".resourceType"
		case strings.HasPrefix(x, root+".") || strings.HasPrefix(x, root+"["):
			x = prefix + x[len(root):]
		}
		e.Issues[i].Expression = x
	}
	return e
}

// at sets the expression of e's issues to x.
func at(e *Error, x string) *Error {
	for i := range e.Issues {
		e.Issues[i].Expression = x
	}
	return e
}

func withType(res Result, rt *resourceType) Result {
	if res.Type == "" {
		res.Type = rt.Name
	}
	return res
}
