package fhir

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/auth"
)

// Handler serves the FHIR R4 REST API under /fhir: content negotiation, body limits,
// the validation gate, OperationOutcome errors, Bundles and paging. Storage and the
// order pipeline are the Backend's. A Handler is safe for concurrent use.
type Handler struct {
	cfg   Config
	be    Backend
	log   *slog.Logger
	gate  *gate
	types []*resourceType          // in CapabilityStatement order
	byTyp map[string]*resourceType // by name
	serve http.Handler             // router wrapped in the middleware
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a Handler that stores through be. cfg is validated and its zero
// fields defaulted; a nil log discards log records.
func NewHandler(cfg Config, be Backend, log *slog.Logger) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if be == nil {
		return nil, errors.New("fhir: nil Backend")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g, err := newGate()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg.withDefaults(), be: be, log: log, gate: g, types: resourceTypes(), byTyp: map[string]*resourceType{}}
	for _, rt := range h.types {
		h.byTyp[rt.Name] = rt
	}
	h.serve = h.observed(h.recoverer(negotiated(h.limitBody(h.routes()))))
	return h, nil
}

// Routes registers the Handler on r for the path /fhir and everything below it, with
// the scopes each request needs (package auth): /fhir/metadata is public; an
// interaction on a type needs a system/ scope that permits it (see need); POST /fhir
// needs some system/ scope, and the scopes of each of its Bundle's entries, which the
// Bundle handlers check once they have read them.
func (h *Handler) Routes(r *mux.Router) {
	r.Handle("/fhir/metadata", auth.Public(h))
	r.Handle("/fhir", auth.RequireFunc(need, h))
	r.PathPrefix("/fhir/").Handler(auth.RequireFunc(need, h))
}

// ResourceTypes returns the resource types the Handler serves.
func (h *Handler) ResourceTypes() []string {
	names := make([]string, len(h.types))
	for i, rt := range h.types {
		names[i] = rt.Name
	}
	return names
}

// need is what a FHIR request needs, by the shape of its path and its method, as
// routes dispatches it: [type] GET is a search and POST a create; [type]/_search POST
// a search; [type]/[id] (and below, such as _history) GET a read, PUT or PATCH an
// update, DELETE a delete. The system level (POST /fhir, a Bundle) needs some system/
// scope; its entries are checked by the handler. Paths this server does not serve need
// the same, by type, so that whoever may not use a type cannot probe it.
func need(r *http.Request) auth.Need {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, "/fhir"), "/")
	if rest == "" {
		return auth.NeedAnyFHIR()
	}
	segs := strings.Split(rest, "/")
	typ := segs[0]
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if len(segs) == 1 {
			return auth.NeedFHIR(typ, auth.Search)
		}
		return auth.NeedFHIR(typ, auth.Read)
	case http.MethodPost:
		if len(segs) == 2 && segs[1] == "_search" {
			return auth.NeedFHIR(typ, auth.Search)
		}
		return auth.NeedFHIR(typ, auth.Create)
	case http.MethodPut, http.MethodPatch:
		return auth.NeedFHIR(typ, auth.Update)
	case http.MethodDelete:
		return auth.NeedFHIR(typ, auth.Delete)
	}
	return auth.NeedFHIR(typ, auth.Read)
}

// ServeHTTP serves one FHIR request; the path must start with /fhir.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.serve.ServeHTTP(w, r)
}

// routes registers every FHIR route. Methods are dispatched by methods (405 with an
// Allow header for others) rather than by the router, so each path answers every
// method with a FHIR response; the interactions of each type come from the same
// table as the CapabilityStatement, so metadata lists exactly what is routed.
func (h *Handler) routes() *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(h.notFound)
	system := methods{http.MethodPost: h.bundle}
	r.Handle("/fhir", system)
	r.Handle("/fhir/", system)
	r.Handle("/fhir/metadata", methods{http.MethodGet: h.metadata})

	typeLevel := map[string]methods{}
	searchPost := map[string]methods{}
	instance := map[string]methods{}
	version := map[string]methods{}
	for _, rt := range h.types {
		tl, in, vr := methods{}, methods{}, methods{}
		if rt.Create {
			tl[http.MethodPost] = h.create(rt)
		}
		if rt.Search {
			tl[http.MethodGet] = h.searchGet(rt)
			searchPost[rt.Name] = methods{http.MethodPost: h.searchPost(rt)}
		} else {
			searchPost[rt.Name] = methods{}
		}
		if rt.Read {
			in[http.MethodGet] = h.read(rt)
			vr[http.MethodGet] = h.vread(rt)
		}
		if rt.Update {
			in[http.MethodPut] = h.update(rt)
		}
		typeLevel[rt.Name], instance[rt.Name], version[rt.Name] = tl, in, vr
	}
	r.Handle("/fhir/{type}/_search", h.byType(searchPost))
	// Operations ($validate, ...) and _history are not supported: 404, not a 405
	// from the instance routes or a 400 for an invalid id.
	r.Handle("/fhir/{type}/{op:[$_][^/]*}", http.HandlerFunc(h.notFound))
	r.Handle("/fhir/{type}/{id}/_history/{vid}", h.byType(version))
	r.Handle("/fhir/{type}/{id}", h.byType(instance))
	r.Handle("/fhir/{type}", h.byType(typeLevel))
	return r
}

// byType dispatches on the {type} path variable: an unknown type is 404.
func (h *Handler) byType(m map[string]methods) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		typ := mux.Vars(r)["type"]
		ms, ok := m[typ]
		if !ok {
			writeError(w, errorf(http.StatusNotFound, "not-supported", "",
				"resource type %q is not supported by this server (see %s/metadata)", typ, h.base(r)))
			return
		}
		ms.ServeHTTP(w, r)
	})
}

// methods maps HTTP methods to handlers; HEAD is served by GET.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f, ok := m[r.Method]; ok {
		f(w, r)
		return
	}
	if f, ok := m[http.MethodGet]; ok && r.Method == http.MethodHead {
		f(w, r)
		return
	}
	allow := make([]string, 0, len(m)+1)
	for k := range m {
		allow = append(allow, k)
		if k == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	slices.Sort(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, errorf(http.StatusMethodNotAllowed, "not-supported", "",
		"method %s is not supported here; allowed: %s", r.Method, strings.Join(allow, ", ")))
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, errorf(http.StatusNotFound, "not-supported", "",
		"no FHIR interaction at this path (see %s/metadata)", h.base(r)))
}

// base is the FHIR base URL for links: Config.BaseURL, or derived from the request.
func (h *Handler) base(r *http.Request) string {
	if h.cfg.BaseURL != "" {
		return strings.TrimRight(h.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/fhir"
}

// negotiated answers 406 before any work when the client cannot take JSON.
func negotiated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := negotiate(r); e != nil {
			writeError(w, e)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies at Config.MaxBodyBytes (http.MaxBytesReader); a
// declared Content-Length above the cap is refused before reading.
func (h *Handler) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > h.cfg.MaxBodyBytes {
			writeError(w, errorf(http.StatusRequestEntityTooLarge, "too-long", "",
				"request body exceeds %d bytes", h.cfg.MaxBodyBytes))
			return
		}
		if r.Body != nil {
			// The server's own writer, which MaxBytesReader asks to close the connection
			// once the limit is reached: the status recorder in front would hide it.
			rw := w
			if sw, ok := w.(*statusWriter); ok {
				rw = sw.ResponseWriter
			}
			r.Body = http.MaxBytesReader(rw, r.Body, h.cfg.MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

// observed reports every answer to a write to the Backend (Backend.Observe) with the
// status it got, so that refusals count as well as successes. Reads and searches
// (POST [type]/_search included) are not writes.
func (h *Handler) observed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || strings.HasSuffix(r.URL.Path, "/_search") {
			next.ServeHTTP(w, r)
			return
		}
		start := h.cfg.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		h.be.Observe(h.typeOf(r.URL.Path), sw.status, start)
	})
}

// typeOf is the resource type a FHIR path names: "Bundle" for the base, the type
// when the server serves it, else "other", so that a client cannot make up labels.
func (h *Handler) typeOf(path string) string {
	rest := strings.Trim(strings.TrimPrefix(path, "/fhir"), "/")
	if rest == "" {
		return "Bundle"
	}
	typ, _, _ := strings.Cut(rest, "/")
	if _, ok := h.byTyp[typ]; ok {
		return typ
	}
	return "other"
}

// statusWriter notes the status a handler answers.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recoverer turns a panic into a logged 500 OperationOutcome.
func (h *Handler) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value
				panic(v)
			}
			h.log.ErrorContext(r.Context(), "fhir handler panicked", slog.Any("err", v))
			writeError(w, &Error{Status: http.StatusInternalServerError, Issues: []Issue{{
				Severity: "fatal", Code: "exception", Diagnostics: "internal error; the server log has details",
			}}})
		}()
		next.ServeHTTP(w, r)
	})
}
