package fhir

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/radbridge/radbridge/auth"
)

// rawBundle is what the handlers read of an inbound Bundle after the gate passed it.
type rawBundle struct {
	Entry []rawEntry `json:"entry"`
}

type rawEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Request  *struct {
		Method          string `json:"method"`
		URL             string `json:"url"`
		IfNoneExist     string `json:"ifNoneExist"`
		IfMatch         string `json:"ifMatch"`
		IfNoneMatch     string `json:"ifNoneMatch"`
		IfModifiedSince string `json:"ifModifiedSince"`
	} `json:"request"`
}

// entryBindings checks the required bindings of every entry's resource, so a bad
// code in a Bundle gets the same diagnostic as in a single create, at
// Bundle.entry[i].resource.status. Entries of the wrong shape are left to the
// google/fhir gate, which reports them.
func entryBindings(data []byte) []Issue {
	var b rawBundle
	if json.Unmarshal(data, &b) != nil {
		return nil
	}
	var out []Issue
	for i, e := range b.Entry {
		if len(e.Resource) == 0 {
			continue
		}
		f, _, err := scan(e.Resource)
		if err == nil {
			out = append(out, checkBindings(f, fmt.Sprintf("Bundle.entry[%d].resource", i))...)
		}
	}
	return out
}

// bundle serves POST [base]: a transaction Bundle
// (https://hl7.org/fhir/R4/http.html#transaction), validated whole, applied by the
// Backend all or nothing, answered with a transaction-response Bundle (403 before
// anything is applied when the caller's scopes do not permit every entry); or a batch
// Bundle (see batch).
func (h *Handler) bundle(w http.ResponseWriter, r *http.Request) {
	body, e := readBody(r)
	if e == nil {
		if f, scanned, err := scan(body); err == nil && f.ResourceType == "Bundle" && f.Type == "batch" {
			h.batch(w, r, body, scanned)
			return
		}
	}
	var f facts
	if e == nil {
		f, e = h.gate.check(body, "Bundle")
	}
	if e == nil && f.Type != "transaction" {
		e = errorf(http.StatusBadRequest, "invalid", "Bundle.type", "POST [base] takes a transaction or batch Bundle, not type %q", f.Type)
	}
	var rb rawBundle
	if e == nil && json.Unmarshal(body, &rb) != nil {
		e = errorf(http.StatusBadRequest, "structure", "Bundle", "the Bundle cannot be read")
	}
	var entries []Entry
	if e == nil {
		entries, e = h.transactionEntries(r, rb)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	results, err := h.be.Transaction(r.Context(), entries)
	if err == nil && len(results) != len(entries) {
		err = fmt.Errorf("transaction: backend returned %d results for %d entries", len(results), len(entries))
	}
	if err != nil {
		h.fail(w, r, "transaction", err)
		return
	}
	writeJSON(w, http.StatusOK, h.transactionResponse(r, entries, results))
}

// transactionEntries checks each entry's request and turns it into an Entry. Whatever
// the table says a transaction cannot do is refused here, before the Backend sees any
// entry: a type no transaction writes (its Location would not read back), a method
// other than POST and PUT, a conditional update, conditions that do not apply to the
// method (ifNoneExist on a PUT, ifMatch on a POST, ifNoneMatch and ifModifiedSince,
// which are for reads), and two entries that write the same resource.
func (h *Handler) transactionEntries(r *http.Request, rb rawBundle) ([]Entry, *Error) {
	base := h.base(r)
	client := clientOf(r)
	seen := make(map[string]int, len(rb.Entry))
	writes := make(map[string]int, len(rb.Entry))
	entries := make([]Entry, 0, len(rb.Entry))
	for i, re := range rb.Entry {
		p := fmt.Sprintf("Bundle.entry[%d]", i)
		if re.Request == nil {
			return nil, errorf(http.StatusBadRequest, "required", p+".request", "every transaction entry needs a request")
		}
		if re.FullURL != "" {
			if j, dup := seen[re.FullURL]; dup {
				return nil, errorf(http.StatusBadRequest, "invalid", p+".fullUrl", "fullUrl repeats that of entry %d", j)
			}
			seen[re.FullURL] = i
		}
		en := Entry{FullURL: re.FullURL, Method: re.Request.Method, Client: client}
		var segs []string
		var query string
		var e *Error
		if en.URL, segs, query, e = entryURL(base, p, re.Request.URL); e != nil {
			return nil, e
		}
		if e := h.permitEntry(r, p, en.Method, segs); e != nil { // the caller's scopes first
			return nil, e
		}
		if en.Method != http.MethodPost && en.Method != http.MethodPut {
			return nil, errorf(http.StatusBadRequest, "not-supported", p+".request.method",
				"method %s is not supported in a transaction: a transaction here writes (POST, PUT); send reads in a batch", en.Method)
		}
		if en.Method == http.MethodPut && query != "" {
			return nil, errorf(http.StatusBadRequest, "not-supported", p+".request.url",
				"conditional update (PUT [type]?[search]) is not supported: PUT [type]/[id]")
		}
		if e := checkEntryWrite(p, re.Resource, en.Method, segs, query); e != nil {
			return nil, e
		}
		rt, ok := h.byTyp[segs[0]]
		if !ok || !rt.Transaction {
			return nil, errorf(http.StatusBadRequest, "not-supported", p+".request.url",
				"%s cannot be written in a transaction here: a transaction writes %s (see %s/metadata)", segs[0], h.transactionTypes(), base)
		}
		en.Resource = re.Resource
		if en.Method == http.MethodPut {
			if j, dup := writes[en.URL]; dup {
				return nil, errorf(http.StatusBadRequest, "invalid", p+".request.url", "entry %d writes %s too: a transaction writes a resource once", j, en.URL)
			}
			writes[en.URL] = i
		}
		if e := h.entryConditions(p, rt, en.Method, re, &en); e != nil {
			return nil, e
		}
		entries = append(entries, en)
	}
	return entries, nil
}

// permitEntry refuses a Bundle entry (at FHIRPath p) whose interaction the caller's
// scopes do not permit: POST a create, PUT an update, GET of [type] a search and of
// [type]/[id] a read, DELETE a delete. A request with no principal (auth.FromContext)
// is permitted nothing. Each refusal is logged, with the caller's name.
func (h *Handler) permitEntry(r *http.Request, p, method string, segs []string) *Error {
	var in auth.Interaction
	switch {
	case method == http.MethodPost:
		in = auth.Create
	case method == http.MethodPut || method == http.MethodPatch:
		in = auth.Update
	case method == http.MethodDelete:
		in = auth.Delete
	case len(segs) == 1:
		in = auth.Search
	default:
		in = auth.Read
	}
	who := auth.FromContext(r.Context())
	if who.Permits(segs[0], in) {
		return nil
	}
	need := auth.NeedFHIR(segs[0], in).String()
	name := ""
	if who != nil {
		name = who.Name
	}
	h.log.WarnContext(r.Context(), "fhir bundle entry refused", slog.Int("status", http.StatusForbidden), slog.String("route", r.URL.Path),
		slog.String("entry", p), slog.String("principal", name), slog.String("reason", "needs "+need))
	return errorf(http.StatusForbidden, "forbidden", p+".request",
		"the token's scopes do not permit %s %s (it needs %s)", method, segs[0], need)
}

// entryConditions checks an entry's request conditions and sets them on en: ifNoneExist
// (a conditional create) for a POST, ifMatch (a version-aware update) for a PUT; the
// others are refused, as the Backend would otherwise ignore them.
func (h *Handler) entryConditions(p string, rt *resourceType, method string, re rawEntry, en *Entry) *Error {
	req := re.Request
	switch {
	case req.IfNoneMatch != "":
		return errorf(http.StatusBadRequest, "not-supported", p+".request.ifNoneMatch", "ifNoneMatch is for reads, which a transaction here does not take")
	case req.IfModifiedSince != "":
		return errorf(http.StatusBadRequest, "not-supported", p+".request.ifModifiedSince", "ifModifiedSince is for reads, which a transaction here does not take")
	case req.IfNoneExist != "" && method != http.MethodPost:
		return errorf(http.StatusBadRequest, "not-supported", p+".request.ifNoneExist", "ifNoneExist makes a POST conditional; a %s cannot be", method)
	case req.IfMatch != "" && method != http.MethodPut:
		return errorf(http.StatusBadRequest, "not-supported", p+".request.ifMatch", "ifMatch makes a PUT version-aware; a %s cannot be", method)
	}
	if v := req.IfNoneExist; v != "" {
		q, e := h.condition(rt, v)
		if e != nil {
			return at(e, p+".request.ifNoneExist")
		}
		en.IfNoneExist = q
	}
	var ok bool
	if en.IfMatch, ok = normalizeIfMatch(req.IfMatch); !ok {
		return errorf(http.StatusBadRequest, "value", p+".request.ifMatch", `ifMatch must be a version ETag such as W/"3"`)
	}
	return nil
}

// transactionTypes lists the types a transaction may write.
func (h *Handler) transactionTypes() string {
	var names []string
	for _, rt := range h.types {
		if rt.Transaction {
			names = append(names, rt.Name)
		}
	}
	return strings.Join(names, ", ")
}

// entryURL normalizes entry.request.url: relative to base, without a leading '/'.
// It returns the URL, its path segments and its query.
func entryURL(base, p, raw string) (string, []string, string, *Error) {
	u := strings.TrimPrefix(strings.TrimPrefix(raw, base), "/")
	if strings.Contains(u, "://") {
		return "", nil, "", errorf(http.StatusBadRequest, "not-supported", p+".request.url", "request.url must be relative to this server's base")
	}
	path, query, hasQuery := strings.Cut(u, "?")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if u = strings.Join(segs, "/"); hasQuery {
		u += "?" + query
	}
	return u, segs, query, nil
}

// checkEntryWrite checks a POST or PUT entry: a resource whose type is the type of
// the URL, POST to [type], PUT to [type]/[id] with that id in the resource (or a
// conditional [type]?query).
func checkEntryWrite(p string, res json.RawMessage, method string, segs []string, query string) *Error {
	if len(res) == 0 {
		return errorf(http.StatusBadRequest, "required", p+".resource", "a %s entry needs a resource", method)
	}
	f, _, _ := scan(res) // already validated
	if segs[0] != f.ResourceType {
		return errorf(http.StatusBadRequest, "invalid", p+".request.url",
			"request.url names %q but the resource is a %s", segs[0], f.ResourceType)
	}
	switch {
	case method == http.MethodPost && len(segs) != 1:
		return errorf(http.StatusBadRequest, "invalid", p+".request.url", "a POST entry's url is [type]")
	case method == http.MethodPut && query == "" && (len(segs) != 2 || !validID(segs[1])):
		return errorf(http.StatusBadRequest, "invalid", p+".request.url", "a PUT entry's url is [type]/[id]")
	case method == http.MethodPut && query == "" && f.ID != segs[1]:
		return errorf(http.StatusBadRequest, "invalid", p+".resource.id",
			"resource id %q does not match request.url (%s)", f.ID, segs[1])
	}
	return nil
}

// transactionResponse builds the transaction-response Bundle, one resultEntry per
// entry.
func (h *Handler) transactionResponse(r *http.Request, entries []Entry, results []Result) bundleJSON {
	base := h.base(r)
	pref := parsePrefer(r)
	b := bundleJSON{ResourceType: "Bundle", Type: "transaction-response",
		Timestamp: h.cfg.Now().UTC().Format(time.RFC3339), Entry: make([]entryJSON, 0, len(results))}
	for i, res := range results {
		if res.Type == "" {
			res.Type, _, _ = strings.Cut(strings.SplitN(entries[i].URL, "?", 2)[0], "/")
		}
		b.Entry = append(b.Entry, resultEntry(base, pref, entries[i].Method, res))
	}
	return b
}

// resultEntry is the response entry of one write or read: response.status ("201
// Created", "200 OK", "204 No Content"), location, etag, lastModified, the findings
// as response.outcome, and the resource unless the client sent Prefer:
// return=minimal or return=OperationOutcome (reads always carry it).
func resultEntry(base string, pref prefer, method string, res Result) entryJSON {
	status := "200 OK"
	switch {
	case method == http.MethodDelete:
		status = "204 No Content"
	case res.Created:
		status = "201 Created"
	}
	resp := &responseJSON{Status: status}
	ent := entryJSON{Response: resp}
	if res.ID != "" && method != http.MethodDelete {
		ent.FullURL = base + "/" + res.Type + "/" + res.ID
		resp.Location = location(res)
		if res.VersionID != "" {
			resp.Etag = etag(res.VersionID)
		}
		if !res.LastUpdated.IsZero() {
			resp.LastModified = res.LastUpdated.UTC().Format(time.RFC3339Nano)
		}
	}
	if len(res.Issues) > 0 || pref.Return == returnOutcome && method != http.MethodGet {
		resp.Outcome = newOutcome(res.Issues)
	}
	if len(res.Resource) > 0 && (pref.Return == returnRepresentation || method == http.MethodGet) {
		ent.Resource = res.Resource
	}
	return ent
}
