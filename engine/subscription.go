package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/radbridge/radbridge/fhir"
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
	if typ != typeDiagnosticReport {
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
					ok = ok || strings.TrimPrefix(alt, typeServiceRequest+"/") == o.ID
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

// createSubscription accepts an R4 rest-hook Subscription for DiagnosticReports: it is
// stored active and its endpoint becomes a delivery destination at once.
func (b *FHIRBackend) createSubscription(ctx context.Context, req fhir.CreateRequest) (fhir.Result, error) {
	var s subscription
	if err := json.Unmarshal(req.Resource, &s); err != nil {
		return fhir.Result{}, err
	}
	if expr, problem := s.check(); problem != "" {
		return fhir.Result{}, &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: []fhir.Issue{{Severity: "error", Code: "not-supported", Expression: expr, Diagnostics: problem}}}
	}
	sub, ok := b.e.deliverer.(Subscriber)
	if !ok {
		return fhir.Result{}, &fhir.Error{Status: http.StatusServiceUnavailable, Issues: []fhir.Issue{{Severity: "error", Code: "not-supported",
			Diagnostics: "no delivery worker is running: subscriptions cannot be notified"}}}
	}
	active, err := withStatus(req.Resource, "active")
	if err != nil {
		return fhir.Result{}, err
	}
	req.Resource = active
	res, err := b.createOther(ctx, req)
	if err != nil {
		return res, err
	}
	s.ID = res.ID
	if err := sub.Subscribe(s.destination(), s.Channel.Endpoint, s.Channel.Payload != "", s.Channel.Header); err != nil {
		return fhir.Result{}, err
	}
	return res, nil
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
		if err := sub.Subscribe(s.destination(), s.Channel.Endpoint, s.Channel.Payload != "", s.Channel.Header); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) subscriptions(ctx context.Context) ([]subscription, error) {
	var out []subscription
	err := e.store.View(ctx, func(tx store.ReadTx) error {
		var err error
		out, err = activeSubscriptions(tx)
		return err
	})
	return out, err
}

func activeSubscriptions(tx store.ReadTx) ([]subscription, error) {
	list, _, err := tx.Resources(typeSubscription, store.MaxLimit)
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
		if !s.matches(o, r) {
			continue
		}
		if report == nil {
			rep, err := renderReport(tx, o, r, n)
			if err != nil {
				return nil, err
			}
			report = rep.Resource
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
