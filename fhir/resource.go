package fhir

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/gorilla/mux"
)

// create serves POST [base]/[type] (https://hl7.org/fhir/R4/http.html#create),
// conditional with If-None-Exist: 201 when stored, 200 when an existing resource
// matched. An id in the body is ignored, as the specification requires.
func (h *Handler) create(rt *resourceType) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var cond url.Values
		if v := r.Header.Get("If-None-Exist"); v != "" {
			q, e := h.condition(rt, v)
			if e != nil {
				writeError(w, e)
				return
			}
			cond = q
		}
		body, e := readBody(r)
		if e == nil {
			_, e = h.gate.check(body, rt.Name)
		}
		if e != nil {
			writeError(w, e)
			return
		}
		res, err := h.be.Create(r.Context(), CreateRequest{Type: rt.Name, Resource: body, IfNoneExist: cond, Client: clientOf(r)})
		if err != nil {
			h.fail(w, r, "create", err)
			return
		}
		status, verb := http.StatusCreated, "created"
		if !res.Created {
			status, verb = http.StatusOK, "matched existing resource"
		}
		h.writeResult(w, r, rt, status, verb, res, true)
	}
}

// read serves GET [base]/[type]/[id], with If-None-Match answered 304.
func (h *Handler) read(rt *resourceType) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := mux.Vars(r)["id"]
		if !validID(id) {
			writeError(w, errorf(http.StatusBadRequest, "value", "", "%q is not a valid FHIR id", id))
			return
		}
		res, err := h.be.Read(r.Context(), rt.Name, id)
		if err != nil {
			h.fail(w, r, "read", err)
			return
		}
		if inm := r.Header.Get("If-None-Match"); inm != "" && res.VersionID != "" {
			if tag, ok := normalizeIfMatch(inm); ok && tag == etag(res.VersionID) {
				setVersionHeaders(w, res)
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		h.writeResult(w, r, rt, http.StatusOK, "read", res, false)
	}
}

// vread serves GET [base]/[type]/[id]/_history/[vid]
// (https://hl7.org/fhir/R4/http.html#vread): the version a write's Location names.
func (h *Handler) vread(rt *resourceType) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, vid := mux.Vars(r)["id"], mux.Vars(r)["vid"]
		if !validID(id) || !validID(vid) {
			writeError(w, errorf(http.StatusBadRequest, "value", "", "%q is not a valid FHIR id and version", id+"/_history/"+vid))
			return
		}
		res, err := h.be.VRead(r.Context(), rt.Name, id, vid)
		if err != nil {
			h.fail(w, r, "vread", err)
			return
		}
		h.writeResult(w, r, rt, http.StatusOK, "read", res, false)
	}
}

// update serves PUT [base]/[type]/[id] (https://hl7.org/fhir/R4/http.html#update):
// the body must carry the id of the URL (400 otherwise); If-Match makes it a
// version-aware update, a stale version is the backend's 412.
func (h *Handler) update(rt *resourceType) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := mux.Vars(r)["id"]
		if !validID(id) {
			writeError(w, errorf(http.StatusBadRequest, "value", "", "%q is not a valid FHIR id", id))
			return
		}
		ifMatch, ok := normalizeIfMatch(r.Header.Get("If-Match"))
		if !ok {
			writeError(w, errorf(http.StatusBadRequest, "value", "", `If-Match must be a version ETag such as W/"3"`))
			return
		}
		body, e := readBody(r)
		var f facts
		if e == nil {
			f, e = h.gate.check(body, rt.Name)
		}
		if e == nil && f.ID == "" {
			e = errorf(http.StatusBadRequest, "required", rt.Name+".id", "an update must carry the resource id (%s)", id)
		}
		if e == nil && f.ID != id {
			e = errorf(http.StatusBadRequest, "invalid", rt.Name+".id", "resource id %q does not match the id in the URL (%s)", f.ID, id)
		}
		if e != nil {
			writeError(w, e)
			return
		}
		res, err := h.be.Update(r.Context(), UpdateRequest{Type: rt.Name, ID: id, Resource: body, IfMatch: ifMatch, Client: clientOf(r)})
		if err != nil {
			h.fail(w, r, "update", err)
			return
		}
		status, verb := http.StatusOK, "updated"
		if res.Created {
			status, verb = http.StatusCreated, "created"
		}
		h.writeResult(w, r, rt, status, verb, res, true)
	}
}

// writeResult answers a single resource: Location (writes only), ETag and
// Last-Modified, and the body the Prefer header asks for:
//   - return=representation (default): the resource as stored;
//   - return=minimal: no body;
//   - return=OperationOutcome: an information issue naming the outcome, followed by
//     the backend's findings (Result.Issues).
//
// Findings are carried only by the OperationOutcome form (HTTP has no standard place
// for them beside a resource); the engine also records them on the order's Task.
func (h *Handler) writeResult(w http.ResponseWriter, r *http.Request, rt *resourceType, status int, verb string, res Result, write bool) {
	if res.Type == "" {
		res.Type = rt.Name
	}
	if write {
		w.Header().Set("Location", h.base(r)+"/"+location(res))
	}
	setVersionHeaders(w, res)
	p := parsePrefer(r)
	switch {
	case p.Return == returnMinimal && write:
		w.WriteHeader(status)
	case p.Return == returnOutcome && write, len(res.Resource) == 0:
		issues := make([]Issue, 0, 1+len(res.Issues))
		issues = append(issues, Issue{Severity: "information", Code: "informational",
			Diagnostics: fmt.Sprintf("%s %s", verb, location(res))})
		writeJSON(w, status, newOutcome(append(issues, res.Issues...)))
	default:
		writeRaw(w, status, res.Resource)
	}
}

// location is the relative versioned URL of a result: Type/id/_history/vid.
func location(res Result) string {
	s := res.Type + "/" + res.ID
	if res.VersionID != "" {
		s += "/_history/" + res.VersionID
	}
	return s
}

func etag(vid string) string { return `W/"` + vid + `"` }

func setVersionHeaders(w http.ResponseWriter, res Result) {
	if res.VersionID != "" {
		w.Header().Set("ETag", etag(res.VersionID))
	}
	if !res.LastUpdated.IsZero() {
		w.Header().Set("Last-Modified", res.LastUpdated.UTC().Format(http.TimeFormat))
	}
}

// condition parses an If-None-Exist value (https://hl7.org/fhir/R4/http.html#ccreate):
// search parameters, optionally after "[type]?" or "[base]/[type]?". Every parameter
// must be one the type declares: an ignored parameter would widen the match and
// silently suppress a create, so unknown ones are always 400.
func (h *Handler) condition(rt *resourceType, v string) (url.Values, *Error) {
	v = strings.TrimSpace(v)
	if before, after, ok := strings.Cut(v, "?"); ok {
		if t := before[strings.LastIndexByte(before, '/')+1:]; t != rt.Name {
			return nil, errorf(http.StatusBadRequest, "invalid", "", "If-None-Exist names type %q, not %s", t, rt.Name)
		}
		v = after
	}
	q, err := url.ParseQuery(v)
	if err != nil || len(q) == 0 {
		return nil, errorf(http.StatusBadRequest, "invalid", "", "If-None-Exist must hold search parameters, e.g. identifier=system|value")
	}
	if !rt.ConditionalCreate {
		return nil, errorf(http.StatusBadRequest, "not-supported", "", "conditional create is not supported for %s", rt.Name)
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sp := rt.param(name)
		if sp == nil {
			return nil, errorf(http.StatusBadRequest, "not-supported", "",
				"If-None-Exist parameter %q is not supported for %s; supported: %s", name, rt.Name, paramNames(rt))
		}
		for i, val := range q[name] {
			fixed, e := checkValue(sp, val)
			if e != nil {
				return nil, e
			}
			q[name][i] = fixed
		}
	}
	if !slices.ContainsFunc(rt.ConditionKeys, q.Has) {
		return nil, errorf(http.StatusPreconditionFailed, "too-costly", "",
			"If-None-Exist for %s must name %s: a conditional create is checked against an index, never by examining resources one by one",
			rt.Name, strings.Join(rt.ConditionKeys, " or "))
	}
	return q, nil
}
