package mapping

import (
	"strings"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
)

// coverage maps one IN1 segment:
//
//	Payer     IN1-3.1  insurance company ID (first repetition)
//	PayerName IN1-4.1  insurance company name
//	Plan      IN1-2.1  insurance plan ID
//	PlanType  IN1-15   plan type
//	Group     IN1-8    group number
//	MemberID  IN1-36   policy number, else IN1-49.1 insured's ID number
//	Start     IN1-12   plan effective date, as YYYY-MM-DD
//	End       IN1-13   plan expiration date, as YYYY-MM-DD
//
// IN1-2 is not a member ID fallback: it names the plan, not the person. A coverage date
// that is malformed or less precise than a day is reported and left empty.
func (mp *mapper) coverage(in1 seg) order.Coverage {
	c := mp.coverageFields(in1.s)
	c.Start = mp.coverageDate(in1, 12, "plan effective date")
	c.End = mp.coverageDate(in1, 13, "plan expiration date")
	return c
}

// coverageDate reads a DT field of IN1 as an ISO date.
func (mp *mapper) coverageDate(in1 seg, field int, what string) string {
	raw := mp.first(in1.s.Field(field))
	if raw == "" {
		return ""
	}
	t, p, err := hl7.ParseTime(raw, time.UTC)
	if err != nil || p < hl7.PrecisionDay {
		mp.report("IN1", in1.occ, field, hl7.CodeDataType, hl7.SeverityWarning,
			where("IN1", in1.occ, field)+" "+what+" "+quote(raw)+" is not a date (YYYYMMDD); ignored")
		return ""
	}
	return t.Format(time.DateOnly)
}

func (mp *mapper) coverageFields(in1 hl7.Segment) order.Coverage {
	c := order.Coverage{
		Payer:     mp.first(in1.Field(3)),
		PayerName: mp.compText(in1.Field(4), 1),
		Plan:      mp.first(in1.Field(2)),
		PlanType:  mp.first(in1.Field(15)),
		Group:     mp.first(in1.Field(8)),
		MemberID:  mp.first(in1.Field(36)),
	}
	if c.MemberID == "" {
		c.MemberID = mp.first(in1.Field(49))
	}
	return c
}

// authNumber reads IN1-14.1 (authorization information, AUI: number^date^source). Values
// that senders use to say there is no number (NA, N/A, NAR "no authorization required",
// NONE, PENDING, UNK, TBD...) are reported and ignored: an authorization number lets an
// order through the prior-authorization gate, so a placeholder must not count as one.
func (mp *mapper) authNumber(in1 seg) string {
	n := mp.first(in1.s.Field(14))
	switch strings.ToUpper(n) {
	case "NA", "N/A", "NAR", "NONE", "NULL", "PENDING", "PEND", "UNK", "UNKNOWN", "TBD",
		"NOT REQUIRED", "NOT NEEDED", "NO AUTH", "0", "-":
		mp.report("IN1", in1.occ, 14, hl7.CodeDataType, hl7.SeverityInformation,
			where("IN1", in1.occ, 14)+" authorization number "+quote(n)+" is a placeholder, not a number; ignored")
		return ""
	}
	return n
}
