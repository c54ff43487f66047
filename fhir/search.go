package fhir

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bundle JSON (https://hl7.org/fhir/R4/bundle.html).
type bundleJSON struct {
	ResourceType string      `json:"resourceType"`
	Type         string      `json:"type"`
	Timestamp    string      `json:"timestamp,omitempty"`
	Total        *int        `json:"total,omitempty"`
	Link         []linkJSON  `json:"link,omitempty"`
	Entry        []entryJSON `json:"entry,omitempty"`
}

type linkJSON struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type entryJSON struct {
	FullURL  string        `json:"fullUrl,omitempty"`
	Resource any           `json:"resource,omitempty"` // json.RawMessage or *outcomeJSON
	Search   *searchJSON   `json:"search,omitempty"`
	Response *responseJSON `json:"response,omitempty"`
}

type searchJSON struct {
	Mode string `json:"mode"`
}

type responseJSON struct {
	Status       string       `json:"status"`
	Location     string       `json:"location,omitempty"`
	Etag         string       `json:"etag,omitempty"`
	LastModified string       `json:"lastModified,omitempty"`
	Outcome      *outcomeJSON `json:"outcome,omitempty"`
}

// searchGet serves GET [base]/[type]?params (https://hl7.org/fhir/R4/search.html).
func (h *Handler) searchGet(rt *resourceType) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			writeError(w, errorf(http.StatusBadRequest, "invalid", "", "the query string cannot be parsed"))
			return
		}
		h.search(w, r, rt, q)
	}
}

// searchPost serves POST [base]/[type]/_search with form-encoded parameters (joined
// with those of the URL).
func (h *Handler) searchPost(rt *resourceType) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/x-www-form-urlencoded" {
			writeError(w, errorf(http.StatusUnsupportedMediaType, "not-supported", "", "_search takes application/x-www-form-urlencoded parameters"))
			return
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, errorf(http.StatusRequestEntityTooLarge, "too-long", "", "request body too large or unreadable"))
			return
		}
		form, err1 := url.ParseQuery(string(b))
		q, err2 := url.ParseQuery(r.URL.RawQuery)
		if err1 != nil || err2 != nil {
			writeError(w, errorf(http.StatusBadRequest, "invalid", "", "the search parameters cannot be parsed"))
			return
		}
		for k, v := range form {
			q[k] = append(q[k], v...)
		}
		h.search(w, r, rt, q)
	}
}

// searchQuery is a checked search.
type searchQuery struct {
	params  url.Values // declared parameters only, as passed to the Backend
	count   int        // page size; 0 asks for the total only
	offset  int
	format  string   // _format, kept in the links
	ignored []string // what lenient handling dropped, with the reason
}

// parseSearch checks q against the parameters rt declares. Unknown parameters,
// modifiers and chains are dropped and listed (lenient, the default), or answered
// 400 with Prefer: handling=strict. Malformed values of known parameters are always
// 400: guessing would return the wrong matches.
func (h *Handler) parseSearch(rt *resourceType, q url.Values, strict bool) (searchQuery, *Error) {
	sq := searchQuery{params: url.Values{}, count: h.cfg.DefaultCount}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		vals := q[name]
		switch name {
		case "_count", "_offset":
			n, err := strconv.Atoi(vals[len(vals)-1])
			if err != nil || n < 0 {
				return sq, errorf(http.StatusBadRequest, "value", "", "%s must be a non-negative integer", name)
			}
			if name == "_count" {
				sq.count = min(n, h.cfg.MaxCount)
			} else {
				sq.offset = n
			}
			continue
		case "_format":
			sq.format = vals[0]
			continue
		case "_pretty":
			continue // output formatting only; JSON is always compact
		}
		sp := rt.param(name)
		if sp == nil {
			reason := "unknown parameter"
			if base, _, ok := strings.Cut(name, ":"); ok && rt.param(base) != nil {
				reason = "modifier not supported"
			} else if strings.HasPrefix(name, "_") {
				reason = "result parameter not supported"
			}
			sq.ignored = append(sq.ignored, fmt.Sprintf("%s (%s)", name, reason))
			continue
		}
		for _, v := range vals {
			if v == "" {
				sq.ignored = append(sq.ignored, name+" (empty value)")
				continue
			}
			fixed, e := checkValue(sp, v)
			if e != nil {
				return sq, e
			}
			sq.params.Add(name, fixed)
		}
	}
	if strict && len(sq.ignored) > 0 {
		return sq, errorf(http.StatusBadRequest, "not-supported", "",
			"search parameters not supported for %s: %s; supported: %s",
			rt.Name, strings.Join(sq.ignored, ", "), paramNames(rt))
	}
	return sq, nil
}

// checkValue checks one value of a declared parameter and returns it normalized.
func checkValue(sp *searchParam, v string) (string, *Error) {
	if v == "" {
		return "", errorf(http.StatusBadRequest, "value", "", "search parameter %s has an empty value", sp.Name)
	}
	if sp.Type != "date" {
		return v, nil
	}
	// A '+' in a time-zone offset arrives as ' ' when the client did not escape it.
	v = strings.ReplaceAll(v, " ", "+")
	if !validDateParam(v) {
		return "", errorf(http.StatusBadRequest, "value", "",
			"%s=%s is not a FHIR date search value ([prefix]YYYY[-MM[-DD[Thh:mm[:ss][zone]]]])", sp.Name, v)
	}
	return v, nil
}

// validDateParam reports whether v is a date search value with an optional prefix.
func validDateParam(v string) bool {
	if len(v) > 2 {
		switch v[:2] {
		case "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap":
			v = v[2:]
		}
	}
	for _, layout := range []string{
		"2006", "2006-01", "2006-01-02", "2006-01-02T15:04", "2006-01-02T15:04:05",
		"2006-01-02T15:04Z07:00", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00",
	} {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}
	return false
}

func paramNames(rt *resourceType) string {
	names := make([]string, 0, len(rt.Params)+2)
	for _, p := range rt.Params {
		names = append(names, p.Name)
	}
	return strings.Join(append(names, "_count", "_offset"), ", ")
}

// search runs a checked search and answers the searchset Bundle (searchset).
func (h *Handler) search(w http.ResponseWriter, r *http.Request, rt *resourceType, q url.Values) {
	b, err := h.searchset(r, rt, q)
	if err != nil {
		h.fail(w, r, "search", err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// searchset runs a checked search and builds the searchset Bundle: total, paging
// links (self, first, previous, next, last; built on _offset) and one entry per match
// (fullUrl, search.mode=match). Ignored parameters (left out of the self link) and the
// Backend's warnings are reported in an OperationOutcome entry with
// search.mode=outcome, as https://hl7.org/fhir/R4/search.html#errors asks. Errors are
// *Error or the Backend's.
func (h *Handler) searchset(r *http.Request, rt *resourceType, q url.Values) (*bundleJSON, error) {
	sq, e := h.parseSearch(rt, q, parsePrefer(r).Strict)
	if e != nil {
		return nil, e
	}
	ask := sq.count
	if ask == 0 { // _count=0: the total only; a Query.Count of 0 would mean "default"
		ask = 1
	}
	sr, err := h.be.Search(r.Context(), rt.Name, Query{Params: sq.params, Count: ask, Offset: sq.offset})
	if err != nil {
		return nil, err
	}
	if len(sr.Resources) > sq.count {
		sr.Resources = sr.Resources[:sq.count]
	}
	base := h.base(r)
	total := sr.Total
	b := &bundleJSON{ResourceType: "Bundle", Type: "searchset", Total: &total,
		Timestamp: h.cfg.Now().UTC().Format(time.RFC3339), Entry: make([]entryJSON, 0, len(sr.Resources)+1)}
	b.Link = pageLinks(func(off int) string { return pageURL(base, rt.Name, sq, off) }, sq.count, sq.offset, total)
	for _, raw := range sr.Resources {
		var hdr struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		if err := json.Unmarshal(raw, &hdr); err != nil {
			return nil, fmt.Errorf("search result is not a resource: %w", err)
		}
		b.Entry = append(b.Entry, entryJSON{FullURL: base + "/" + hdr.ResourceType + "/" + hdr.ID,
			Resource: raw, Search: &searchJSON{Mode: "match"}})
	}
	issues := sr.Issues
	if len(sq.ignored) > 0 {
		issues = append(issues, Issue{Severity: "warning", Code: "not-supported",
			Diagnostics: "ignored search parameters: " + strings.Join(sq.ignored, ", ") +
				" (send Prefer: handling=strict to have them rejected)"})
	}
	if len(issues) > 0 {
		b.Entry = append(b.Entry, entryJSON{Search: &searchJSON{Mode: "outcome"}, Resource: newOutcome(issues)})
	}
	return b, nil
}

// pageLinks returns the navigation links of the page at offset.
func pageLinks(at func(offset int) string, count, offset, total int) []linkJSON {
	links := []linkJSON{{"self", at(offset)}}
	if count == 0 {
		return links
	}
	links = append(links, linkJSON{"first", at(0)})
	if offset > 0 {
		links = append(links, linkJSON{"previous", at(max(0, offset-count))})
	}
	if offset+count < total {
		links = append(links, linkJSON{"next", at(offset + count)})
	}
	if total > 0 {
		links = append(links, linkJSON{"last", at((total - 1) / count * count)})
	}
	return links
}

// pageURL is the search URL of the page at offset: the parameters used, _count,
// _offset and _format when the client gave one.
func pageURL(base, typ string, sq searchQuery, offset int) string {
	v := make(url.Values, len(sq.params)+3)
	for k, vs := range sq.params {
		v[k] = vs
	}
	v.Set("_count", strconv.Itoa(sq.count))
	v.Set("_offset", strconv.Itoa(offset))
	if sq.format != "" {
		v.Set("_format", sq.format)
	}
	return base + "/" + typ + "?" + v.Encode()
}
