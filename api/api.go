// Package api serves radbridge's engine JSON API under /api (DESIGN.md, "Engine API"):
// the message browser (list, read with the raw bytes, reprocess), orders with their
// history, prior-authorization decisions, the outbox (list, retry) and the code check.
// It reads through the store and changes state only through the engine and the
// delivery worker, so the same rules hold whichever door a change comes through.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
	"github.com/radbridge/radbridge/store"
)

// API serves the engine's JSON API under /api (see DESIGN.md, "Engine API"). It is safe
// for concurrent use.
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

// Routes registers the API's routes on r.
func (a *API) Routes(r *mux.Router) {
	r.HandleFunc("/api/messages", a.listMessages).Methods(http.MethodGet)
	r.HandleFunc("/api/messages/{id}", a.getMessage).Methods(http.MethodGet)
	r.HandleFunc("/api/messages/{id}/reprocess", a.reprocess).Methods(http.MethodPost)
	r.HandleFunc("/api/orders", a.listOrders).Methods(http.MethodGet)
	r.HandleFunc("/api/orders/{id}", a.getOrder).Methods(http.MethodGet)
	r.HandleFunc("/api/orders/{id}/authorization", a.decideAuthorization).Methods(http.MethodPost)
	r.HandleFunc("/api/preauth", a.getPreauth).Methods(http.MethodGet)
	r.HandleFunc("/api/outbox", a.listOutbox).Methods(http.MethodGet)
	r.HandleFunc("/api/outbox/{id}/retry", a.retryOutbox).Methods(http.MethodPost)
	a.authorizationRoutes(r)
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

func (a *API) getMessage(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	var out struct {
		messageItem
		Raw string `json:"raw"`
		Ack string `json:"ack,omitempty"`
	}
	err := a.store.View(r.Context(), func(tx store.ReadTx) error {
		m, err := tx.Message(id)
		if err != nil {
			return err
		}
		raw, err := tx.Raw(id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		out.messageItem, out.Raw, out.Ack = toItem(m), string(raw), string(m.Ack)
		return nil
	})
	if !readOK(w, err, "message "+id) {
		return
	}
	writeJSON(w, http.StatusOK, out)
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
	ID            string          `json:"id"`
	Placer        string          `json:"placer"`
	Filler        string          `json:"filler"`
	Status        order.Status    `json:"status"`
	Source        string          `json:"source"`
	Sender        string          `json:"sender,omitempty"`
	Patient       string          `json:"patient_id,omitempty"`
	Procedure     procedureItem   `json:"procedure"`
	Authorization authItem        `json:"authorization"`
	Findings      []order.Finding `json:"findings"`
	Updated       time.Time       `json:"updated,omitzero"`
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

func toOrderItem(o *order.Order, now time.Time) orderItem {
	it := orderItem{ID: o.ID, Placer: o.Placer, Filler: o.Filler, Status: o.Status, Source: string(o.Source.Kind),
		Procedure: procedureItem{CPT: o.Procedure.CPT, Text: o.Procedure.Text, Modality: o.Procedure.Modality},
		// required means this order needs an authorization: an exempt order does not,
		// though its procedure would elsewhere (status says exempt).
		Authorization: authItem{Required: o.Authorization.Required && !o.Authorization.Exempt,
			RecordsRequired: o.Authorization.RecordsRequired && !o.Authorization.Exempt,
			Status:          o.Authorization.Status, Number: o.Authorization.Number},
		Findings: o.Findings, Updated: o.Updated}
	if it.Findings == nil {
		it.Findings = []order.Finding{}
	}
	switch o.Source.Kind {
	case order.SourceV2:
		it.Sender = o.Source.SendingFacility
	case order.SourceFHIR:
		it.Sender = o.Source.FHIRSource
	}
	if len(o.Patient.Identifiers) > 0 {
		it.Patient = o.Patient.Identifiers[0].Value
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
			items = append(items, toOrderItem(o, now))
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
	writeJSON(w, http.StatusOK, toOrderItem(o, a.engine.Now()))
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
