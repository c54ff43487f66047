// Package api serves radbridge's engine JSON API under /api (DESIGN.md, "Engine API"):
// the message browser (list, read with the raw bytes exactly as received, reprocess),
// orders with their history, prior-authorization decisions, the outbox (list, retry),
// the stored records found unreadable (quarantine) and the code check. It reads through the store and changes state only through the
// engine and the delivery worker, so the same rules hold whichever door a change comes
// through.
package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/auth"
	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
	"github.com/radbridge/radbridge/store"
)

// API serves the engine's JSON API under /api (see DESIGN.md, "Engine API"). Without
// auth.ScopePHIRead in the request's principal, raw messages and patient identity are
// masked in its answers. It is safe for concurrent use.
type API struct {
	engine    *engine.Engine
	store     store.Store
	deliverer Deliverer
	preauth   Preauther
	auth      Authorizations
}

// Deliverer is the part of the results delivery worker the API drives.
type Deliverer interface {
	// Retry makes an outbox item pending again (POST /api/outbox/{id}/retry).
	Retry(ctx context.Context, id string) error
}

// Config holds what the API serves from. Engine and Store are required.
type Config struct {
	Engine *engine.Engine
	Store  store.Store
	// Deliverer retries outbox items; nil answers POST /api/outbox/{id}/retry with 503.
	Deliverer Deliverer
	// Preauth answers GET /api/preauth; nil answers it with 404.
	Preauth Preauther
	// Authorizations runs the prior-authorization cases (payer.Service): appeals,
	// decisions beyond approved and denied, the payer's answers and the report; nil
	// answers those routes with 503 and records decisions through the engine.
	Authorizations Authorizations
}

// Preauther answers the prior-authorization question for one code (rules.Checker).
type Preauther interface {
	Preauth(cpt string, class order.EncounterClass, payer string) rules.Verdict
}

// New returns the API handlers.
func New(cfg Config) (*API, error) {
	if cfg.Engine == nil || cfg.Store == nil {
		return nil, errors.New("api: Config.Engine and Config.Store are required")
	}
	return &API{engine: cfg.Engine, store: cfg.Store, deliverer: cfg.Deliverer, preauth: cfg.Preauth, auth: cfg.Authorizations}, nil
}

// Routes registers the API's routes on r, each with the scope it needs (package auth):
// reads need auth.ScopeAPIRead, changes auth.ScopeAPIOperate. Patient identity and raw
// messages are masked for a caller without auth.ScopePHIRead.
func (a *API) Routes(r *mux.Router) {
	route := func(method, path, scope string, h http.HandlerFunc) {
		r.Handle(path, auth.Require(scope, h)).Methods(method)
	}
	route(http.MethodGet, "/api/messages", auth.ScopeAPIRead, a.listMessages)
	route(http.MethodGet, "/api/messages/{id}", auth.ScopeAPIRead, a.getMessage)
	route(http.MethodGet, "/api/messages/{id}/raw", auth.ScopePHIRead, a.getRaw) // the bytes themselves: no masking is possible
	route(http.MethodPost, "/api/messages/{id}/reprocess", auth.ScopeAPIOperate, a.reprocess)
	route(http.MethodGet, "/api/orders", auth.ScopeAPIRead, a.listOrders)
	route(http.MethodGet, "/api/orders/{id}", auth.ScopeAPIRead, a.getOrder)
	route(http.MethodPost, "/api/orders/{id}/authorization", auth.ScopeAPIOperate, a.decideAuthorization)
	route(http.MethodGet, "/api/preauth", auth.ScopeAPIRead, a.getPreauth)
	route(http.MethodGet, "/api/outbox", auth.ScopeAPIRead, a.listOutbox)
	route(http.MethodPost, "/api/outbox/{id}/retry", auth.ScopeAPIOperate, a.retryOutbox)
	route(http.MethodGet, "/api/quarantine", auth.ScopeAPIRead, a.listQuarantine)
	route(http.MethodGet, "/api/orders/{id}/authorization", auth.ScopePHIRead, a.getAuthorization) // the payer's answers as sent
	route(http.MethodPost, "/api/orders/{id}/appeal", auth.ScopeAPIOperate, a.appeal)
	route(http.MethodGet, "/api/reports/authorizations", auth.ScopeAPIRead, a.authorizationReport)
}

// listQuarantine lists the stored records the engine found unreadable since it
// started (engine.Quarantined): {"total", "items"}.
func (a *API) listQuarantine(w http.ResponseWriter, _ *http.Request) {
	items := a.engine.Quarantine()
	writeJSON(w, http.StatusOK, map[string]any{"total": len(items), "items": items})
}

// outboxItem is an outbox item in GET /api/outbox: everything but the payload.
type outboxItem struct {
	ID          string    `json:"id"`
	Destination string    `json:"destination"`
	Kind        string    `json:"kind"`
	OrderID     string    `json:"order_id"`
	ResultID    string    `json:"result_id,omitempty"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Receipt     string    `json:"receipt,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated,omitzero"`
	Size        int       `json:"size"`
}

func (a *API) listOutbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	switch state {
	case "", store.OutboxPending, store.OutboxDelivered, store.OutboxDead:
	default:
		apiError(w, http.StatusBadRequest, "state must be pending, delivered or dead")
		return
	}
	limit, ok := limitParam(w, q.Get("limit"))
	if !ok {
		return
	}
	items := []outboxItem{}
	var total int
	err := a.store.View(r.Context(), func(tx store.ReadTx) error {
		list, n, err := tx.Outbox(store.OutboxQuery{State: state, Destination: q.Get("destination"), Limit: limit})
		total = n
		for _, it := range list {
			items = append(items, outboxItem{ID: it.ID, Destination: it.Destination, Kind: it.Kind, OrderID: it.OrderID, ResultID: it.ResultID,
				State: it.State, Attempts: it.Attempts, NextAttempt: it.NextAttempt, LastError: it.LastError, Receipt: it.Receipt,
				Created: it.Created, Updated: it.Updated, Size: len(it.Payload)})
		}
		return err
	})
	if err != nil {
		apiError(w, http.StatusInternalServerError, "reading the outbox failed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "items": items})
}

func (a *API) retryOutbox(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if a.deliverer == nil {
		apiError(w, http.StatusServiceUnavailable, "no delivery worker is running")
		return
	}
	if err := a.deliverer.Retry(r.Context(), id); !readOK(w, err, "outbox item "+id) {
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"id": id, "state": store.OutboxPending})
}

// messageItem is a message in GET /api/messages.
type messageItem struct {
	ID         string    `json:"id"`
	Sender     string    `json:"sender"`
	ControlID  string    `json:"control_id"`
	Type       string    `json:"type"`
	ReceivedAt time.Time `json:"received_at"`
	AckCode    string    `json:"ack_code"`
	OrderID    string    `json:"order_id,omitempty"`
	OrderIDs   []string  `json:"order_ids,omitempty"`
	Kind       string    `json:"kind"`
	Size       int       `json:"size"`
}

func toItem(m *store.Message) messageItem {
	it := messageItem{ID: m.ID, Sender: m.Sender, ControlID: m.ControlID, Type: m.Type, ReceivedAt: m.ReceivedAt,
		AckCode: m.AckCode, OrderIDs: m.OrderIDs, Kind: m.Kind, Size: m.Size}
	if len(m.OrderIDs) > 0 {
		it.OrderID = m.OrderIDs[0]
	}
	return it
}

func (a *API) listMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := limitParam(w, q.Get("limit"))
	if !ok {
		return
	}
	query := store.MessageQuery{ControlID: q.Get("control_id"), Sender: q.Get("sender"), Type: q.Get("type"), Limit: limit}
	var items []messageItem
	var total int
	err := a.store.View(r.Context(), func(tx store.ReadTx) error {
		msgs, n, err := tx.Messages(query)
		total = n
		for _, m := range msgs {
			items = append(items, toItem(m))
		}
		return err
	})
	if err != nil {
		apiError(w, http.StatusInternalServerError, "reading messages failed")
		return
	}
	if items == nil {
		items = []messageItem{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "items": items})
}

// messageDetail is a message in GET /api/messages/{id}: the item, the bytes received
// and the acknowledgment sent. Each is given exactly: as a JSON string when it is valid
// UTF-8 (raw, ack), else in base64 (raw_base64, ack_base64), since a JSON string
// cannot hold other bytes (a Latin-1 message would read back with U+FFFD in place of
// its accented letters). GET /api/messages/{id}/raw serves the raw bytes as they are.
type messageDetail struct {
	messageItem
	Raw       *string `json:"raw,omitempty"`
	RawBase64 string  `json:"raw_base64,omitempty"`
	Ack       string  `json:"ack,omitempty"`
	AckBase64 string  `json:"ack_base64,omitempty"`
}

func (a *API) getMessage(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	var out messageDetail
	err := a.store.View(r.Context(), func(tx store.ReadTx) error {
		m, err := tx.Message(id)
		if err != nil {
			return err
		}
		raw, err := tx.Raw(id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		out.messageItem = toItem(m)
		if utf8.Valid(raw) {
			s := string(raw)
			out.Raw = &s
		} else {
			out.RawBase64 = base64.StdEncoding.EncodeToString(raw)
		}
		if utf8.Valid(m.Ack) {
			out.Ack = string(m.Ack)
		} else {
			out.AckBase64 = base64.StdEncoding.EncodeToString(m.Ack)
		}
		return nil
	})
	if !seesPHI(r) {
		m := masked
		out.Raw, out.RawBase64 = &m, ""
	}
	if !readOK(w, err, "message "+id) {
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// getRaw serves a message's bytes exactly as received: an HL7 v2 message as
// x-application/hl7-v2+er7 (in its own character set, MSH-18, so with no charset
// parameter), a FHIR request body as application/fhir+json.
func (a *API) getRaw(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	var kind string
	var raw []byte
	err := a.store.View(r.Context(), func(tx store.ReadTx) error {
		m, err := tx.Message(id)
		if err != nil {
			return err
		}
		kind = m.Kind
		raw, err = tx.Raw(id)
		return err
	})
	if !readOK(w, err, "raw bytes of message "+id) {
		return
	}
	ct := "application/octet-stream"
	switch kind {
	case "hl7v2":
		ct = "x-application/hl7-v2+er7"
	case "fhir":
		ct = "application/fhir+json"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(raw)
}

func (a *API) reprocess(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	res, err := a.engine.Reprocess(r.Context(), id)
	if !readOK(w, err, "message "+id) {
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// orderItem is an order in GET /api/orders.
type orderItem struct {
	ID            string        `json:"id"`
	Placer        string        `json:"placer"`
	Filler        string        `json:"filler"`
	Status        order.Status  `json:"status"`
	Source        string        `json:"source"`
	Sender        string        `json:"sender,omitempty"`
	Patient       string        `json:"patient_id,omitempty"`
	Procedure     procedureItem `json:"procedure"`
	Authorization authItem      `json:"authorization"`
	// ReadyToSchedule is the checks' verdict on scheduling (DESIGN.md: each order
	// carries ready_to_schedule: {ready, reasons}).
	ReadyToSchedule readyItem       `json:"ready_to_schedule"`
	Findings        []order.Finding `json:"findings"`
	Updated         time.Time       `json:"updated,omitzero"`
}

// readyItem is an order's ready_to_schedule: reasons is [] when there are none.
type readyItem struct {
	Ready   bool     `json:"ready"`
	Reasons []string `json:"reasons"`
}

type procedureItem struct {
	CPT      string `json:"cpt"`
	Text     string `json:"text"`
	Modality string `json:"modality"`
}

type authItem struct {
	Required        bool             `json:"required"`
	RecordsRequired bool             `json:"records_required"`
	Status          order.AuthStatus `json:"status"`
	Number          string           `json:"number"`
	DueBy           *time.Time       `json:"due_by"`
	// PayerUnknown: no payer profile matched the order's coverage; the default rules
	// applied.
	PayerUnknown bool `json:"payer_unknown,omitempty"`
	// The case with the payer (see fillCase).
	ValidFrom      *time.Time `json:"valid_from"`
	ValidTo        *time.Time `json:"valid_to"`
	DecisionReason string     `json:"decision_reason"`
	Overdue        bool       `json:"overdue"`
	Payer          string     `json:"payer,omitempty"`
	Claim          string     `json:"claim,omitempty"`
	Attempt        int        `json:"attempt,omitempty"`
	OriginalClaim  string     `json:"original_claim,omitempty"`
	Expedited      bool       `json:"expedited,omitempty"`
	Submitted      time.Time  `json:"submitted,omitzero"`
	Decided        time.Time  `json:"decided,omitzero"`
	ReviewAction   string     `json:"review_action,omitempty"`
	Response       string     `json:"response,omitempty"`
	Appeal         string     `json:"appeal,omitempty"`
	AppealBy       time.Time  `json:"appeal_by,omitzero"`
	DenialReason   string     `json:"denial_reason,omitempty"`
}

// toOrderItem lists o as of now; its patient id is masked unless phi.
func toOrderItem(o *order.Order, phi bool, now time.Time) orderItem {
	it := orderItem{ID: o.ID, Placer: o.Placer, Filler: o.Filler, Status: o.Status, Source: string(o.Source.Kind),
		Procedure: procedureItem{CPT: o.Procedure.CPT, Text: o.Procedure.Text, Modality: o.Procedure.Modality},
		// required means this order needs an authorization: an exempt order does not,
		// though its procedure would elsewhere (status says exempt).
		Authorization: authItem{Required: o.Authorization.Required && !o.Authorization.Exempt,
			RecordsRequired: o.Authorization.RecordsRequired && !o.Authorization.Exempt,
			Status:          o.Authorization.Status, Number: o.Authorization.Number, PayerUnknown: o.Authorization.PayerUnknown},
		ReadyToSchedule: readyItem{Ready: o.ReadyToSchedule.Ready, Reasons: o.ReadyToSchedule.Reasons},
		Findings:        o.Findings, Updated: o.Updated}
	if it.Findings == nil {
		it.Findings = []order.Finding{}
	}
	if it.ReadyToSchedule.Reasons == nil {
		it.ReadyToSchedule.Reasons = []string{}
	}
	switch o.Source.Kind {
	case order.SourceV2:
		it.Sender = o.Source.SendingFacility
	case order.SourceFHIR:
		it.Sender = o.Source.FHIRSource
	}
	if len(o.Patient.Identifiers) > 0 {
		it.Patient = o.Patient.Identifiers[0].Value
		if !phi {
			it.Patient = masked
		}
	}
	if !o.Authorization.DueBy.IsZero() {
		d := o.Authorization.DueBy
		it.Authorization.DueBy = &d
	}
	fillCase(&it.Authorization, o, now)
	return it
}

func (a *API) listOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := limitParam(w, q.Get("limit"))
	if !ok {
		return
	}
	status := order.Status(q.Get("status"))
	if status != "" {
		if _, known := order.ParseStatus(string(status)); !known {
			apiError(w, http.StatusBadRequest, "unknown status "+strconv.Quote(string(status)))
			return
		}
	}
	onlyOverdue := q.Get("overdue") == "true"
	var byAuth order.AuthStatus
	if s := q.Get("authorization"); s != "" {
		var ok bool
		if byAuth, ok = authFilter(s); !ok {
			apiError(w, http.StatusBadRequest, "unknown authorization "+strconv.Quote(s)+": use overdue or a status (required, submitted, pended, approved, partially-approved, denied, appealed, overturned, upheld, cancelled, expired, not-required, exempt, undetermined)")
			return
		}
		if byAuth == "overdue" {
			onlyOverdue, byAuth = true, ""
		}
	}
	now := a.engine.Now()
	var items []orderItem
	var total int
	phi := seesPHI(r)
	err := a.store.View(r.Context(), func(tx store.ReadTx) error {
		var list []*order.Order
		var n int
		var err error
		switch {
		case onlyOverdue:
			list, n, err = engine.Overdue(tx, now, store.ClampLimit(limit))
		case byAuth != "":
			list, n, err = listByAuthorization(tx, byAuth, status, q.Get("placer"), store.ClampLimit(limit))
		default:
			list, n, err = tx.Orders(store.OrderQuery{Placer: q.Get("placer"), Status: status, Limit: limit})
		}
		total = n
		for _, o := range list {
			items = append(items, toOrderItem(o, phi, now))
		}
		return err
	})
	if err != nil {
		apiError(w, http.StatusInternalServerError, "reading orders failed")
		return
	}
	if items == nil {
		items = []orderItem{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "items": items})
}

func (a *API) getOrder(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	var o *order.Order
	err := a.store.View(r.Context(), func(tx store.ReadTx) error {
		var err error
		o, err = tx.Order(id)
		return err
	})
	if !readOK(w, err, "order "+id) {
		return
	}
	shown := *o // the stored order, its authorization status in the API's names
	shown.Authorization.Status = APIStatus(o.Authorization.Status)
	if !seesPHI(r) {
		shown = *maskOrder(&shown)
	}
	writeJSON(w, http.StatusOK, &shown)
}

// decideAuthorization records a payer's decision: {"decision":"approved"|"denied","number"}
// and, with the payer workflow (Config.Authorizations), also "partially-approved",
// "overturned" and "upheld", with "valid_from", "valid_to" and "reason".
func (a *API) decideAuthorization(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	var body decisionBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "body must be JSON {\"decision\":\"approved\"|\"denied\",\"number\":\"...\"}: "+err.Error())
		return
	}
	if a.auth != nil {
		a.decideCase(w, r, id, body)
		return
	}
	if body.Decision != "approved" && body.Decision != "denied" {
		apiError(w, http.StatusBadRequest, `decision must be "approved" or "denied"`)
		return
	}
	o, err := a.engine.DecideAuthorization(r.Context(), id, body.Decision == "approved", body.Number)
	var te *order.TransitionError
	switch {
	case errors.As(err, &te):
		apiError(w, http.StatusConflict, err.Error())
		return
	case !readOK(w, err, "order "+id):
		return
	}
	writeJSON(w, http.StatusOK, toOrderItem(o, seesPHI(r), a.engine.Now()))
}

// getPreauth answers GET /api/preauth?cpt=&class=&payer= like `radbridge preauth --json`.
func (a *API) getPreauth(w http.ResponseWriter, r *http.Request) {
	if a.preauth == nil {
		apiError(w, http.StatusNotFound, "prior-authorization rules are not configured")
		return
	}
	q := r.URL.Query()
	cpt := q.Get("cpt")
	if cpt == "" {
		apiError(w, http.StatusBadRequest, "cpt is required")
		return
	}
	class := order.ClassOutpatient
	if c := q.Get("class"); c != "" {
		var ok bool
		if class, ok = order.ParseEncounterClass(c); !ok {
			apiError(w, http.StatusBadRequest, "unknown class "+strconv.Quote(c)+": use emergency, inpatient, outpatient, urgent-care or ambulatory-surgery (or E, I, O)")
			return
		}
	}
	writeJSON(w, http.StatusOK, a.preauth.Preauth(cpt, class, q.Get("payer")))
}

func limitParam(w http.ResponseWriter, s string) (int, bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		apiError(w, http.StatusBadRequest, "limit must be a positive number")
		return 0, false
	}
	return store.ClampLimit(n), true
}

// readOK writes the error response for a failed read and reports whether err was nil.
func readOK(w http.ResponseWriter, err error, what string) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, store.ErrNotFound):
		apiError(w, http.StatusNotFound, what+" not found")
	default:
		apiError(w, http.StatusInternalServerError, "reading "+what+" failed")
	}
	return false
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
