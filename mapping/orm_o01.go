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
	Order *order.Order `json:"order"`
	// Control is the order control of the order's ORC: ORC-1 code, ORC-5 order status,
	// and the filler number (ORC-3.1, else OBR-3.1).
	Control order.Control `json:"control"`
	// Occurrence says which segments the order came from, to locate findings.
	Occurrence Occurrence `json:"occurrence"`
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
// FromV2 reads m and never retains it: the orders' strings share one copy of the
// message text, made here, and nothing refers to the bytes m was parsed from. It is safe
// for concurrent use.
func FromV2(m *hl7.Message) ([]V2Order, []hl7.Issue) {
	mp := newMapper(m)
	msh := m.Segments()[0]
	switch typ := mp.raw(msh.Field(9), 1); string(typ) {
	case "ORM", "OMI", "OML":
	default:
		mp.report("MSH", 0, 9, hl7.CodeUnsupportedType, hl7.SeverityError,
			"message type "+quote(string(typ))+" is not an order message (ORM, OMI, OML)")
		return nil, mp.issues
	}
	mp.shareText(m)
	src := mp.source(msh)
	om := mp.splitOrders(m)
	if len(om.groups) == 0 {
		mp.report("ORC", 0, 0, hl7.CodeRequiredField, hl7.SeverityError,
			"message has no order group (ORC with OBR or another order detail segment)")
		return nil, mp.issues
	}
	sh := mp.shared(msh, src, om)
	out := make([]V2Order, 0, len(om.groups))
	for i, g := range om.groups {
		out = append(out, mp.mapOrder(sh, g))
		mp.checkDuplicatePlacer(out[:i+1])
	}
	return out, dedupe(mp.issues)
}

// dedupe drops repeated issues, such as those of an ORC that two orders share.
func dedupe(issues []hl7.Issue) []hl7.Issue {
	out := issues[:0]
	for _, is := range issues {
		if !slices.Contains(out, is) {
			out = append(out, is)
		}
	}
	return out
}

// setVersion reads MSH-12 and warns about versions outside 2.3-2.8.
func (mp *mapper) setVersion(s string) {
	mp.v = parseVersion(s)
	if mp.v < 230 || mp.v >= 290 {
		mp.report("MSH", 0, 12, hl7.CodeUnsupportedVersion, hl7.SeverityWarning,
			"version "+quote(s)+" is outside 2.3-2.8; mapped with the v2.5.1 field layout")
	}
}

// sharedData is what every order of a message carries.
type sharedData struct {
	src       order.Source
	patient   order.Patient
	class     order.EncounterClass
	setting   order.Setting
	performer order.Facility
	coverage  []order.Coverage
	authNo    string
	diagnoses []order.Diagnosis
	// sent is MSH-7, the authored time of orders without a valid ORC-9; sentIssue
	// reports a malformed MSH-7 the first time an order needs it.
	sent      time.Time
	sentIssue *hl7.Issue
}

func (mp *mapper) shared(msh hl7.Segment, src order.Source, om *orderMessage) *sharedData {
	sh := &sharedData{src: src}
	sh.sent, sh.sentIssue = mp.messageTime(msh)
	if om.pid.ok() {
		sh.patient = mp.patient(om.pid.s, om.pid.occ)
	}
	if om.pv1.ok() {
		sh.class = mp.encounterClass(om.pv1.s, om.pv1.occ)
		sh.setting = mp.setting(om.pv1.s, om.pv1.occ)
	}
	// The performing facility: the receiving facility, MSH-6, else PV1-3.4, each as an
	// HD name^NPI^NPI (DESIGN.md, "Prior authorization with payers").
	msh6 := msh.Field(6)
	sh.performer = facilityNPI(mp.comp(msh6, 1), mp.comp(msh6, 2), mp.comp(msh6, 3))
	if sh.performer == (order.Facility{}) && om.pv1.ok() {
		pl := om.pv1.s.Field(3)
		sh.performer = facilityNPI(mp.get(pl, 4, 1), mp.get(pl, 4, 2), mp.get(pl, 4, 3))
	}
	if len(om.in1) > 0 {
		sh.coverage = make([]order.Coverage, 0, len(om.in1))
	}
	for _, in1 := range om.in1 {
		sh.coverage = append(sh.coverage, mp.coverage(in1))
		if sh.authNo == "" {
			sh.authNo = mp.authNumber(in1)
		}
	}
	if len(om.dg1) > 0 {
		sh.diagnoses = make([]order.Diagnosis, 0, len(om.dg1))
	}
	for _, dg1 := range om.dg1 {
		if d, ok := mp.diagnosis(dg1.s); ok {
			sh.diagnoses = AddDiagnosis(sh.diagnoses, d)
		}
	}
	return sh
}

// source reads MSH-3 to MSH-6 and MSH-12, and sets the mapper's version. The sending
// facility is MSH-4.1, else its universal ID MSH-4.2, else the sending application
// MSH-3.1: orders are keyed by facility, and a sender that leaves MSH-4 empty is known
// by its application alone.
func (mp *mapper) source(msh hl7.Segment) order.Source {
	s := order.Source{
		Kind:              order.SourceV2,
		SendingApp:        mp.comp(msh.Field(3), 1),
		SendingFacility:   mp.comp(msh.Field(4), 1),
		ReceivingApp:      mp.comp(msh.Field(5), 1),
		ReceivingFacility: mp.comp(msh.Field(6), 1),
		Version:           mp.first(msh.Field(12)),
	}
	mp.setVersion(s.Version)
	if s.SendingFacility == "" {
		s.SendingFacility = mp.comp(msh.Field(4), 2)
	}
	if s.SendingFacility == "" {
		s.SendingFacility = s.SendingApp
	}
	return s
}

func (mp *mapper) mapOrder(sh *sharedData, g orderGroup) V2Order {
	o := &order.Order{
		Source:         sh.src,
		Patient:        sh.patient,
		EncounterClass: sh.class,
		Setting:        sh.setting,
		Performer:      sh.performer,
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
		a, b := orc.Field(orcField), obr.Field(obrField)
		if g.inherited {
			a, b = b, a
		}
		if s := mp.comp(a, 1); s != "" {
			return s
		}
		return mp.comp(b, 1)
	}
	o.Placer, o.Filler = pick(2, 2), pick(3, 3)
	o.PlacerGroup = mp.comp(orc.Field(4), 1)
	o.ControlCode = strings.ToUpper(mp.first(orc.Field(1)))
	o.Accession = mp.comp(g.ipc.s.Field(1), 1)
	if o.Accession == "" {
		o.Accession = mp.comp(obr.Field(18), 1)
	}
	mp.checkGroup(g, o)

	// What was ordered, and why.
	switch {
	case isOBR:
		o.Procedure = mp.obrProcedure(obr, g.detail.occ)
		o.Procedure.Modality = obrModality(mp.raw(obr.Field(24), 1))
		o.Procedure.BodySite = mp.bodySite(obr)
		o.Reason, o.Diagnoses = mp.reasons(obr.Field(31), o.Diagnoses)
	case g.detail.ok():
		o.Procedure = mp.procedure(det.Field(detailField(g.name)))
	}
	if m := mp.first(g.ipc.s.Field(5)); m != "" {
		o.Procedure.Modality = DICOMModality(m)
	}
	for _, dg1 := range g.dg1 {
		if d, ok := mp.diagnosis(dg1.s); ok {
			o.Diagnoses = AddDiagnosis(o.Diagnoses, d)
		}
	}
	o.Priority = mp.priority(g, obr)
	o.Requested = mp.requested(g, obr)

	// Who ordered it, when, and the signature.
	prov, ok := mp.provider(orc.Field(12))
	if !ok {
		prov, ok = mp.provider(obr.Field(16))
	}
	o.Provider = prov
	signed := mp.authored(orc, g.orc.occ)
	o.Authored = signed
	if o.Authored.IsZero() {
		o.Authored = sh.sent
		if sh.sentIssue != nil {
			mp.issues = append(mp.issues, *sh.sentIssue)
			sh.sentIssue = nil
		}
	}
	o.Signature = order.Signature{Mode: mp.first(orc.Field(30)), Time: signed}
	if ok {
		o.Signature.Signer, o.Signature.SignerNPI = SignerName(prov), prov.NPI
	}
	o.Signature.Present = o.Signature.Signer != "" && !signed.IsZero()

	return V2Order{
		Order: o,
		Control: order.Control{Code: o.ControlCode, OrderStatus: strings.ToUpper(mp.first(orc.Field(5))),
			Filler: o.Filler},
		Occurrence: occurrence(g),
	}
}

// checkGroup reports an order without placer number or order control code.
func (mp *mapper) checkGroup(g orderGroup, o *order.Order) {
	if o.Placer == "" {
		if g.orc.ok() && !g.inherited {
			mp.report("ORC", g.orc.occ, 2, hl7.CodeRequiredField, hl7.SeverityError,
				where("ORC", g.orc.occ, 2)+" placer order number is missing (and OBR-2 too)")
		} else {
			mp.report(g.name, g.detail.occ, 2, hl7.CodeRequiredField, hl7.SeverityError,
				where(g.name, g.detail.occ, 2)+" placer order number is missing")
		}
	}
	switch {
	case !g.orc.ok():
		mp.report(g.name, g.detail.occ, 0, hl7.CodeSegmentSequence, hl7.SeverityError,
			where(g.name, g.detail.occ, 0)+" has no ORC: the order has no order control code")
	case o.ControlCode == "" && !g.inherited:
		mp.report("ORC", g.orc.occ, 1, hl7.CodeRequiredField, hl7.SeverityError,
			where("ORC", g.orc.occ, 1)+" order control code is missing")
	}
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

// checkDuplicatePlacer reports the last order when an earlier order of the same message
// has its placer number: the engine keys orders by placer number.
func (mp *mapper) checkDuplicatePlacer(out []V2Order) {
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
			mp.issues = append(mp.issues, hl7.Issue{Location: l, Code: hl7.CodeDuplicateKey, Severity: hl7.SeverityError,
				Text: "placer order number " + quote(p) + " is used by two orders of this message"})
			return
		}
	}
}

// priority reads the first valued of TQ1-9, ORC-7.6, OBR-27.6 and OBR-5 (the v2.3
// priority field) that order.ParsePriority understands; each valued one it does not
// understand gives an informational issue.
func (mp *mapper) priority(g orderGroup, obr hl7.Segment) order.Priority {
	type src struct {
		loc hl7.Location
		v   hl7.Value
		n   int // component
	}
	srcs := [...]src{
		{hl7.Location{Segment: "TQ1", Occurrence: g.tq1.occ, Field: 9}, g.tq1.s.Field(9), 1},
		{hl7.Location{Segment: "ORC", Occurrence: g.orc.occ, Field: 7, Component: 6}, g.orc.s.Field(7), 6},
		{hl7.Location{Segment: "OBR", Occurrence: g.detail.occ, Field: 27, Component: 6}, obr.Field(27), 6},
		{hl7.Location{Segment: "OBR", Occurrence: g.detail.occ, Field: 5}, obr.Field(5), 1},
	}
	for _, s := range srcs {
		raw := mp.comp(s.v, s.n)
		if raw == "" {
			continue
		}
		if p, ok := order.ParsePriority(raw); ok {
			return p
		}
		mp.issues = append(mp.issues, hl7.Issue{Location: s.loc, Code: hl7.CodeTableValue,
			Severity: hl7.SeverityInformation,
			Text:     s.loc.String() + " priority " + quote(raw) + " is not in HL7 table 0027; ignored"})
	}
	return order.PriorityUnset
}

// requested reads when the exam is asked for: the first valued of TQ1-7 (start
// date/time), ORC-7.4 and OBR-27.4 (quantity/timing start date/time) and OBR-6
// (requested date/time, kept for backward compatibility). A malformed one is reported
// and skipped.
func (mp *mapper) requested(g orderGroup, obr hl7.Segment) time.Time {
	srcs := [...]struct {
		seg     string
		occ     int
		field   int
		comp    int
		v       hl7.Value
		present bool
	}{
		{"TQ1", g.tq1.occ, 7, 1, g.tq1.s.Field(7), g.tq1.ok()},
		{"ORC", g.orc.occ, 7, 4, g.orc.s.Field(7), g.orc.ok()},
		{"OBR", g.detail.occ, 27, 4, obr.Field(27), true},
		{"OBR", g.detail.occ, 6, 1, obr.Field(6), true},
	}
	for _, s := range srcs {
		raw := mp.comp(s.v, s.comp)
		if raw == "" || !s.present {
			continue
		}
		t, _, err := hl7.ParseTime(raw, time.UTC)
		if err == nil {
			return t
		}
		loc := hl7.Location{Segment: s.seg, Occurrence: s.occ, Field: s.field}
		if s.comp > 1 {
			loc.Component = s.comp
		}
		mp.issues = append(mp.issues, hl7.Issue{Location: loc, Code: hl7.CodeDataType, Severity: hl7.SeverityWarning,
			Text: loc.String() + " requested date/time " + quote(raw) + " is not a valid timestamp; ignored"})
	}
	return time.Time{}
}

// authored reads ORC-9; a malformed value is reported and read as empty.
func (mp *mapper) authored(orc hl7.Segment, occ int) time.Time {
	t, _, ok := mp.readTime(orc.Field(9))
	if !ok {
		mp.report("ORC", occ, 9, hl7.CodeDataType, hl7.SeverityWarning,
			where("ORC", occ, 9)+" date/time of transaction "+quote(mp.comp(orc.Field(9), 1))+
				" is not a valid timestamp; authored time taken from MSH-7, no signature time")
	}
	return t
}

// messageTime reads MSH-7; a malformed value reads as the zero time, with an issue for
// the caller to report when it uses the value.
func (mp *mapper) messageTime(msh hl7.Segment) (time.Time, *hl7.Issue) {
	t, _, ok := mp.readTime(msh.Field(7))
	if !ok {
		return t, &hl7.Issue{Location: hl7.Location{Segment: "MSH", Field: 7}, Code: hl7.CodeDataType,
			Severity: hl7.SeverityWarning,
			Text:     "MSH-7 date/time of message " + quote(mp.comp(msh.Field(7), 1)) + " is not a valid timestamp; no authored time"}
	}
	return t, nil
}
