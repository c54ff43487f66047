package fhir_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/radbridge/radbridge/fhir"
)

// memBackend is an in-memory fhir.Backend standing in for the engine: versioned
// resources in a map, conditional create under one mutex, search by the declared
// parameters, newest first.
type memBackend struct {
	calls atomic.Int64 // every Backend call but Observe

	observedMu sync.Mutex
	observed   []string // "type status" of every Observe

	mu       sync.Mutex
	seq      int
	byKey    map[string]*memResource // "Type/id"
	findings []fhir.Issue            // returned with every ServiceRequest write
	warnings []fhir.Issue            // returned with every search
}

type memResource struct {
	typ, id string
	seq     int // creation order
	vid     int
	updated time.Time
	body    map[string]any
}

var _ fhir.Backend = (*memBackend)(nil)

func newMemBackend() *memBackend { return &memBackend{byKey: map[string]*memResource{}} }

func (m *memBackend) Create(_ context.Context, req fhir.CreateRequest) (fhir.Result, error) {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if req.IfNoneExist != nil {
		found := m.match(req.Type, req.IfNoneExist)
		switch {
		case len(found) == 1:
			return m.result(found[0], false), nil
		case len(found) > 1:
			return fhir.Result{}, &fhir.Error{Status: http.StatusPreconditionFailed, Issues: []fhir.Issue{{
				Severity: "error", Code: "multiple-matches", Diagnostics: "If-None-Exist matches several resources"}}}
		}
	}
	r, err := m.put(req.Type, "", req.Resource)
	if err != nil {
		return fhir.Result{}, err
	}
	return m.result(r, true), nil
}

func (m *memBackend) Update(_ context.Context, req fhir.UpdateRequest) (fhir.Result, error) {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.precondition(req.Type, req.ID, req.IfMatch); err != nil {
		return fhir.Result{}, err
	}
	_, existed := m.byKey[req.Type+"/"+req.ID]
	r, err := m.put(req.Type, req.ID, req.Resource)
	if err != nil {
		return fhir.Result{}, err
	}
	return m.result(r, !existed), nil
}

func (m *memBackend) Read(_ context.Context, typ, id string) (fhir.Result, error) {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.byKey[typ+"/"+id]
	if !ok {
		return fhir.Result{}, fhir.ErrNotFound
	}
	res := m.result(r, false)
	res.Issues = nil
	return res, nil
}

func (m *memBackend) Observe(typ string, status int, _ time.Time) {
	m.observedMu.Lock()
	defer m.observedMu.Unlock()
	m.observed = append(m.observed, typ+" "+strconv.Itoa(status))
}

// takeObserved returns what Observe saw since the last call.
func (m *memBackend) takeObserved() []string {
	m.observedMu.Lock()
	defer m.observedMu.Unlock()
	out := m.observed
	m.observed = nil
	return out
}

// VRead serves the current version only: the fake keeps no history.
func (m *memBackend) VRead(ctx context.Context, typ, id, vid string) (fhir.Result, error) {
	res, err := m.Read(ctx, typ, id)
	if err == nil && res.VersionID != vid {
		return fhir.Result{}, fhir.ErrNotFound
	}
	return res, err
}

func (m *memBackend) Search(_ context.Context, typ string, q fhir.Query) (fhir.SearchResult, error) {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	found := m.match(typ, q.Params)
	out := fhir.SearchResult{Total: len(found), Issues: m.warnings}
	count := q.Count
	if count == 0 {
		count = 20
	}
	for i := q.Offset; i < len(found) && i < q.Offset+count; i++ {
		out.Resources = append(out.Resources, m.result(found[i], false).Resource)
	}
	return out, nil
}

// Transaction checks every precondition first, assigns ids, rewrites urn:uuid
// references to them, then stores: all or nothing.
func (m *memBackend) Transaction(_ context.Context, entries []fhir.Entry) ([]fhir.Result, error) {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, len(entries))
	existing := make([]*memResource, len(entries))
	refs := map[string]string{}
	next := m.seq
	for i, e := range entries {
		typ, id, _ := strings.Cut(strings.SplitN(e.URL, "?", 2)[0], "/")
		switch e.Method {
		case http.MethodPost:
			if e.IfNoneExist != nil {
				if found := m.match(typ, e.IfNoneExist); len(found) == 1 {
					existing[i], id = found[0], found[0].id
				} else if len(found) > 1 {
					return nil, &fhir.Error{Status: http.StatusPreconditionFailed}
				}
			}
			if id == "" {
				next++
				id = strconv.Itoa(next)
			}
		case http.MethodPut:
			if err := m.precondition(typ, id, e.IfMatch); err != nil {
				return nil, err
			}
		default:
			return nil, &fhir.Error{Status: http.StatusBadRequest, Issues: []fhir.Issue{{Code: "not-supported", Diagnostics: "memBackend: POST and PUT only"}}}
		}
		ids[i] = id
		if e.FullURL != "" {
			refs[e.FullURL] = typ + "/" + id
		}
	}
	results := make([]fhir.Result, len(entries))
	for i, e := range entries {
		if existing[i] != nil {
			results[i] = m.result(existing[i], false)
			continue
		}
		body := []byte(e.Resource)
		for from, to := range refs {
			body = bytes.ReplaceAll(body, []byte(strconv.Quote(from)), []byte(strconv.Quote(to)))
		}
		typ, _, _ := strings.Cut(e.URL, "/")
		_, existed := m.byKey[typ+"/"+ids[i]]
		r, err := m.put(typ, ids[i], body)
		if err != nil {
			return nil, err
		}
		results[i] = m.result(r, !existed)
	}
	return results, nil
}

func (m *memBackend) precondition(typ, id, ifMatch string) error {
	if ifMatch == "" {
		return nil
	}
	r, ok := m.byKey[typ+"/"+id]
	if !ok || fmt.Sprintf(`W/"%d"`, r.vid) != ifMatch {
		return &fhir.Error{Status: http.StatusPreconditionFailed, Issues: []fhir.Issue{{
			Severity: "error", Code: "conflict", Diagnostics: "version conflict"}}}
	}
	return nil
}

// put stores a version of typ/id (a new id when id is empty). m.mu is held.
func (m *memBackend) put(typ, id string, raw json.RawMessage) (*memResource, error) {
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf("memBackend: %w", err)
	}
	m.seq++
	if id == "" {
		id = strconv.Itoa(m.seq)
	}
	r, ok := m.byKey[typ+"/"+id]
	if !ok {
		r = &memResource{typ: typ, id: id, seq: m.seq}
		m.byKey[typ+"/"+id] = r
	}
	r.vid++
	r.updated = time.Date(2026, 3, 1, 12, 0, m.seq, 0, time.UTC)
	body["id"] = id
	meta, _ := body["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["versionId"] = strconv.Itoa(r.vid)
	meta["lastUpdated"] = r.updated.Format(time.RFC3339)
	body["meta"] = meta
	r.body = body
	return r, nil
}

func (m *memBackend) result(r *memResource, created bool) fhir.Result {
	b, _ := json.Marshal(r.body)
	res := fhir.Result{Type: r.typ, ID: r.id, VersionID: strconv.Itoa(r.vid), LastUpdated: r.updated, Resource: b, Created: created}
	if r.typ == "ServiceRequest" {
		res.Issues = m.findings
	}
	return res
}

// match returns the resources of typ matching every parameter (a comma in a value
// means "or"), newest first. m.mu is held.
func (m *memBackend) match(typ string, q url.Values) []*memResource {
	var out []*memResource
	for _, r := range m.byKey {
		if r.typ == typ && matchAll(r.body, q) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *memResource) int { return b.seq - a.seq })
	return out
}

func matchAll(body map[string]any, q url.Values) bool {
	for name, vals := range q {
		for _, v := range vals {
			if !slices.ContainsFunc(strings.Split(v, ","), func(alt string) bool { return matchParam(body, name, alt) }) {
				return false
			}
		}
	}
	return true
}

func matchParam(body map[string]any, name, v string) bool {
	str := func(m any, k string) string { s, _ := m.(map[string]any)[k].(string); return s }
	list := func(k string) []any { l, _ := body[k].([]any); return l }
	ref := func(m any) bool {
		r := str(m, "reference")
		return r == v || strings.HasSuffix(r, "/"+v)
	}
	switch name {
	case "identifier":
		sys, val, hasSys := strings.Cut(v, "|")
		if !hasSys {
			val = v
		}
		return slices.ContainsFunc(list("identifier"), func(id any) bool {
			return str(id, "value") == val && (!hasSys || str(id, "system") == sys)
		})
	case "status":
		return str(body, "status") == v
	case "patient":
		return ref(body["subject"])
	case "requester":
		return ref(body["requester"])
	case "based-on":
		return slices.ContainsFunc(list("basedOn"), ref)
	case "authored":
		return strings.HasPrefix(str(body, "authoredOn"), strings.TrimPrefix(v, "eq"))
	}
	return false
}
