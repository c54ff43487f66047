package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/payer"
	"github.com/radbridge/radbridge/store"
)

// Authorizations are the prior-authorization case operations of the payer workflow
// (payer.Service) the API drives.
type Authorizations interface {
	// Decide records a decision read from the payer (POST /api/orders/{id}/authorization).
	Decide(ctx context.Context, id string, d payer.Decision) (*order.Order, error)
	// Appeal starts an appeal of a denial (POST /api/orders/{id}/appeal).
	Appeal(ctx context.Context, id, reason string) (*order.Order, []byte, error)
	// Answers returns the payer's answers for an order (GET /api/orders/{id}/authorization).
	Answers(ctx context.Context, id string) (*order.Order, []payer.Answer, error)
	// Report counts the cases' outcomes (GET /api/reports/authorizations).
	Report(ctx context.Context) (payer.Report, error)
}

// authorizationRoutes registers the prior-authorization case routes. Their scopes
// (DESIGN.md, Security): GET /api/orders/{id}/authorization and GET
// /api/reports/authorizations radbridge/api.read (the answers hold patient data:
// phi.read to see them unmasked), POST /api/orders/{id}/appeal radbridge/api.operate.
// APIStatus is how the engine API shows an authorization status: the model's "pending"
// (required, not submitted yet) is "required", the wave-2 name of that state; the other
// statuses show as they are.
func APIStatus(s order.AuthStatus) order.AuthStatus {
	if s == order.AuthPending {
		return "required"
	}
	return s
}

// fillCase adds the authorization case to an order's authorization item.
func fillCase(it *authItem, o *order.Order, now time.Time) {
	au := o.Authorization
	it.Status = APIStatus(au.Status)
	it.ValidFrom, it.ValidTo = timeOrNull(au.ValidFrom), timeOrNull(au.ValidTo)
	it.DecisionReason = au.DecisionReason
	it.Payer, it.Claim, it.Attempt, it.OriginalClaim = au.Payer, au.Claim, au.Attempt, au.OriginalClaim
	it.Expedited, it.Submitted, it.Decided = au.Expedited, au.Submitted, au.Decided
	it.ReviewAction, it.Response = au.ReviewAction, au.Response
	it.Appeal, it.AppealBy, it.DenialReason = au.Appeal, au.AppealBy, au.DenialReason
	it.Overdue = payer.Overdue(o, now)
}

func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// authFilter reads GET /api/orders?authorization=: an authorization status in the API's
// names (required, submitted, pended, approved...), or overdue.
func authFilter(s string) (order.AuthStatus, bool) {
	switch order.AuthStatus(s) {
	case "required":
		return order.AuthPending, true
	case order.AuthNotRequired, order.AuthExempt, order.AuthUndetermined, order.AuthSubmitted, order.AuthPended,
		order.AuthApproved, order.AuthPartiallyApproved, order.AuthDenied, order.AuthAppealed, order.AuthOverturned,
		order.AuthUpheld, order.AuthCancelled, order.AuthExpired, "overdue":
		return order.AuthStatus(s), true
	}
	return "", false
}

// listByAuthorization lists the orders (the newest store.MaxLimit) whose authorization
// status is st, at most limit, and how many match among those read.
func listByAuthorization(tx store.ReadTx, st order.AuthStatus, status order.Status, placer string, limit int) ([]*order.Order, int, error) {
	all, _, err := tx.Orders(store.OrderQuery{Placer: placer, Status: status, Limit: store.MaxLimit})
	if err != nil {
		return nil, 0, err
	}
	var out []*order.Order
	for _, o := range all {
		if o.Authorization.Status == st {
			out = append(out, o)
		}
	}
	total := len(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, total, nil
}

// decisionBody is POST /api/orders/{id}/authorization.
type decisionBody struct {
	Decision  string `json:"decision"`
	Number    string `json:"number"`
	ValidFrom string `json:"valid_from"`
	ValidTo   string `json:"valid_to"`
	Reason    string `json:"reason"`
}

// decideCase records a decision through the payer workflow: approved, denied,
// partially-approved, overturned or upheld, with the optional validity and reason.
func (a *API) decideCase(w http.ResponseWriter, r *http.Request, id string, body decisionBody) {
	d := payer.Decision{Status: order.AuthStatus(body.Decision), Number: body.Number, Reason: body.Reason}
	var ok bool
	if d.ValidFrom, ok = apiTime(w, "valid_from", body.ValidFrom); !ok {
		return
	}
	if d.ValidTo, ok = apiTime(w, "valid_to", body.ValidTo); !ok {
		return
	}
	if !d.Status.Decided() {
		apiError(w, http.StatusBadRequest, `decision must be "approved", "partially-approved", "denied", "overturned" or "upheld"`)
		return
	}
	o, err := a.auth.Decide(r.Context(), id, d)
	if !caseOK(w, err, "order "+id) {
		return
	}
	it := toOrderItem(o, seesPHI(r), a.engine.Now())
	writeJSON(w, http.StatusOK, it)
}

// apiTime reads an RFC 3339 time or a date (midnight UTC); "" is the zero time.
func apiTime(w http.ResponseWriter, name, s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	apiError(w, http.StatusBadRequest, name+" must be an RFC 3339 time or a date (2026-03-01)")
	return time.Time{}, false
}

// caseOK writes the error response of a case operation and reports whether err was nil.
func caseOK(w http.ResponseWriter, err error, what string) bool {
	var te *order.TransitionError
	switch {
	case errors.As(err, &te), errors.Is(err, payer.ErrAppealWindowClosed):
		apiError(w, http.StatusConflict, err.Error())
		return false
	case errors.Is(err, payer.ErrNotDecision):
		apiError(w, http.StatusBadRequest, err.Error())
		return false
	}
	return readOK(w, err, what)
}

func (a *API) noCases(w http.ResponseWriter) bool {
	if a.auth == nil {
		apiError(w, http.StatusServiceUnavailable, "the prior-authorization workflow is not running")
		return true
	}
	return false
}

// appeal starts an appeal: POST /api/orders/{id}/appeal {"reason"} (the body may be
// empty). It answers 201 with the order and the appeal's R4 Task.
func (a *API) appeal(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if a.noCases(w) {
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		apiError(w, http.StatusBadRequest, `body must be empty or JSON {"reason":"..."}: `+err.Error())
		return
	}
	o, task, err := a.auth.Appeal(r.Context(), id, strings.TrimSpace(body.Reason))
	if !caseOK(w, err, "order "+id) {
		return
	}
	it := toOrderItem(o, seesPHI(r), a.engine.Now())
	writeJSON(w, http.StatusCreated, map[string]any{"order": it, "task": json.RawMessage(task)})
}

// getAuthorization answers GET /api/orders/{id}/authorization: the order's case and the
// payer's answers as the payer sent them.
func (a *API) getAuthorization(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if a.noCases(w) {
		return
	}
	o, answers, err := a.auth.Answers(r.Context(), id)
	if !readOK(w, err, "order "+id) {
		return
	}
	it := toOrderItem(o, seesPHI(r), a.engine.Now())
	if answers == nil {
		answers = []payer.Answer{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"order_id": o.ID, "status": o.Status, "authorization": it.Authorization, "answers": answers})
}

// authorizationReport answers GET /api/reports/authorizations.
func (a *API) authorizationReport(w http.ResponseWriter, r *http.Request) {
	if a.noCases(w) {
		return
	}
	rep, err := a.auth.Report(r.Context())
	if err != nil {
		apiError(w, http.StatusInternalServerError, "reading orders failed")
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
