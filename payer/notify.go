package payer

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// NotifyPath is where payers deliver their later answers (rest-hook notifications of
// a pended request's outcome).
const NotifyPath = "/payer/notify"

// notifyOutcome is the OperationOutcome answering a notification.
type notifyOutcome struct {
	ResourceType string        `json:"resourceType"`
	Issue        []notifyIssue `json:"issue"`
}

type notifyIssue struct {
	Severity    string `json:"severity"`
	Code        string `json:"code"`
	Diagnostics string `json:"diagnostics"`
}

// NotifyHandler serves POST NotifyPath: a payer's ClaimResponse, alone or in a Bundle
// (a PAS response Bundle, an R4 rest-hook notification with the resource), for a
// request radbridge made. Each ClaimResponse is matched to its request by
// request.identifier, its own identifiers, or request.reference (Claim/<id>), and
// applied to the request's order as the answer to radbridge's own request would be.
// The notification is stored as an inbound message (kind fhir, type ClaimResponse) for
// audit, and the orders' history names it. The answer is an OperationOutcome: 200 when
// every ClaimResponse found its request, 404 when none did, 400 for a body that is no
// FHIR JSON. The route is protected like the rest of the API: payers need a token.
func (s *Service) NotifyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeOutcome(w, http.StatusMethodNotAllowed, "error", "not-supported", "POST a ClaimResponse or a Bundle")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAnswer))
		if err != nil {
			writeOutcome(w, http.StatusRequestEntityTooLarge, "error", "too-costly", "the notification is larger than "+strconv.Itoa(maxAnswer)+" bytes")
			return
		}
		answers := readAnswers(body)
		if len(answers) == 1 && answers[0].outcome == outUnreadable {
			writeOutcome(w, http.StatusBadRequest, "error", "structure", orNone(answers[0].errors))
			return
		}
		applied, err := s.notified(r.Context(), body, answers)
		switch {
		case err != nil:
			s.log.Error("payer notification not stored", slog.String("err", err.Error()))
			writeOutcome(w, http.StatusInternalServerError, "error", "exception", "the notification could not be stored; send it again")
		case len(applied) == 0:
			writeOutcome(w, http.StatusNotFound, "error", "not-found", "no ClaimResponse names a request radbridge made")
		default:
			msg := "applied to order"
			if len(applied) > 1 {
				msg += "s"
			}
			for i, id := range applied {
				if i > 0 {
					msg += ","
				}
				msg += " " + id
			}
			writeOutcome(w, http.StatusOK, "information", "informational", msg)
		}
	})
}

// notified applies the answers of one notification (body, as received) in one
// transaction, stores it as a message and returns the orders it changed.
func (s *Service) notified(ctx context.Context, body []byte, answers []answer) ([]string, error) {
	at := s.now()
	var applied []string
	err := s.st.Update(ctx, func(tx store.Tx) error {
		applied = nil
		// The message is stored first, to name it in the orders' history, and stored
		// again with its outcome.
		m := &store.Message{Kind: "fhir", Sender: "payer", Type: "ClaimResponse", ReceivedAt: at, AckCode: "404", Size: len(body),
			ControlID: "notification " + at.UTC().Format(time.RFC3339Nano)}
		if err := tx.PutMessage(m, body); err != nil {
			return err
		}
		msgID := m.ID
		orders := map[string]*order.Order{}
		for _, a := range answers {
			claim, o, err := s.findRequest(tx, a, orders)
			if err != nil {
				return err
			}
			if o == nil {
				continue
			}
			if err := s.apply(tx, o, claim, a, "payer "+firstNonEmpty(o.Authorization.Payer, "(unknown)")+" (notification)", msgID, at); err != nil {
				return err
			}
			if _, seen := orders[o.ID]; !seen {
				applied = append(applied, o.ID)
			}
			orders[o.ID] = o
		}
		for _, id := range applied {
			if err := tx.PutOrder(orders[id]); err != nil {
				return err
			}
		}
		if len(applied) > 0 {
			m.AckCode = "200"
		}
		m.OrderIDs = applied
		return tx.PutMessage(m, nil)
	})
	return applied, err
}

// findRequest finds the request an answer names and its order (from orders when the
// notification already changed it); a nil order when it names none radbridge made.
func (s *Service) findRequest(tx store.ReadTx, a answer, orders map[string]*order.Order) (string, *order.Order, error) {
	var claim *store.Resource
	for _, v := range a.claims {
		ids, err := tx.FindResources("Claim", "identifier", v)
		if err != nil {
			return "", nil, err
		}
		if len(ids) > 0 {
			if claim, err = tx.Resource("Claim", ids[0]); err != nil {
				return "", nil, err
			}
			break
		}
	}
	if claim == nil && a.ref != "" {
		var err error
		if claim, err = tx.Resource("Claim", a.ref); errors.Is(err, store.ErrNotFound) {
			claim = nil
		} else if err != nil {
			return "", nil, err
		}
	}
	if claim == nil || claim.OrderID == "" {
		return "", nil, nil
	}
	if o := orders[claim.OrderID]; o != nil {
		return claim.ID, o, nil
	}
	o, err := tx.Order(claim.OrderID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, nil
	}
	return claim.ID, o, err
}

func writeOutcome(w http.ResponseWriter, status int, severity, code, text string) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(notifyOutcome{ResourceType: "OperationOutcome",
		Issue: []notifyIssue{{Severity: severity, Code: code, Diagnostics: text}}})
}
