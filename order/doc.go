// Package order is radbridge's internal model of an imaging order and its lifecycle.
//
// HL7 v2 orders (ORM^O01, OMI^O23, OML^O21) and FHIR R4 ServiceRequests both normalize
// into an [Order]: who sent it ([Source]), its numbers (placer, filler, accession),
// the [Patient], the [EncounterClass], the ordering [Provider], the [Procedure], the
// diagnoses ([Diagnosis]) and reason, the [Priority], the [Signature], the [Coverage],
// the prior [Authorization], the findings of the checks ([Finding]), the results
// ([Result]), and the [Status] with its History ([Transition]). There is one Order per
// placer number per sender ([Order.Key]). An Order marshals to JSON (snake_case keys)
// for the store; [Order.AppendJSON] writes the same bytes as json.Marshal, faster.
//
// The package does no I/O, logs nothing and reads no clock: every method that records
// a change takes the time and the id of the message that caused it. Methods that
// return an error leave the order unchanged.
//
// # Lifecycle
//
// Statuses follow HL7 v2.5.1 chapter 4 (Order Entry): ORC-1 order control codes (table
// 0119) drive the changes through [Order.ApplyControl], and ORC-5 order status (table
// 0038) is read with [ParseOrderStatus]. [Status.ServiceRequestStatus] and
// [Status.TaskStatus] give the FHIR R4 ServiceRequest.status (request-status) and the
// fulfillment Task.status (task-status) of each status.
//
//	 NW
//	  |
//	  v
//	received --Settle--+--> incomplete
//	  ^                +--> pending-authorization --approved--> ready
//	  |                |       |   ^   ^   (case events:       |
//	  |                |       |   |   |    submitted, pended) |
//	  |                |       |   |   +------ expired --------+
//	  |                |       |   +-- appeal --+
//	  |                |       +---denied---> denied
//	  |                +--> ready --> in-progress --> resulted <--> delivered
//	  |                                                  ^   (a new or corrected
//	  +-- XO from incomplete, pending-authorization,     |    result re-opens)
//	      ready, on-hold                                 |
//	                                     results, also from incomplete,
//	                                     pending-authorization, on-hold, denied
//
//	HD:  received, incomplete, pending-authorization, ready, in-progress --> on-hold
//	RL:  on-hold --> the status it was held from (read from History)
//	CA:  received, incomplete, pending-authorization, ready, in-progress,
//	     on-hold, denied --> cancelled            (never after resulted)
//	any status but new --> entered-in-error      (final)
//
// The complete transition table (from: to...; a status listed under itself is a
// recorded self-transition):
//
//	new:                   received
//	received:              received incomplete pending-authorization ready denied
//	                       on-hold cancelled entered-in-error
//	incomplete:            incomplete received resulted on-hold cancelled entered-in-error
//	pending-authorization: pending-authorization received ready denied resulted on-hold
//	                       cancelled entered-in-error
//	ready:                 received pending-authorization in-progress resulted on-hold
//	                       cancelled entered-in-error
//	in-progress:           resulted on-hold cancelled entered-in-error
//	resulted:              resulted delivered entered-in-error
//	delivered:             resulted entered-in-error
//	on-hold:               received resulted cancelled entered-in-error, and the status
//	                       it was held from
//	denied:                pending-authorization resulted cancelled entered-in-error
//	cancelled:             entered-in-error
//	entered-in-error:      (none)
//
// [Order.Transition] enforces the table and appends to History; the helpers build on it:
// [Order.ApplyControl] (ORC-1), [Order.Settle] (after the checks), [Order.Release],
// [Order.DecideAuthorization], [Order.AddResult] and [Order.MarkDelivered], and for the
// authorization case with a payer [Order.RecordAuthorization] (pending-authorization to
// itself), [Order.RecordDecision], [Order.Appeal] (denied to pending-authorization) and
// [Order.ExpireAuthorization] (ready to pending-authorization).
//
// # Authorization case
//
// [Authorization.Status] follows the case with the payer; the order's Status follows
// from it:
//
//	case status          order status            how it gets there
//	not-required, exempt, undetermined
//	                     ready (or incomplete)   Settle
//	pending (required)   pending-authorization   Settle; the payer sent it back
//	submitted            pending-authorization   the payer received the request
//	pended               pending-authorization   the payer is reviewing it
//	approved             ready                   RecordDecision (a number when given)
//	partially-approved   ready                   RecordDecision
//	denied               denied                  RecordDecision
//	appealed             pending-authorization   Appeal (from denied or upheld)
//	overturned           ready                   RecordDecision on an appeal
//	upheld               denied                  RecordDecision on an appeal
//	cancelled            cancelled               the order was cancelled (CA, DC)
//	expired              pending-authorization   ExpireAuthorization (from approved,
//	                                             partially-approved, overturned)
//
// # Caveats
//
//   - A received order is meant to be settled in the same step that received it; it
//     accepts no results and no status reports.
//   - Results are accepted for orders that were never ready (incomplete,
//     pending-authorization, on-hold, denied): a report that exists must reach the
//     ordering provider. The engine should flag such orders for review.
//   - A refusal from the filler (UC unable to cancel, UH unable to hold...) does not undo
//     the status the placer's request produced; a person must reconcile the two.
//   - Order values are not safe for concurrent mutation; share copies made with
//     [Order.Clone].
package order
