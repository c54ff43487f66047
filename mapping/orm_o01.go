package mapping

import (
	"slices"
	"strings"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
)

// V2Order is one order read from an HL7 v2 order message.
type V2Order struct {
	// Order holds the mapped fields. Its Status is zero: the engine applies Control to
	// run the lifecycle. It shares no slice with any other V2Order.
	Order *order.Order
	// Control is the order control of the order's ORC: ORC-1 code, ORC-5 order status,
	// and the filler number (ORC-3.1, else OBR-3.1).
	Control order.Control
	// Occurrence says which segments the order came from, to locate findings.
	Occurrence Occurrence
}

// Occurrence locates an order's segments in its message. Occurrences count segments
// with the same ID from 1 (the second OBR of a message is OBR occurrence 2); 0 means the
// order has no such segment.
type Occurrence struct {
	// ORC is the occurrence of the order's ORC. Two orders share one when an ORC is
	// followed by two OBRs.
	ORC int `json:"orc,omitempty"`
	// OBR is the occurrence of the order's OBR.
	OBR int `json:"obr,omitempty"`
	// Detail is the ID of the order detail segment when it is not an OBR (RXO, ODS, ODT,
	// RQD, RQ1), and DetailOccurrence its occurrence.
	Detail           string `json:"detail,omitempty"`
	DetailOccurrence int    `json:"detail_occurrence,omitempty"`
}

// Locate returns l with the occurrence of the order's own ORC, OBR or detail segment,
// so that a finding at "OBR-4" reads "OBR(2)-4" for the second order. Other locations
// are returned unchanged.
func (o Occurrence) Locate(l hl7.Location) hl7.Location {
	n := 0
	switch {
	case l.Segment == "ORC":
		n = o.ORC
	case l.Segment == "OBR":
		n = o.OBR
	case l.Segment != "" && l.Segment == o.Detail:
		n = o.DetailOccurrence
	}
	if n > 0 {
		l.Occurrence = n
	}
	return l
}

// FromV2 maps an ORM^O01, OMI^O23 or OML^O21 message (HL7 v2.3 to v2.8) to one V2Order
// per order group, in message order, with the issues found on the way. It never fails:
// what cannot be mapped is left empty and reported as an issue (HL7 table 0357 codes),
// and a message of another type gives no orders and one issue (200). The package doc
// lists where each field comes from.
//
// FromV2 reads m and never retains it: the orders own all their data. It is safe for
// concurrent use.
func FromV2(m *hl7.Message) ([]V2Order, []hl7.Issue) {
	var issues []hl7.Issue
	msh := m.Segments()[0]
	switch typ := raw(msh.Field(9)); string(typ) {
	case "ORM", "OMI", "OML":
	default:
		return nil, append(issues, issue("MSH", 0, 9, hl7.CodeUnsupportedType, hl7.SeverityError,
			"message type "+quote(string(typ))+" is not an order message (ORM, OMI, OML)"))
	}
	v := checkVersion(msh, &issues)
	om := splitOrders(m, &issues)
	if len(om.groups) == 0 {
		return nil, append(issues, issue("ORC", 0, 0, hl7.CodeRequiredField, hl7.SeverityError,
			"message has no order group (ORC with OBR or another order detail segment)"))
	}
	sh := shared(msh, v, om, &issues)
	out := make([]V2Order, 0, len(om.groups))
	for i, g := range om.groups {
		out = append(out, mapOrder(sh, g, v, &issues))
		checkDuplicatePlacer(out[:i+1], &issues)
	}
	return out, issues
}

// checkVersion reads MSH-12 and warns about versions outside 2.3-2.8.
func checkVersion(msh hl7.Segment, issues *[]hl7.Issue) version {
	s := first(msh.Field(12))
	v := parseVersion(s)
	if v < 230 || v >= 290 {
		*issues = append(*issues, issue("MSH", 0, 12, hl7.CodeUnsupportedVersion, hl7.SeverityWarning,
			"version "+quote(s)+" is outside 2.3-2.8; mapped with the v2.5.1 field layout"))
	}
	return v
}

// sharedData is what every order of a message carries.
type sharedData struct {
	src       order.Source
	patient   order.Patient
	class     order.EncounterClass
	coverage  []order.Coverage
	authNo    string
	diagnoses []order.Diagnosis
	// sent is MSH-7, the authored time of orders without a valid ORC-9; sentIssue
	// reports a malformed MSH-7 the first time an order needs it.
	sent      time.Time
	sentIssue *hl7.Issue
}

func shared(msh hl7.Segment, v version, om orderMessage, issues *[]hl7.Issue) *sharedData {
	sh := &sharedData{src: source(msh)}
	sh.sent, sh.sentIssue = messageTime(msh)
	if om.pid.ok() {
		sh.patient = patient(om.pid.s, om.pid.occ, v, issues)
	}
	if om.pv1.ok() {
		sh.class = encounterClass(om.pv1.s, om.pv1.occ, issues)
	}
	if len(om.in1) > 0 {
		sh.coverage = make([]order.Coverage, 0, len(om.in1))
	}
	for _, in1 := range om.in1 {
		sh.coverage = append(sh.coverage, coverage(in1.s))
		if sh.authNo == "" {
			sh.authNo = authNumber(in1, issues)
		}
	}
	if len(om.dg1) > 0 {
		sh.diagnoses = make([]order.Diagnosis, 0, len(om.dg1))
	}
	for _, dg1 := range om.dg1 {
		if d, ok := diagnosis(dg1.s); ok {
			sh.diagnoses = addDiagnosis(sh.diagnoses, d)
		}
	}
	return sh
}

// source reads MSH-3 to MSH-6 and MSH-12. The sending facility is MSH-4.1, else its
// universal ID MSH-4.2, else the sending application MSH-3.1: orders are keyed by
// facility, and a sender that leaves MSH-4 empty is known by its application alone.
func source(msh hl7.Segment) order.Source {
	s := order.Source{
		Kind:              order.SourceV2,
		SendingApp:        comp(msh.Field(3), 1),
		SendingFacility:   comp(msh.Field(4), 1),
		ReceivingApp:      comp(msh.Field(5), 1),
		ReceivingFacility: comp(msh.Field(6), 1),
		Version:           first(msh.Field(12)),
	}
	if s.SendingFacility == "" {
		s.SendingFacility = comp(msh.Field(4), 2)
	}
	if s.SendingFacility == "" {
		s.SendingFacility = s.SendingApp
	}
	return s
}

func mapOrder(sh *sharedData, g orderGroup, v version, issues *[]hl7.Issue) V2Order {
	o := &order.Order{
		Source:         sh.src,
		Patient:        sh.patient,
		EncounterClass: sh.class,
		Coverage:       slices.Clone(sh.coverage),
	}
	o.Patient.Identifiers = slices.Clone(sh.patient.Identifiers)
	if len(sh.diagnoses) > 0 {
		// Room for the group's DG1 and OBR-31 diagnoses.
		o.Diagnoses = append(make([]order.Diagnosis, 0, len(sh.diagnoses)+2), sh.diagnoses...)
	}
	o.Authorization.Number = sh.authNo
	orc, det := g.orc.s, g.detail.s
	isOBR := g.name == "OBR"
	var obr hl7.Segment // the zero Segment reads as empty
	if isOBR {
		obr = det
	}

	// Numbers. An order that shares its ORC with the previous one is told apart by its
	// OBR numbers, so those come first for it.
	pick := func(orcField, obrField int) string {
		a, b := comp(orc.Field(orcField), 1), comp(obr.Field(obrField), 1)
		if g.inherited {
			a, b = b, a
		}
		if a != "" {
			return a
		}
		return b
	}
	o.Placer, o.Filler = pick(2, 2), pick(3, 3)
	o.PlacerGroup = comp(orc.Field(4), 1)
	o.ControlCode = strings.ToUpper(first(orc.Field(1)))
	o.Accession = comp(g.ipc.s.Field(1), 1)
	if o.Accession == "" {
		o.Accession = comp(obr.Field(18), 1)
	}
	if o.Placer == "" {
		*issues = append(*issues, missingPlacer(g))
	}
	switch {
	case !g.orc.ok():
		*issues = append(*issues, issue(g.name, g.detail.occ, 0, hl7.CodeSegmentSequence, hl7.SeverityError,
			where(g.name, g.detail.occ, 0)+" has no ORC: the order has no order control code"))
	case o.ControlCode == "" && !g.inherited:
		*issues = append(*issues, issue("ORC", g.orc.occ, 1, hl7.CodeRequiredField, hl7.SeverityError,
			where("ORC", g.orc.occ, 1)+" order control code is missing"))
	}

	// What was ordered, and why.
	switch {
	case isOBR:
		o.Procedure = obrProcedure(obr, g.detail.occ, issues)
	case g.detail.ok():
		o.Procedure = procedure(det.Field(detailField(g.name)))
	}
	if isOBR {
		o.Procedure.Modality = obrModality(raw(obr.Field(24)))
		o.Procedure.BodySite = bodySite(obr, v)
		o.Reason, o.Diagnoses = reasons(obr.Field(31), o.Diagnoses)
	}
	if m := first(g.ipc.s.Field(5)); m != "" {
		o.Procedure.Modality = ipcModality(m)
	}
	for _, dg1 := range g.dg1 {
		if d, ok := diagnosis(dg1.s); ok {
			o.Diagnoses = addDiagnosis(o.Diagnoses, d)
		}
	}
	o.Priority = priority(g, obr, issues)

	// Who ordered it, when, and the signature.
	prov, ok := provider(orc.Field(12))
	if !ok {
		prov, ok = provider(obr.Field(16))
	}
	o.Provider = prov
	signed := authored(orc, g.orc.occ, issues)
	o.Authored = signed
	if o.Authored.IsZero() {
		o.Authored = sh.sent
		if sh.sentIssue != nil {
			*issues = append(*issues, *sh.sentIssue)
			sh.sentIssue = nil
		}
	}
	o.Signature = order.Signature{Mode: first(orc.Field(30)), Time: signed}
	if ok {
		o.Signature.Signer, o.Signature.SignerNPI = signerName(prov), prov.NPI
	}
	o.Signature.Present = o.Signature.Signer != "" && !signed.IsZero()

	return V2Order{
		Order:      o,
		Control:    order.Control{Code: o.ControlCode, OrderStatus: strings.ToUpper(first(orc.Field(5))), Filler: o.Filler},
		Occurrence: occurrence(g),
	}
}

// obrProcedure reads OBR-4. OBR-44 (procedure code, in the US a CPT code) stands in
// when OBR-4 is empty, and supplies the CPT code when OBR-4 has none.
func obrProcedure(obr hl7.Segment, occ int, issues *[]hl7.Issue) order.Procedure {
	p := procedure(obr.Field(4))
	alt := procedure(obr.Field(44))
	if p.Code == "" && p.Text == "" {
		msg, sev := " universal service identifier is missing", hl7.SeverityError
		if alt.Code != "" || alt.Text != "" {
			p = alt
			msg, sev = msg+"; procedure taken from OBR-44", hl7.SeverityWarning
		}
		*issues = append(*issues, issue("OBR", occ, 4, hl7.CodeRequiredField, sev, where("OBR", occ, 4)+msg))
	}
	if p.CPT == "" {
		p.CPT = alt.CPT
	}
	return p
}

func occurrence(g orderGroup) Occurrence {
	oc := Occurrence{ORC: g.orc.occ}
	switch {
	case g.name == "OBR":
		oc.OBR = g.detail.occ
	case g.detail.ok():
		oc.Detail, oc.DetailOccurrence = g.name, g.detail.occ
	}
	return oc
}

func missingPlacer(g orderGroup) hl7.Issue {
	if g.orc.ok() && !g.inherited {
		return issue("ORC", g.orc.occ, 2, hl7.CodeRequiredField, hl7.SeverityError,
			where("ORC", g.orc.occ, 2)+" placer order number is missing (and OBR-2 too)")
	}
	return issue(g.name, g.detail.occ, 2, hl7.CodeRequiredField, hl7.SeverityError,
		where(g.name, g.detail.occ, 2)+" placer order number is missing")
}

// checkDuplicatePlacer reports the last order when an earlier order of the same message
// has its placer number: the engine keys orders by placer number.
func checkDuplicatePlacer(out []V2Order, issues *[]hl7.Issue) {
	last := out[len(out)-1]
	p := last.Order.Placer
	if p == "" {
		return
	}
	for _, o := range out[:len(out)-1] {
		if o.Order.Placer == p {
			l := last.Occurrence.Locate(hl7.Location{Segment: "ORC", Field: 2})
			if last.Occurrence.ORC == 0 || last.Occurrence.ORC == o.Occurrence.ORC {
				l = last.Occurrence.Locate(hl7.Location{Segment: "OBR", Field: 2})
			}
			*issues = append(*issues, hl7.Issue{Location: l, Code: hl7.CodeDuplicateKey, Severity: hl7.SeverityError,
				Text: "placer order number " + quote(p) + " is used by two orders of this message"})
			return
		}
	}
}

// priority reads the first valued of TQ1-9, ORC-7.6, OBR-27.6 and OBR-5 (the v2.3
// priority field) that order.ParsePriority understands; each valued one it does not
// understand gives an informational issue.
func priority(g orderGroup, obr hl7.Segment, issues *[]hl7.Issue) order.Priority {
	type src struct {
		loc hl7.Location
		v   hl7.Value
	}
	srcs := [...]src{
		{hl7.Location{Segment: "TQ1", Occurrence: g.tq1.occ, Field: 9}, g.tq1.s.Field(9).Component(1)},
		{hl7.Location{Segment: "ORC", Occurrence: g.orc.occ, Field: 7, Component: 6}, g.orc.s.Field(7).Component(6)},
		{hl7.Location{Segment: "OBR", Occurrence: g.detail.occ, Field: 27, Component: 6}, obr.Field(27).Component(6)},
		{hl7.Location{Segment: "OBR", Occurrence: g.detail.occ, Field: 5}, obr.Field(5)},
	}
	for _, s := range srcs {
		raw := first(s.v)
		if raw == "" {
			continue
		}
		if p, ok := order.ParsePriority(raw); ok {
			return p
		}
		*issues = append(*issues, hl7.Issue{Location: s.loc, Code: hl7.CodeTableValue, Severity: hl7.SeverityInformation,
			Text: s.loc.String() + " priority " + quote(raw) + " is not in HL7 table 0027; ignored"})
	}
	return order.PriorityUnset
}

// authored reads ORC-9; a malformed value is reported and read as empty.
func authored(orc hl7.Segment, occ int, issues *[]hl7.Issue) time.Time {
	t, _, ok := readTime(orc.Field(9))
	if !ok {
		*issues = append(*issues, issue("ORC", occ, 9, hl7.CodeDataType, hl7.SeverityWarning,
			where("ORC", occ, 9)+" date/time of transaction "+quote(text(orc.Field(9).Component(1)))+
				" is not a valid timestamp; authored time taken from MSH-7, no signature time"))
	}
	return t
}

// messageTime reads MSH-7; a malformed value reads as the zero time, with an issue.
func messageTime(msh hl7.Segment) (time.Time, *hl7.Issue) {
	t, _, ok := readTime(msh.Field(7))
	if !ok {
		is := issue("MSH", 0, 7, hl7.CodeDataType, hl7.SeverityWarning,
			"MSH-7 date/time of message "+quote(text(msh.Field(7).Component(1)))+" is not a valid timestamp; no authored time")
		return t, &is
	}
	return t, nil
}
