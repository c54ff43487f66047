package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/radbridge/radbridge/mapping/fhirmap"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// subscription is what the engine reads of an R4 Subscription.
type subscription struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Criteria string `json:"criteria"`
	Channel  struct {
		Type     string   `json:"type"`
		Endpoint string   `json:"endpoint"`
		Payload  string   `json:"payload"`
		Header   []string `json:"header"`
	} `json:"channel"`
}

// subscriptionParams are the search parameters a Subscription's criteria may use.
var subscriptionParams = map[string]bool{"based-on": true, "patient": true, "status": true}

// destination is the delivery destination of a subscription.
func (s subscription) destination() string { return "subscription/" + s.ID }

// check says what the engine cannot honour in a Subscription, or "" when it can.
func (s subscription) check() (expression, problem string) {
	switch {
	case s.Channel.Type != "rest-hook":
		return "Subscription.channel.type", "only rest-hook channels are supported"
	case !strings.HasPrefix(s.Channel.Endpoint, "http://") && !strings.HasPrefix(s.Channel.Endpoint, "https://"):
		return "Subscription.channel.endpoint", "the endpoint must be an http or https URL"
	case s.Channel.Payload != "" && !strings.HasPrefix(s.Channel.Payload, "application/fhir+json") && !strings.HasPrefix(s.Channel.Payload, "application/json"):
		return "Subscription.channel.payload", "payload must be application/fhir+json (or absent, for notifications without content)"
	}
	typ, query, _ := strings.Cut(s.Criteria, "?")
	if typ != "DiagnosticReport" {
		return "Subscription.criteria", "criteria must be a DiagnosticReport search: radbridge notifies about results"
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return "Subscription.criteria", "criteria is not a valid search: " + err.Error()
	}
	for name := range params {
		if !subscriptionParams[name] {
			return "Subscription.criteria", "search parameter " + name + " is not supported in criteria (use based-on, patient or status)"
		}
	}
	return "", ""
}

// matches reports whether a new result of o satisfies the criteria.
func (s subscription) matches(o *order.Order, r order.Result) bool {
	_, query, _ := strings.Cut(s.Criteria, "?")
	params, _ := url.ParseQuery(query)
	for name, vals := range params {
		for _, v := range vals {
			ok := false
			for _, alt := range strings.Split(v, ",") {
				switch name {
				case "based-on":
					id := strings.TrimPrefix(alt, "ServiceRequest/")
					ok = ok || id == o.ID || id == o.ServiceRequestID()
				case "status":
					ok = ok || string(r.Status) == alt
				case "patient":
					for _, id := range o.Patient.Identifiers {
						ok = ok || id.Value == strings.TrimPrefix(alt, "Patient/")
					}
				}
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// Subscriber is the part of the delivery worker that takes Subscriptions' endpoints
// as destinations while it runs.
type Subscriber interface {
	Subscribe(destination, endpoint string, payload bool, headers []string) error
}

// SubscriptionProblem is why the engine does not take a Subscription.
type SubscriptionProblem struct {
	// Expression is the FHIRPath of the element at fault, e.g.
	// "Subscription.channel.endpoint".
	Expression string
	// Text says what is wrong and, for a refusal by policy, how an operator allows it.
	Text string
	// Refused is true when the operator's policy (Config.Subscriptions) refuses what
	// the engine could otherwise do; false when the engine cannot do it at all.
	Refused bool
}

// CheckSubscription reads an R4 Subscription resource and says what the engine cannot
// honour in it (an unsupported channel or criteria) or its policy refuses (an endpoint
// outside Config.Subscriptions.Allow, a header not in AllowHeaders); nil when it can
// notify about results as the Subscription asks. err is for JSON that is not a
// Subscription at all.
func (e *Engine) CheckSubscription(resource []byte) (*SubscriptionProblem, error) {
	var s subscription
	if err := json.Unmarshal(resource, &s); err != nil {
		return nil, err
	}
	return e.checkSubscription(s), nil
}

func (e *Engine) checkSubscription(s subscription) *SubscriptionProblem {
	if expr, problem := s.check(); problem != "" {
		return &SubscriptionProblem{Expression: expr, Text: problem}
	}
	if expr, problem := e.cfg.Subscriptions.check(s); problem != "" {
		return &SubscriptionProblem{Expression: expr, Text: problem, Refused: true}
	}
	return nil
}

// ErrSubscriptionRefused is returned by Engine.Subscribe for a Subscription that
// CheckSubscription does not pass.
var ErrSubscriptionRefused = errors.New("engine: subscription refused")

// ErrNoSubscriber means no delivery worker that takes Subscriptions is connected.
var ErrNoSubscriber = errors.New("engine: no delivery worker is running: subscriptions cannot be notified")

// CanSubscribe reports whether a delivery worker that takes Subscriptions is connected.
func (e *Engine) CanSubscribe() bool {
	_, ok := e.deliverer.(Subscriber)
	return ok
}

// Subscribe makes the endpoint of the stored Subscription id (resource is its JSON) a
// delivery destination at once; results matching its criteria are queued for it from
// the next commit on.
func (e *Engine) Subscribe(id string, resource []byte) error {
	sub, ok := e.deliverer.(Subscriber)
	if !ok {
		return ErrNoSubscriber
	}
	var s subscription
	if err := json.Unmarshal(resource, &s); err != nil {
		return err
	}
	s.ID = id
	if p := e.checkSubscription(s); p != nil {
		return fmt.Errorf("%w: %s: %s", ErrSubscriptionRefused, p.Expression, p.Text)
	}
	return sub.Subscribe(s.destination(), s.Channel.Endpoint, s.Channel.Payload != "", s.headers())
}

// Resubscribe registers the stored active Subscriptions with the delivery worker; call
// it at start-up, after SetDeliverer.
func (e *Engine) Resubscribe(ctx context.Context) error {
	sub, ok := e.deliverer.(Subscriber)
	if !ok {
		return nil
	}
	subs, err := e.subscriptions(ctx)
	if err != nil {
		return err
	}
	for _, s := range subs {
		if err := sub.Subscribe(s.destination(), s.Channel.Endpoint, s.Channel.Payload != "", s.headers()); err != nil {
			return err
		}
	}
	return nil
}

// subscriptions returns the stored active Subscriptions the engine takes now. One the
// policy refuses (the configuration changed since it was created) is logged and left
// out: nothing is sent to it.
func (e *Engine) subscriptions(ctx context.Context) ([]subscription, error) {
	var all []subscription
	err := e.store.View(ctx, func(tx store.ReadTx) error {
		var err error
		all, err = activeSubscriptions(tx)
		return err
	})
	var out []subscription
	for _, s := range all {
		if p := e.checkSubscription(s); p != nil {
			e.log.LogAttrs(ctx, slog.LevelWarn, "subscription not registered: refused by the configuration",
				slog.String("subscription_id", s.ID), slog.String("element", p.Expression), slog.String("reason", p.Text))
			continue
		}
		out = append(out, s)
	}
	return out, err
}

// activeSubscriptions returns the stored active Subscriptions, whatever the policy.
func activeSubscriptions(tx store.ReadTx) ([]subscription, error) {
	list, _, err := tx.Resources("Subscription", store.MaxLimit)
	if err != nil {
		return nil, err
	}
	var out []subscription
	for _, r := range list {
		var s subscription
		if json.Unmarshal(r.JSON, &s) == nil && s.Status == "active" {
			s.ID = r.ID
			out = append(out, s)
		}
	}
	return out, nil
}

// enqueueSubscriptions queues a new result for every active Subscription it matches,
// as its DiagnosticReport.
func (e *Engine) enqueueSubscriptions(tx store.Tx, o *order.Order, r order.Result, n int, at time.Time) ([]string, error) {
	subs, err := activeSubscriptions(tx)
	if err != nil || len(subs) == 0 {
		return nil, err
	}
	var dests []string
	var report []byte
	for _, s := range subs {
		if !s.matches(o, r) || e.checkSubscription(s) != nil {
			continue // a Subscription the policy refuses gets nothing, not even queued
		}
		if report == nil {
			if report, _, _, err = fhirmap.DiagnosticReportJSON(o, r, n); err != nil {
				return nil, err
			}
		}
		id, err := tx.ReserveID(store.KindOutbox)
		if err != nil {
			return nil, err
		}
		it := &store.OutboxItem{ID: id, Destination: s.destination(), Kind: "fhir",
			OrderID: o.ID, ResultID: r.ID, Payload: report, State: store.OutboxPending, Created: at, NextAttempt: at}
		it.Key = it.ID
		if err := tx.PutOutbox(it); err != nil {
			return nil, err
		}
		dests = append(dests, s.destination())
	}
	return dests, nil
}
