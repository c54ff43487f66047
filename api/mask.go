package api

import (
	"net/http"

	"github.com/radbridge/radbridge/auth"
	"github.com/radbridge/radbridge/order"
)

// masked stands in for patient identity and raw messages shown to a caller without
// auth.ScopePHIRead.
const masked = "(masked: needs " + auth.ScopePHIRead + ")"

// seesPHI reports whether r's caller may see patient identity and raw messages.
func seesPHI(r *http.Request) bool {
	return auth.FromContext(r.Context()).Has(auth.ScopePHIRead)
}

// maskOrder returns a copy of o without what identifies its patient: the patient's
// names, identifiers and birth date, coverage member ids, and the results' narrative
// text, text observation values and rendered documents, which carry the patient's name
// as often as not. Codes, statuses, the procedure and the history remain.
func maskOrder(o *order.Order) *order.Order {
	m := o.Clone()
	p := &m.Patient
	for i := range p.Identifiers {
		p.Identifiers[i].Value = masked
	}
	p.Family, p.Given, p.Middle = maskSet(p.Family), maskSet(p.Given), maskSet(p.Middle)
	p.BirthDate = maskSet(p.BirthDate)
	for i := range m.Coverage {
		m.Coverage[i].MemberID = maskSet(m.Coverage[i].MemberID)
	}
	for i := range m.Results {
		res := &m.Results[i]
		res.Text = maskSet(res.Text)
		for j := range res.Observations {
			if ob := &res.Observations[j]; textValue(ob.ValueType) {
				ob.Value = maskSet(ob.Value)
			}
		}
		for j := range res.Presented {
			res.Presented[j].Data = nil
			res.Presented[j].Title = maskSet(res.Presented[j].Title)
		}
	}
	return m
}

// maskSet masks s unless it is empty, so that what was absent stays absent.
func maskSet(s string) string {
	if s == "" {
		return ""
	}
	return masked
}

// textValue reports whether an observation of v2 data type typ holds free text.
func textValue(typ string) bool {
	switch typ {
	case "TX", "FT", "ST", "ED", "":
		return true
	}
	return false
}
