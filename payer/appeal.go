package payer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
	"github.com/radbridge/radbridge/store"
)

// ErrAppealWindowClosed is returned by Appeal when the payer profile's appeal window
// since the denial has passed.
var ErrAppealWindowClosed = errors.New("payer: the appeal window has closed")

// ErrNotDecision is returned by Decide for a status that is not a decision.
var ErrNotDecision = errors.New("payer: not a decision")

// TaskCodeSystem is the system of the appeal Task's code ("appeal"): R4's task-code
// value set has no code for an appeal.
const TaskCodeSystem = "urn:radbridge:task"

// taskResource is an R4 Task for an appeal of a prior-authorization denial.
type taskResource struct {
	ResourceType   string       `json:"resourceType"`
	ID             string       `json:"id"`
	Status         string       `json:"status"`
	BusinessStatus *concept     `json:"businessStatus,omitempty"`
	Intent         string       `json:"intent"`
	Code           concept      `json:"code"`
	Description    string       `json:"description,omitempty"`
	Focus          *reference   `json:"focus,omitempty"`
	For            *reference   `json:"for,omitempty"`
	BasedOn        []reference  `json:"basedOn"`
	AuthoredOn     string       `json:"authoredOn"`
	LastModified   string       `json:"lastModified"`
	ReasonCode     *concept     `json:"reasonCode,omitempty"`
	Restriction    *restriction `json:"restriction,omitempty"`
	Input          []taskValue  `json:"input,omitempty"`
	Output         []taskValue  `json:"output,omitempty"`
}

type restriction struct {
	Period period `json:"period"`
}

type taskValue struct {
	Type        concept `json:"type"`
	ValueString string  `json:"valueString"`
}

// Appeal starts an appeal of the denied authorization of order id, for the reason given
// (free text, may be empty). It stores an R4 Task (code appeal in TaskCodeSystem, focus
// the payer's denial as stored, restriction.period.end the deadline: the denial's time
// plus the payer profile's appeal window) and moves the order back to
// pending-authorization with the case appealed. When the payer has PAS, the request is
// submitted again as a new attempt with an identifier of its own that names the denied
// request as its prior one; the payer's answer to it overturns or upholds the denial.
// It returns the order and the Task. An order that is not denied is an
// *order.TransitionError; a deadline passed is ErrAppealWindowClosed.
func (s *Service) Appeal(ctx context.Context, id, reason string) (*order.Order, []byte, error) {
	at := s.now()
	var (
		out    *order.Order
		task   []byte
		notify []string
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		out, task, notify = nil, nil, nil
		o, err := tx.Order(id)
		if err != nil {
			return err
		}
		au := &o.Authorization
		p := s.profiles[au.Payer]
		window := rules.DefaultAppealWindow
		if p != nil {
			window = p.Appeals()
		}
		deadline := at.Add(window)
		if !au.Decided.IsZero() {
			deadline = au.Decided.Add(window)
		}
		if at.After(deadline) {
			return fmt.Errorf("%w: the denial of %s could be appealed until %s", ErrAppealWindowClosed, id, deadline.UTC().Format(time.RFC3339))
		}
		taskID, err := nextTaskID(tx, o.ID)
		if err != nil {
			return err
		}
		denial := au.Response
		if err := o.Appeal(at, "appeal started (Task/"+taskID+")", ""); err != nil {
			return err
		}
		au.Appeal, au.AppealBy = "Task/"+taskID, deadline
		if p != nil {
			au.DueBy = at.Add(p.DecisionWindow(au.Expedited))
		}
		o.Findings = withoutPayerFindings(o.Findings, false)
		t := appealTask(o, taskID, denial, reason, deadline, at)
		if task, err = json.Marshal(t); err != nil {
			return err
		}
		if err := tx.PutResource(&store.Resource{Type: "Task", ID: taskID, LastUpdated: at, JSON: task, OrderID: o.ID}); err != nil {
			return err
		}
		if p.pas() {
			w := s.submit(o, p, au.Claim, at)
			for _, it := range w.Outbox {
				if err := tx.PutOutbox(it); err != nil { // it gets its ID
					return err
				}
				notify = append(notify, it.Destination)
			}
			for _, r := range w.Resources {
				if err := tx.PutResource(r); err != nil {
					return err
				}
			}
		}
		out = o
		return tx.PutOrder(o)
	})
	if err != nil {
		return nil, nil, err
	}
	s.notify(notify)
	return out, task, nil
}

// nextTaskID names the order's next appeal Task: <order>-appeal-<n>.
func nextTaskID(tx store.ReadTx, orderID string) (string, error) {
	for n := 1; ; n++ {
		id := orderID + "-appeal-" + strconv.Itoa(n)
		_, err := tx.Resource("Task", id)
		if errors.Is(err, store.ErrNotFound) {
			return id, nil
		}
		if err != nil {
			return "", err
		}
	}
}

func appealTask(o *order.Order, id, denial, reason string, deadline, at time.Time) taskResource {
	au := o.Authorization
	t := taskResource{
		ResourceType: "Task", ID: id, Status: "requested", Intent: "order",
		BusinessStatus: &concept{Text: "appealed"},
		Code:           concept{Coding: []coding{{System: TaskCodeSystem, Code: "appeal", Display: "Appeal of a prior-authorization denial"}}, Text: "appeal"},
		Description:    "Appeal of the denial of prior authorization for order " + o.ID,
		BasedOn:        []reference{{Reference: "ServiceRequest/" + o.ID}},
		AuthoredOn:     at.UTC().Format(time.RFC3339), LastModified: at.UTC().Format(time.RFC3339),
		Restriction: &restriction{Period: period{End: deadline.UTC().Format(time.RFC3339)}},
	}
	switch {
	case denial != "":
		t.Focus = &reference{Reference: strings.SplitN(denial, "/_history/", 2)[0]}
	case au.Number != "":
		t.Focus = &reference{Type: "ClaimResponse", Identifier: &identifier{Value: au.Number}}
	}
	if len(o.Patient.Identifiers) > 0 {
		id := o.Patient.Identifiers[0]
		t.For = &reference{Type: "Patient", Identifier: &identifier{System: uriOrEmpty(id.System), Value: id.Value}}
	}
	if reason != "" {
		t.ReasonCode = &concept{Text: reason}
	}
	if au.DenialReason != "" {
		t.Input = []taskValue{{Type: concept{Text: "denial reason"}, ValueString: au.DenialReason}}
	}
	return t
}

// closeAppeal completes the order's appeal Task with the case's outcome.
func closeAppeal(tx store.Tx, o *order.Order, at time.Time) error {
	typ, id, ok := strings.Cut(o.Authorization.Appeal, "/")
	if !ok || typ != "Task" {
		return nil
	}
	r, err := tx.Resource("Task", id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var t taskResource
	if err := json.Unmarshal(r.JSON, &t); err != nil {
		return nil // not a Task radbridge wrote: left as it is
	}
	outcome := string(o.Authorization.Status)
	t.Status, t.BusinessStatus = "completed", &concept{Text: outcome}
	t.LastModified = at.UTC().Format(time.RFC3339)
	t.Output = []taskValue{{Type: concept{Text: "outcome"}, ValueString: outcome}}
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return tx.PutResource(&store.Resource{Type: "Task", ID: id, LastUpdated: at, JSON: data, OrderID: o.ID})
}

// Decision is a decision recorded through the API (Decide).
type Decision struct {
	// Status is approved, partially-approved, denied, or for an appealed case
	// overturned or upheld; approved and partially-approved of an appealed case are
	// read as overturned, denied as upheld.
	Status order.AuthStatus
	// Number is the authorization number; empty keeps the one recorded.
	Number string
	// ValidFrom and ValidTo are the period the approval covers, when given.
	ValidFrom, ValidTo time.Time
	// Reason is the payer's reason, when given.
	Reason string
}

// Decide records a decision on order id's case, as a person read it from the payer
// (POST /api/orders/{id}/authorization): the lifecycle of order.Order.RecordDecision,
// with the causes "authorization approved", "authorization denied"... A decision on an
// appeal completes its Task. An order with no decision pending is an
// *order.TransitionError; a Status that is no decision is ErrNotDecision.
func (s *Service) Decide(ctx context.Context, id string, d Decision) (*order.Order, error) {
	if !d.Status.Decided() {
		return nil, fmt.Errorf("%w: %q", ErrNotDecision, d.Status)
	}
	at := s.now()
	var out *order.Order
	err := s.st.Update(ctx, func(tx store.Tx) error {
		out = nil
		o, err := tx.Order(id)
		if err != nil {
			return err
		}
		st := d.Status
		appealed := o.Authorization.Status == order.AuthAppealed
		if appealed {
			switch st {
			case order.AuthApproved, order.AuthPartiallyApproved:
				st = order.AuthOverturned
			case order.AuthDenied:
				st = order.AuthUpheld
			}
		}
		if err := o.RecordDecision(order.Decision{Status: st, Number: d.Number, ValidFrom: d.ValidFrom, ValidTo: d.ValidTo, Reason: d.Reason}, at, ""); err != nil {
			return err
		}
		o.Findings = withoutPayerFindings(o.Findings, false)
		if appealed {
			if err := closeAppeal(tx, o, at); err != nil {
				return err
			}
		}
		out = o
		return tx.PutOrder(o)
	})
	return out, err
}
