package mapping

import (
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
)

// ResultOrder is a result of an ORU^R01 with the order it reports on, as the message
// describes that order.
type ResultOrder struct {
	V2Result
	// Order is the order as the ORU^R01 describes it (see [ResultOrdersFromV2]). It
	// shares no slice with any other ResultOrder.
	Order *order.Order
}

// ResultOrdersFromV2 maps an ORU^R01 message as [ResultsFromV2] does, and adds to each
// result the order it reports on as the message describes it, for a converter that
// writes the order too (fhirmap.V2ToBundle):
//
//	Source          Kind v2, sent by the ORU's receiver: SendingApp MSH-5.1,
//	                SendingFacility MSH-6.1, ReceivingApp MSH-3.1, ReceivingFacility
//	                MSH-4.1 (each as FromV2 reads its counterpart); Version MSH-12.1
//	Placer, Filler, Accession
//	                the result's
//	Patient         the PID before the OBR, as FromV2 reads it
//	EncounterClass  PV1-2 of the last PV1 after that PID
//	Procedure       OBR-4 (else OBR-44) as FromV2 reads it; Modality OBR-24, BodySite
//	                OBR-15.4 or OBR-46
//	Reason          OBR-31, with its ICD-10 coded repetitions as Diagnoses
//	Provider        ORC-12, else OBR-16
//
// The issues are those of ResultsFromV2 and of reading these fields, without
// duplicates. A message ResultsFromV2 finds no result in gives none and its issues. It
// reads m without retaining it, and is safe for concurrent use.
func ResultOrdersFromV2(m *hl7.Message) ([]ResultOrder, []hl7.Issue) {
	results, issues := ResultsFromV2(m)
	if len(results) == 0 {
		return nil, issues
	}
	mp := newMapper(m)
	msh := m.Segments()[0]
	// The order was sent by the result's receiver: its placer.
	rs := mp.source(msh)
	src := order.Source{Kind: order.SourceV2, SendingApp: rs.ReceivingApp, SendingFacility: rs.ReceivingFacility,
		ReceivingApp: rs.SendingApp, ReceivingFacility: rs.SendingFacility, Version: rs.Version}
	ctx := resultContexts(m)
	out := make([]ResultOrder, 0, len(results))
	for i, g := range mp.splitResults(m) {
		if i >= len(results) {
			break
		}
		vr := results[i]
		o := &order.Order{Source: src, Placer: vr.Placer, Filler: vr.Filler, Accession: vr.Accession}
		if g.pid.ok() {
			o.Patient = mp.patient(g.pid.s, g.pid.occ)
		}
		if pv1 := ctx[g.obr.occ]; pv1.ok() {
			o.EncounterClass = mp.encounterClass(pv1.s, pv1.occ)
		}
		obr := g.obr.s
		o.Procedure = mp.obrProcedure(obr, g.obr.occ)
		o.Procedure.Modality = obrModality(mp.raw(obr.Field(24), 1))
		o.Procedure.BodySite = mp.bodySite(obr)
		o.Reason, o.Diagnoses = mp.reasons(obr.Field(31), nil)
		prov, ok := mp.provider(g.orc.s.Field(12))
		if !ok {
			prov, _ = mp.provider(obr.Field(16))
		}
		o.Provider = prov
		out = append(out, ResultOrder{V2Result: vr, Order: o})
	}
	return out, dedupe(append(issues, mp.issues...))
}

// resultContexts returns, for each OBR occurrence, the PV1 of its patient: the last PV1
// after the PID that precedes the OBR.
func resultContexts(m *hl7.Message) map[int]seg {
	out := map[int]seg{}
	var cnt counter
	var pv1 seg
	for _, s := range m.Segments()[1:] {
		name := s.Name()
		occ := cnt.next(name)
		switch name {
		case "PID":
			pv1 = seg{}
		case "PV1":
			pv1 = seg{s: s, occ: occ}
		case "OBR":
			out[occ] = pv1
		}
	}
	return out
}
