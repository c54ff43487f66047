package order

import "strings"

// Status is where an order stands in its lifecycle. The zero value, [StatusNew], is an
// order that has not been received yet. See the package documentation for the diagram
// and [Order.Transition] for the rules.
type Status string

// The order statuses.
const (
	// StatusNew is the zero Status: an order built from a message but not yet received.
	StatusNew Status = ""
	// StatusReceived means the order was accepted and awaits the completeness and
	// prior-authorization checks ([Order.Settle]). It is also where a changed order (XO)
	// goes to be checked again.
	StatusReceived Status = "received"
	// StatusIncomplete means the checks found at least one error-severity finding: the
	// placer must send a corrected order (XO).
	StatusIncomplete Status = "incomplete"
	// StatusPendingAuth means the order is complete but needs a prior authorization it
	// does not carry yet.
	StatusPendingAuth Status = "pending-authorization"
	// StatusReady means the order is complete and authorized (or needs no
	// authorization): it can be performed.
	StatusReady Status = "ready"
	// StatusInProgress means the filler reported the exam scheduled or started.
	StatusInProgress Status = "in-progress"
	// StatusResulted means the order holds at least one result that has not been
	// delivered to the placer yet.
	StatusResulted Status = "resulted"
	// StatusDelivered means the latest result was delivered to the placer.
	StatusDelivered Status = "delivered"
	// StatusCancelled means the placer or the filler cancelled, discontinued or replaced
	// the order before it was resulted.
	StatusCancelled Status = "cancelled"
	// StatusOnHold means the order is suspended (HD); release (RL) returns it to the
	// status it was held from.
	StatusOnHold Status = "on-hold"
	// StatusDenied means the payer denied the prior authorization.
	StatusDenied Status = "denied"
	// StatusEnteredInError means the order should never have existed (wrong patient,
	// duplicate). It is final.
	StatusEnteredInError Status = "entered-in-error"
)

// statuses lists every status except StatusNew, in lifecycle order.
func statuses() []Status {
	return []Status{
		StatusReceived, StatusIncomplete, StatusPendingAuth, StatusReady,
		StatusInProgress, StatusResulted, StatusDelivered, StatusCancelled,
		StatusOnHold, StatusDenied, StatusEnteredInError,
	}
}

// ParseStatus returns the Status named s (case-insensitive, e.g. "pending-authorization").
// It reports false for anything else, including the empty string.
func ParseStatus(s string) (Status, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, st := range statuses() {
		if string(st) == s {
			return st, true
		}
	}
	return StatusNew, false
}

// Terminal reports whether the order's workflow has ended: delivered, cancelled, denied
// or entered-in-error. Nothing more is expected of a terminal order, but a few events
// can still move it (see the package documentation): a corrected result reopens a
// delivered order, a result for a denied order is kept, and any order can be marked
// entered-in-error. Only entered-in-error is final.
func (s Status) Terminal() bool {
	switch s {
	case StatusDelivered, StatusCancelled, StatusDenied, StatusEnteredInError:
		return true
	}
	return false
}

// ServiceRequestStatus returns the FHIR R4 ServiceRequest.status (request-status value
// set) that corresponds to s: the placer's view of the order. Every status in which the
// order is still wanted and not yet resulted is "active"; resulted and delivered are
// "completed"; cancelled and denied are "revoked". StatusNew is "draft".
func (s Status) ServiceRequestStatus() string {
	switch s {
	case StatusNew:
		return "draft"
	case StatusReceived, StatusIncomplete, StatusPendingAuth, StatusReady, StatusInProgress:
		return "active"
	case StatusResulted, StatusDelivered:
		return "completed"
	case StatusCancelled, StatusDenied:
		return "revoked"
	case StatusOnHold:
		return "on-hold"
	case StatusEnteredInError:
		return "entered-in-error"
	}
	return "unknown"
}

// TaskStatus returns the FHIR R4 Task.status (task-status value set) of the fulfillment
// Task for an order in status s: the performer's view. received, incomplete and
// pending-authorization are "received" (the performer holds the order and is evaluating
// it); ready is "accepted"; resulted and delivered are "completed"; denied is "rejected".
// The precise Status belongs in Task.businessStatus. StatusNew is "draft".
func (s Status) TaskStatus() string {
	switch s {
	case StatusNew:
		return "draft"
	case StatusReceived, StatusIncomplete, StatusPendingAuth:
		return "received"
	case StatusReady:
		return "accepted"
	case StatusInProgress:
		return "in-progress"
	case StatusResulted, StatusDelivered:
		return "completed"
	case StatusCancelled:
		return "cancelled"
	case StatusOnHold:
		return "on-hold"
	case StatusDenied:
		return "rejected"
	case StatusEnteredInError:
		return "entered-in-error"
	}
	return "unknown"
}

// ParseOrderStatus maps an ORC-5 order status (HL7 v2.5.1 table 0038, case-insensitive)
// to a Status:
//
//	A  some, but not all, results available  -> resulted
//	CM order is completed                    -> resulted
//	IP in process, unspecified               -> in-progress
//	SC in process, scheduled                 -> in-progress
//	HD order is on hold                      -> on-hold
//	CA order was canceled                    -> cancelled
//	DC order was discontinued                -> cancelled
//	RP order has been replaced               -> cancelled
//
// It reports false for ER ("error, order not found", a reply rather than a status) and
// for anything else. How an SC message applies the status is described at
// [Order.ApplyControl].
func ParseOrderStatus(code string) (Status, bool) {
	switch strings.ToUpper(strings.TrimSpace(code)) {
	case "A", "CM":
		return StatusResulted, true
	case "IP", "SC":
		return StatusInProgress, true
	case "HD":
		return StatusOnHold, true
	case "CA", "DC", "RP":
		return StatusCancelled, true
	}
	return StatusNew, false
}

// name is s for messages: StatusNew reads "new".
func (s Status) name() string {
	if s == StatusNew {
		return "new"
	}
	return string(s)
}
