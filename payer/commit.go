package payer

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// Finding codes of the payer workflow (order.Finding.Code). They sit beside the checks'
// findings and are replaced when the payer answers again.
const (
	// CodeDenialWithoutReason (warning): the payer denied the request and gave no
	// reason; ask for one before appealing.
	CodeDenialWithoutReason = "payer.denial-without-reason"
	// CodePartiallyApproved (warning): the payer approved part of the request, or a
	// modified one.
	CodePartiallyApproved = "payer.partially-approved"
	// CodeRequestRejected (warning): the payer could not process the request (PAS
	// errors): correct the order (XO) to send it again.
	CodeRequestRejected = "payer.request-rejected"
	// CodeAnswerUnreadable (warning): the payer's answer could not be read; radbridge
	// asks again ($inquire).
	CodeAnswerUnreadable = "payer.answer-unreadable"
	// CodeUnknownReviewAction (warning): the answer carries an X12 306 review action
	// code radbridge does not read as a decision; the request counts as pended.
	CodeUnknownReviewAction = "payer.review-action-unknown"
	// CodeDecisionOverdue (warning): the payer's decision window has passed.
	CodeDecisionOverdue = "payer.decision-overdue"
)

// fhirPathAnswer is where the payer workflow's findings point: the payer's answer.
const fhirPathAnswer = "ClaimResponse"

// apply records one answer of the payer to the request claim on o, from source ("payer
// acme"), received in message msgID (a notification) or as the answer to radbridge's
// request (msgID ""). The answer is kept as a version of the stored ClaimResponse named
// after claim. It changes the case only when claim is o's current request; an answer
// the order's lifecycle no longer admits is kept and logged. It returns an error only
// when the store fails; the caller stores o.
func (s *Service) apply(tx store.Tx, o *order.Order, claim string, a answer, source, msgID string, at time.Time) error {
	au := &o.Authorization
	ref := ""
	if len(a.raw) > 0 && claim != "" {
		r := &store.Resource{Type: "ClaimResponse", ID: claim, LastUpdated: at, JSON: a.raw, OrderID: o.ID}
		if err := tx.PutResource(r); err != nil {
			return err
		}
		ref = "ClaimResponse/" + claim + "/_history/" + strconv.Itoa(r.Version)
	}
	if claim == "" || claim != au.Claim {
		return nil // an answer to an earlier attempt, or to a cancellation: kept, not applied
	}
	if ref != "" {
		au.Response = ref
	}
	if a.code != "" {
		au.ReviewAction = a.code
	}
	var err error
	switch au.Status {
	case order.AuthPending, order.AuthSubmitted, order.AuthPended:
		err = s.applyWaiting(o, a, source, msgID, at)
	case order.AuthAppealed:
		err = s.applyAppeal(tx, o, a, source, msgID, at)
	default:
		return nil // decided or cancelled: the answer is kept, the case stands
	}
	if errors.Is(err, order.ErrIllegalTransition) {
		s.log.Warn("payer answer not applied", slog.String("order_id", o.ID), slog.String("err", err.Error()))
		return nil
	}
	return err
}

// applyWaiting applies an answer to a request the payer has not decided.
func (s *Service) applyWaiting(o *order.Order, a answer, source, msgID string, at time.Time) error {
	au := &o.Authorization
	p := s.profiles[au.Payer]
	o.Findings = withoutPayerFindings(o.Findings, a.outcome == outPended || a.outcome == outUnreadable || a.outcome == outError)
	if a.outcome == outError {
		o.Findings = append(o.Findings, payerFinding(CodeRequestRejected, order.FindingInvalid,
			source+" could not process the request: "+orNone(a.errors)+". Correct the order (XO) to send it again."))
		return o.RecordAuthorization(order.AuthPending, at, source+": request "+au.Claim+" rejected", msgID)
	}
	if au.Status == order.AuthPending {
		if err := o.RecordAuthorization(order.AuthSubmitted, at, source+": request "+au.Claim+" received", msgID); err != nil {
			return err
		}
		au.Submitted = at
		if p != nil {
			au.DueBy = at.Add(p.DecisionWindow(au.Expedited))
		}
	}
	switch a.outcome {
	case outUnreadable:
		o.Findings = append(o.Findings, payerFinding(CodeAnswerUnreadable, order.FindingInvalid,
			source+" answered with what radbridge cannot read ("+orNone(a.errors)+"); it will ask again."))
		s.scheduleInquiry(au, p, at)
		return nil
	case outPended:
		if len(a.unknown) > 0 {
			o.Findings = append(o.Findings, payerFinding(CodeUnknownReviewAction, order.FindingUnknown,
				source+" answered with review action "+strings.Join(a.unknown, ", ")+
					", which radbridge does not read as a decision: the request counts as pended."))
		}
		s.scheduleInquiry(au, p, at)
		if au.Status == order.AuthPended {
			return nil // pended again: nothing changed
		}
		return o.RecordAuthorization(order.AuthPended, at, source+": pended"+codeNote(a.code), msgID)
	}
	d := decision(a, source)
	switch a.outcome {
	case outDenied:
		d.Status = order.AuthDenied
	case outPartial:
		d.Status = order.AuthPartiallyApproved
	default:
		d.Status = order.AuthApproved
	}
	d.Cause = source + ": " + string(d.Status) + codeNote(a.code) + numberNote(d.Number)
	s.noteDecision(o, a, source)
	return o.RecordDecision(d, at, msgID)
}

// applyAppeal applies an answer to an appeal's resubmission: approval overturns the
// denial, denial upholds it.
func (s *Service) applyAppeal(tx store.Tx, o *order.Order, a answer, source, msgID string, at time.Time) error {
	au := &o.Authorization
	o.Findings = withoutPayerFindings(o.Findings, a.outcome != outApproved && a.outcome != outPartial && a.outcome != outDenied)
	switch a.outcome {
	case outError, outUnreadable:
		o.Findings = append(o.Findings, payerFinding(CodeRequestRejected, order.FindingInvalid,
			source+" could not process the appeal: "+orNone(a.errors)+"."))
		return nil
	case outPended:
		s.scheduleInquiry(au, s.profiles[au.Payer], at)
		return nil
	}
	d := decision(a, source)
	d.Status = order.AuthOverturned
	if a.outcome == outDenied {
		d.Status = order.AuthUpheld
	}
	d.Cause = source + ": appeal " + string(d.Status) + codeNote(a.code) + numberNote(d.Number)
	s.noteDecision(o, a, source)
	if err := o.RecordDecision(d, at, msgID); err != nil {
		return err
	}
	return closeAppeal(tx, o, at)
}

func decision(a answer, source string) order.Decision {
	return order.Decision{Number: a.number, ValidFrom: a.validFrom, ValidTo: a.validTo, Reason: strings.Join(a.reasons, "; ")}
}

// noteDecision adds the findings a decision calls for: a denial without a reason, a
// partial approval.
func (s *Service) noteDecision(o *order.Order, a answer, source string) {
	switch {
	case a.outcome == outDenied && len(a.reasons) == 0:
		o.Findings = append(o.Findings, payerFinding(CodeDenialWithoutReason, order.FindingMissing,
			source+" denied the request without giving a reason: ask the payer for one before appealing."))
	case a.outcome == outPartial:
		o.Findings = append(o.Findings, payerFinding(CodePartiallyApproved, order.FindingInformational,
			source+" approved the request only in part or modified"+reasonNote(a.reasons)+": check what it authorized before scheduling."))
	}
}

// scheduleInquiry sets when to ask the payer about a request it has not decided.
func (s *Service) scheduleInquiry(au *order.Authorization, p *profile, at time.Time) {
	if !p.pas() || p.inquireAfter() < 0 {
		au.NextInquiry = time.Time{}
		return
	}
	au.NextInquiry = at.Add(p.inquireAfter())
}

func payerFinding(code string, class order.FindingClass, text string) order.Finding {
	return order.Finding{Code: code, Severity: order.SeverityWarning, Class: class, FHIRPath: fhirPathAnswer, Text: text}
}

// withoutPayerFindings drops the payer workflow's findings, keeping the checks' and,
// while the case still waits for a decision, the overdue finding.
func withoutPayerFindings(fs []order.Finding, waiting bool) []order.Finding {
	out := fs[:0:0]
	for _, f := range fs {
		if !strings.HasPrefix(f.Code, "payer.") || waiting && f.Code == CodeDecisionOverdue {
			out = append(out, f)
		}
	}
	return out
}

func codeNote(code string) string {
	if code == "" {
		return ""
	}
	return " (" + code + ")"
}

func numberNote(n string) string {
	if n == "" {
		return ""
	}
	return ", number " + n
}

func reasonNote(rs []string) string {
	if len(rs) == 0 {
		return ""
	}
	return " (" + strings.Join(rs, "; ") + ")"
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "no details given"
	}
	return strings.Join(list, "; ")
}
