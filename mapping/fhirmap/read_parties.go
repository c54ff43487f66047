package fhirmap

import (
	"strconv"
	"strings"

	"github.com/radbridge/radbridge/mapping"
	"github.com/radbridge/radbridge/order"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// signature reads the Provenance signature of the request, else derives the signature
// from the requester and authoredOn.
func (rd *srReader) signature(sr *fhir.ServiceRequest, o *order.Order) order.Signature {
	for _, pv := range rd.provenances(sr) {
		for _, sg := range pv.Signature {
			t, ok := parseFHIRTime(sg.When)
			if !ok {
				continue
			}
			s := order.Signature{Time: t, Present: true, Signer: deref(sg.Who.Display)}
			if p, ok := rd.provider(&sg.Who, "relevantHistory", false); ok {
				s.SignerNPI = p.NPI
				if s.Signer == "" {
					s.Signer = mapping.SignerName(p)
				}
			}
			if pv.Activity != nil {
				for _, c := range pv.Activity.Coding {
					if deref(c.System) == systemV2Mode {
						s.Mode = deref(c.Code)
					}
				}
			}
			return s
		}
	}
	// The requester and authoredOn are the signature (DESIGN.md); when they are not both
	// given, the checks report it (signature.missing).
	s := order.Signature{Signer: mapping.SignerName(o.Provider), SignerNPI: o.Provider.NPI, Time: o.Authored}
	s.Present = s.Signer != "" && !s.Time.IsZero()
	return s
}

// provenances returns the Provenance resources about the request: those named in
// relevantHistory, then those among the related resources that target it.
func (rd *srReader) provenances(sr *fhir.ServiceRequest) []*fhir.Provenance {
	var out []*fhir.Provenance
	for i := range sr.RelevantHistory {
		if pv, ok := rd.rv.resolve(&sr.RelevantHistory[i]).(*fhir.Provenance); ok {
			out = append(out, pv)
		}
	}
	for _, r := range rd.rv.res {
		pv, ok := r.Resource.(*fhir.Provenance)
		if !ok {
			continue
		}
		for _, t := range pv.Target {
			if t.Reference != nil && rd.rv.targets(*t.Reference, sr) && !containsPtr(out, pv) {
				out = append(out, pv)
			}
		}
	}
	return out
}

func containsPtr[T any](list []*T, p *T) bool {
	for _, x := range list {
		if x == p {
			return true
		}
	}
	return false
}

// coverage reads one insurance reference.
func (rd *srReader) coverage(ref *fhir.Reference, i int) (order.Coverage, bool) {
	path := "insurance[" + strconv.Itoa(i) + "]"
	cv, ok := rd.rv.resolve(ref).(*fhir.Coverage)
	if !ok {
		c := order.Coverage{PayerName: deref(ref.Display)}
		if ref.Identifier != nil {
			c.MemberID = deref(ref.Identifier.Value)
		}
		if ref.Reference != nil {
			rd.is.add(FHIRInformation, FHIRCodeNotFound, path, "coverage "+quote(*ref.Reference)+
				" is not in the request or its Bundle: read as a logical reference")
		}
		return c, c != order.Coverage{}
	}
	c := order.Coverage{MemberID: deref(cv.SubscriberId)}
	if c.MemberID == "" {
		for _, id := range cv.Identifier {
			switch strings.ToUpper(typeCode(id.Type)) {
			case "MB", "SN":
				c.MemberID = firstOf(c.MemberID, deref(id.Value))
			}
		}
	}
	if len(cv.Payor) > 0 {
		c.Payer, c.PayerName = rd.payer(&cv.Payor[0])
	}
	if cv.Period != nil {
		c.Start = rd.periodDate(deref(cv.Period.Start), path+".period.start")
		c.End = rd.periodDate(deref(cv.Period.End), path+".period.end")
	}
	if cv.Type != nil {
		c.PlanType = deref(cv.Type.Text)
		for _, cd := range cv.Type.Coding {
			c.PlanType = firstOf(c.PlanType, deref(cd.Code))
		}
	}
	for _, cl := range cv.Class {
		for _, cd := range cl.Type.Coding {
			switch deref(cd.Code) {
			case "plan":
				c.Plan = firstOf(c.Plan, cl.Value)
			case "group":
				c.Group = firstOf(c.Group, cl.Value)
			}
		}
	}
	return c, true
}

// payer reads a payor reference: an Organization's first identifier and name, else the
// reference's identifier and display.
func (rd *srReader) payer(ref *fhir.Reference) (id, name string) {
	if org, ok := rd.rv.resolve(ref).(*fhir.Organization); ok {
		for _, x := range org.Identifier {
			if id = deref(x.Value); id != "" {
				break
			}
		}
		return id, deref(org.Name)
	}
	if ref.Identifier != nil {
		id = deref(ref.Identifier.Value)
	}
	return id, deref(ref.Display)
}

// authNumber reads the authorization number: a supportingInfo that names a
// ClaimResponse, by its type or because it resolves to one; the ClaimResponse's
// preAuthRef, else the reference's identifier value.
func (rd *srReader) authNumber(sr *fhir.ServiceRequest) string {
	for i := range sr.SupportingInfo {
		ref := &sr.SupportingInfo[i]
		if cr, ok := rd.rv.resolve(ref).(*fhir.ClaimResponse); ok {
			if n := deref(cr.PreAuthRef); n != "" {
				return n
			}
		}
		isCR := deref(ref.Type) == "ClaimResponse"
		if r := deref(ref.Reference); !isCR && r != "" {
			typ, _ := typeAndID(r)
			isCR = typ == "ClaimResponse"
		}
		if isCR && ref.Identifier != nil {
			if n := deref(ref.Identifier.Value); n != "" {
				return n
			}
		}
	}
	return ""
}
