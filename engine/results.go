package engine

import (
	"strings"
	"time"

	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/mapping/fhirmap"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// Route sends the results of matching orders to a destination of the delivery worker
// (see DESIGN.md, "Configuration", destinations).
type Route struct {
	// Destination names the delivery destination.
	Destination string
	// Kind is what the destination takes: "hl7v2" (an ORU^R01 over MLLP) or "fhir" (a
	// DiagnosticReport POST).
	Kind string
	// SendingFacility matches HL7 v2 orders whose MSH-4.1 is this value.
	SendingFacility string
	// FHIRSource matches FHIR orders whose ServiceRequest.meta.source starts with this.
	FHIRSource string
}

// matches reports whether the route takes the results of o.
func (r Route) matches(o *order.Order) bool {
	switch o.Source.Kind {
	case order.SourceV2:
		return r.SendingFacility != "" && strings.EqualFold(r.SendingFacility, o.Source.SendingFacility)
	case order.SourceFHIR:
		return r.FHIRSource != "" && strings.HasPrefix(o.Source.FHIRSource, r.FHIRSource)
	}
	return false
}

// Deliverer is the results delivery worker, as the engine uses it.
type Deliverer interface {
	// Notify wakes the worker of a destination that has new outbox items.
	Notify(destination string)
}

// SetDeliverer connects the delivery worker; until then outbox items wait for the
// worker's next scan of the store.
func (e *Engine) SetDeliverer(d Deliverer) { e.deliverer = d }

// Notify wakes the delivery worker for each destination, after the commit that queued
// their outbox items.
func (e *Engine) Notify(destinations []string) {
	if e.deliverer == nil {
		return
	}
	for _, d := range destinations {
		e.deliverer.Notify(d)
	}
}

// ResultApp and ResultFacility are radbridge's MSH-3 and MSH-4 in the ORU^R01 it sends.
const (
	ResultApp      = "RADBRIDGE"
	ResultFacility = "RADBRIDGE"
)

// EnqueueResult writes, in the caller's transaction, one outbox item per route that
// takes the order's results, carrying the result in the destination's dialect, and
// returns the destinations to notify once the transaction is committed.
func (e *Engine) EnqueueResult(tx store.Tx, o *order.Order, r order.Result, at time.Time) ([]string, error) {
	n := fhirmap.ReportNumber(o, r.ID) // its DiagnosticReport id
	dests, err := e.enqueueSubscriptions(tx, o, r, n, at)
	if err != nil {
		return nil, err
	}
	for _, rt := range e.cfg.Routes {
		if !rt.matches(o) {
			continue
		}
		id, err := tx.ReserveID(store.KindOutbox)
		if err != nil {
			return nil, err
		}
		it := &store.OutboxItem{ID: id, Destination: rt.Destination, Kind: rt.Kind,
			OrderID: o.ID, ResultID: r.ID, State: store.OutboxPending, Created: at, NextAttempt: at}
		it.Key = it.ID // the same for every attempt, and MSH-10 of an ORU
		switch rt.Kind {
		case "hl7v2":
			it.Payload = mapping.BuildORU(o, r, mapping.ORUOptions{SendingApp: ResultApp, SendingFacility: ResultFacility,
				ControlID: it.ID, Time: at.In(e.cfg.Location)})
		default:
			rep, _, _, err := fhirmap.DiagnosticReportJSON(o, r, n)
			if err != nil {
				return nil, err
			}
			it.Payload = rep
		}
		if err := tx.PutOutbox(it); err != nil {
			return nil, err
		}
		dests = append(dests, rt.Destination)
	}
	return dests, nil
}
