// Package payer follows each order's prior-authorization case with its payer: it
// submits the order to the payer as a Da Vinci Prior Authorization Support (PAS 2.2.1)
// request, reads the payer's ClaimResponse, keeps the case's clocks (CMS
// Interoperability and Prior Authorization final rule, CMS-0057-F: 72 hours for an
// expedited request, 7 calendar days for a standard one, counted from the submission)
// and carries denials through their appeals.
//
// # Submission
//
// [Service.Follow] is the engine's Authorizer: an order that needs an authorization and
// carries none (status pending-authorization, case pending) whose payer profile has
// PAS gets its request Bundle (the Claim with the CPT item and the ICD-10-CM
// diagnoses, the Patient, the Coverage, the insurer, the requesting Practitioner and
// the ServiceRequest) queued in the delivery outbox in the transaction that stores the
// order, so that an order waiting for an authorization never lacks its request. The
// Claim identifier is the order ID and the attempt number (ord-7-1), stable across
// deliveries: the delivery worker repeats a request whose answer was lost with the same
// Claim and the same Idempotency-Key, so the payer sees one request. A change of the
// order (XO) that leaves it waiting is a new attempt, sent as a Claim update naming
// the previous one; a cancelled order (CA, DC) gets a Claim update that cancels the
// request (status cancelled, certification type 3, the infoCancelled flag). Each
// request's Claim is stored (resource Claim, indexed by identifier).
//
// # Answers
//
// The payer's answer (the response Bundle of Claim/$submit or $inquire, or a
// notification posted to [NotifyPath]) is read item by item by the X12 306 review
// action code of its adjudication: A1 approves, A2 and A6 approve in part, A3 denies,
// A4 pends; any other code, or none, pends: an answer radbridge cannot read is never an
// approval. An approval's number is ClaimResponse.preAuthRef or the review action's
// number, its validity preAuthPeriod or the item's itemPreAuthPeriod; a denial's reason
// the review action reason codes, else the disposition, else the process notes, and a
// denial without one is a finding. An error outcome (or an OperationOutcome) sends the
// case back to pending with a finding. Every answer is kept as a version of the
// resource ClaimResponse/<claim>, and the order's history records each change of the
// case with its source. A pended request is asked about with Claim/$inquire when no
// notification has come within the profile's inquire_after ([Service.Sweep]).
//
// # Clocks, appeals, reports
//
// Once the payer has the request, Authorization.DueBy is the submission time plus the
// profile's decision window (decision.expedited for urgent, ASAP and stat orders,
// decision.standard otherwise); a case past it is [Overdue], gets a finding once, and
// is counted by radbridge_pa_overdue{payer}. [Service.Appeal] starts an appeal of a
// denial within the profile's appeal_window (an R4 Task, and with PAS a resubmission
// under a new Claim identifier naming the denied one), [Service.Decide] records
// decisions read from the payer by a person, and [Service.Report] gives denial and
// overturn rates by payer, CPT code and denial reason.
//
// # Caveats
//
//   - Requests to one payer are delivered in the order they were queued; a request
//     that keeps failing holds back the later ones until it is dead (see package
//     delivery), and dead requests are retried through the outbox API.
//   - The PAS Bundle carries what the order holds: no Encounter, no supporting
//     documentation (CDex/DTR), one item per order.
//   - The sweep, the metric and the report read at most store.MaxLimit orders of a
//     status (the report: of all).
//   - Eligibility (CoverageEligibilityRequest) is not implemented.
package payer
