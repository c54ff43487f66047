package order

import (
	"strings"
	"time"
)

// Control is the order-control part of an inbound ORC segment, or its FHIR equivalent
// built by the mapping.
type Control struct {
	// Code is the order control code (ORC-1, HL7 table 0119), e.g. "NW", "CA".
	Code string
	// OrderStatus is the order status (ORC-5, HL7 table 0038); SC needs it, the other
	// codes ignore it.
	OrderStatus string
	// Filler is the filler order number (ORC-3); when not empty it is recorded on the
	// order with any accepted code (NA exists to assign it).
	Filler string
}

// controlAction is what an order control code does to the status.
type controlAction int

const (
	actInform  controlAction = iota // no status change
	actNew                          // a new order: new -> received
	actRecheck                      // a changed order: -> received, checked again
	actCancel                       // -> cancelled
	actHold                         // -> on-hold
	actRelease                      // on-hold -> the status before the hold
	actStatus                       // ORC-5 decides
)

// controlActionFor is the order control table: HL7 v2.5.1 table 0119 codes and what
// each does. See [Order.ApplyControl] for the reasons.
func controlActionFor(code string) (controlAction, bool) {
	switch code {
	case "NW", "RO":
		return actNew, true
	case "XO":
		return actRecheck, true
	case "CA", "OC", "CR", "DC", "OD", "DR", "RP", "RU", "RQ", "UA":
		return actCancel, true
	case "HD", "OH", "HR":
		return actHold, true
	case "RL", "OE", "OR":
		return actRelease, true
	case "SC":
		return actStatus, true
	case "OK", "NA", "XX", "XR", "RE", "RR", "DE", "SN", "SS", "SR",
		"UC", "UD", "UH", "UR", "UX", "UM":
		return actInform, true
	}
	return actInform, false
}

// ApplyControl applies an ORC-1 order control code (HL7 v2.5.1 chapter 4, table 0119)
// to the order, recording the cause as "ORC-1=<code>" (and " ORC-5=<status>" for SC).
// Codes are case-insensitive.
//
//	NW  new order; RO replacement order          new -> received
//	XO  change order request                     -> received, to be checked again;
//	                                             from received, incomplete,
//	                                             pending-authorization, ready, on-hold
//	CA  cancel request; OC cancelled; CR cancelled as requested   -> cancelled
//	DC  discontinue request; OD discontinued; DR discontinued as requested
//	                                             -> cancelled (an imaging order is done
//	                                             once: discontinuing it cancels it)
//	RP  replace request; RU replaced unsolicited; RQ replaced as requested
//	                                             -> cancelled (the replacement arrives
//	                                             as its own order, RO)
//	UA  unable to accept                         -> cancelled (the filler will not do it)
//	HD  hold request; OH held; HR held as requested               -> on-hold
//	RL  release request; OE released; OR released as requested
//	                                             -> the status before the hold
//	SC  status changed                           -> per ORC-5, see below
//	OK accepted, NA number assigned, XX changed unsolicited, XR changed as requested,
//	RE observations to follow, RR request received, DE data errors, SN/SS/SR number and
//	status requests, and the refusals UC, UD, UH, UR, UX, UM     no status change
//
// The informational codes change no status: results arrive with RE but move the order
// through [Order.AddResult]; a filler's change (XX) is not re-checked because the
// filler already accepted the order; and a refusal (UC unable to cancel...) leaves the
// status the request produced, for a person to resolve. Refills, parent/child orders,
// combined results and problem links (RF, AF, DF, FU, OF, UF, PA, CH, CN, LI, UN) and
// unknown codes return a [*CodeError] wrapping [ErrUnknownControlCode].
//
// SC maps ORC-5 with [ParseOrderStatus]; an unmappable ORC-5 returns a [*CodeError]
// wrapping [ErrUnknownOrderStatus]. A status report never makes an order resulted: only a result
// does, and a RIS sends ORC-5=CM when the exam ends, before the report. So CM and A
// move a not-yet-resulted order to in-progress, and IP, SC, CM and A record nothing for
// an order that is already resulted or delivered.
//
// A code that asks for the status the order already has (a second CA, HD or SC) is
// accepted and records nothing, except XO, which is always recorded. Only NW and RO
// apply to a new order; any other code for a new order, and NW or RO for an existing
// one, returns a [*TransitionError]. Illegal moves (CA after results, RL when not on
// hold) return a [*TransitionError] too, and leave the order unchanged.
//
// On success ControlCode is set to the code, Filler to c.Filler when that is not empty,
// and Updated to at.
func (o *Order) ApplyControl(c Control, at time.Time, messageID string) error {
	code := strings.ToUpper(strings.TrimSpace(c.Code))
	act, ok := controlActionFor(code)
	if !ok {
		return &CodeError{Field: "ORC-1", Code: c.Code, Err: ErrUnknownControlCode}
	}
	cause := "ORC-1=" + code
	if act != actNew && o.Status == StatusNew {
		return &TransitionError{From: o.Status, To: o.Status, Cause: cause, Reason: "no such order"}
	}
	var err error
	switch act {
	case actNew:
		if o.Status != StatusNew {
			return &TransitionError{From: o.Status, To: StatusReceived, Cause: cause,
				Reason: "order already exists"}
		}
		err = o.Transition(StatusReceived, at, cause, messageID)
	case actRecheck:
		err = o.Transition(StatusReceived, at, cause, messageID)
	case actCancel:
		err = o.moveOnce(StatusCancelled, at, cause, messageID)
	case actHold:
		err = o.moveOnce(StatusOnHold, at, cause, messageID)
	case actRelease:
		err = o.Release(at, cause, messageID)
	case actStatus:
		err = o.applyOrderStatus(c.OrderStatus, at, cause, messageID)
	}
	if err != nil {
		return err
	}
	o.ControlCode = code
	if c.Filler != "" {
		o.Filler = c.Filler
	}
	o.Updated = at
	return nil
}

// applyOrderStatus applies an SC message's ORC-5.
func (o *Order) applyOrderStatus(orc5 string, at time.Time, cause, messageID string) error {
	to, ok := ParseOrderStatus(orc5)
	if !ok {
		return &CodeError{Field: "ORC-5", Code: orc5, Err: ErrUnknownOrderStatus}
	}
	cause += " ORC-5=" + strings.ToUpper(strings.TrimSpace(orc5))
	if to == StatusResulted || to == StatusInProgress {
		if o.Status == StatusResulted || o.Status == StatusDelivered {
			return nil
		}
		to = StatusInProgress
	}
	return o.moveOnce(to, at, cause, messageID)
}

// moveOnce is Transition, except that asking for the current status records nothing.
func (o *Order) moveOnce(to Status, at time.Time, cause, messageID string) error {
	if to == o.Status {
		return nil
	}
	return o.Transition(to, at, cause, messageID)
}
