package cdshooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/auth"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

// The services radbridge offers (CDS Hooks discovery).
const (
	OrderSelectID = "radbridge-order-select"
	OrderSignID   = "radbridge-order-sign"
)

// maxRequest bounds a hook request's body: draft orders and prefetched resources.
const maxRequest = 4 << 20

// Checker runs the completeness and prior-authorization checks on an order, as the
// engine does (engine.Engine.Check): it sets o.Findings and o.Authorization.
type Checker interface {
	Check(o *order.Order, now time.Time)
}

// Config configures a Service.
type Config struct {
	// Clients are the CDS clients allowed to call the services. Default: none, so
	// every call is refused (discovery stays open).
	Clients []Client
	// BaseURL is radbridge's public base URL, e.g. "https://radbridge.example.org":
	// a token's aud must be BaseURL + "/cds-services/" + the service id. Default: from
	// each request (its scheme and Host), which trusts the Host header; set it in
	// production.
	BaseURL string
	// ReplayCache bounds how many token IDs (jti) are remembered until their tokens
	// expire. Default: 100,000; negative is invalid.
	ReplayCache int
}

// Validate reports the first field that cannot work.
func (c Config) Validate() error {
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("cdshooks: base_url %q is not an http or https URL", c.BaseURL)
		}
	}
	if c.ReplayCache < 0 {
		return fmt.Errorf("cdshooks: replay cache size %d is negative", c.ReplayCache)
	}
	_, err := newKeyring(c.Clients)
	return err
}

// Deps are a Service's replaceable parts; the zero value means the real ones.
type Deps struct {
	// Now reads the clock (token times, the coverage assertion date). Nil means time.Now.
	Now func() time.Time
	// Log receives the service's logs; nil discards.
	Log *slog.Logger
}

// Service is radbridge's CDS Hooks service. It is safe for concurrent use.
type Service struct {
	check  Checker
	keys   keyring
	base   string
	replay *replayCache
	now    func() time.Time
	log    *slog.Logger
	source string // the cards' source.label
}

// New returns a Service that checks draft orders with check (the engine).
func New(cfg Config, check Checker, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if check == nil {
		return nil, errors.New("cdshooks: New needs a checker")
	}
	keys, _ := newKeyring(cfg.Clients)
	size := cfg.ReplayCache
	if size == 0 {
		size = defaultReplayCache
	}
	s := &Service{check: check, keys: keys, base: strings.TrimRight(cfg.BaseURL, "/"),
		replay: &replayCache{seen: map[string]time.Time{}, max: size}, now: deps.Now, log: deps.Log,
		source: "radbridge imaging rules (" + rules.TableFile + ", version " + rules.TableVersion() + ")"}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s, nil
}

// Routes registers GET /cds-services (discovery, public) and POST /cds-services/{id}
// (a hook call; its JWT is checked before the body is read). In the server's bearer
// token scheme both are public: discovery is open, and a hook call authenticates with
// its CDS client JWT here instead.
func (s *Service) Routes(r *mux.Router) {
	r.Handle("/cds-services", auth.Public(http.HandlerFunc(s.discovery))).Methods(http.MethodGet)
	// A call is authenticated by its CDS client's JWT (s.call checks it before reading
	// the body), not by a radbridge token.
	r.Handle("/cds-services/{id}", auth.Public(http.HandlerFunc(s.call))).Methods(http.MethodPost)
}

// service is one entry of the discovery document.
type service struct {
	Hook        string            `json:"hook"`
	ID          string            `json:"id"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Prefetch    map[string]string `json:"prefetch"`
	Extension   map[string]any    `json:"extension,omitempty"`
}

// prefetch are the templates the services ask the EHR to fill: the patient, the
// patient's active coverage, the encounter and the user (the ordering provider).
var prefetch = map[string]string{
	"patient":   "Patient/{{context.patientId}}",
	"coverage":  "Coverage?patient={{context.patientId}}&status=active",
	"encounter": "Encounter/{{context.encounterId}}",
	"user":      "{{context.userId}}",
}

func services() []service {
	ext := map[string]any{"davinci-crd.version": []string{"2.2"}}
	return []service{
		{Hook: "order-select", ID: OrderSelectID, Title: "radbridge imaging order checks",
			Description: "Completeness and prior-authorization checks of the imaging orders being selected, by radbridge's rule table",
			Prefetch:    prefetch, Extension: ext},
		{Hook: "order-sign", ID: OrderSignID, Title: "radbridge imaging order checks at signing",
			Description: "Completeness and prior-authorization checks of the imaging orders being signed, by radbridge's rule table; the prior-authorization verdict comes back as Da Vinci CRD coverage information",
			Prefetch:    prefetch, Extension: ext},
	}
}

func (s *Service) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"services": services()})
}

// call answers POST /cds-services/{id}.
func (s *Service) call(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	var svc *service
	for _, sv := range services() {
		if sv.ID == id {
			svc = &sv
			break
		}
	}
	if svc == nil {
		writeError(w, http.StatusNotFound, "no CDS service "+id)
		return
	}
	now := s.now()
	if _, err := s.verify(r, s.audience(r, id), now); err != nil {
		status := http.StatusUnauthorized
		if errors.Is(err, errReplayCacheFull) {
			status = http.StatusServiceUnavailable
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cds-services"`)
		}
		writeError(w, status, err.Error())
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "the request is larger than 4 MiB")
		return
	}
	var req hookRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "the request is not a CDS Hooks request: "+err.Error())
		return
	}
	if req.Hook != svc.Hook {
		writeError(w, http.StatusBadRequest, "service "+id+" answers the "+svc.Hook+" hook, not "+strconv.Quote(req.Hook))
		return
	}
	resp, err := s.answer(&req, now)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// audience is the aud a token must carry for service id: its URL.
func (s *Service) audience(r *http.Request, id string) string {
	base := s.base
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/cds-services/" + id
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
