package mapping

import (
	"slices"
	"strings"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
)

// V2Result is one report read from an ORU^R01 message: an OBR with its OBX segments.
type V2Result struct {
	// Placer, Filler and Accession are the numbers that find the order: OBR-2.1 (else
	// ORC-2.1), OBR-3.1 (else ORC-3.1) and OBR-18.1.
	Placer    string `json:"placer,omitempty"`
	Filler    string `json:"filler,omitempty"`
	Accession string `json:"accession,omitempty"`
	// PatientIDs are the identifiers of the PID that precedes the OBR (PID-3, and PID-2
	// for v2.3.1 and earlier), to check that the report is for the order's patient.
	PatientIDs []order.Identifier `json:"patient_ids,omitempty"`
	// Result is the report; its MessageID is left for the engine to set.
	Result order.Result `json:"result"`
	// Occurrence is the occurrence of the result's OBR (1 for the first OBR).
	Occurrence int `json:"occurrence"`
}

// resultGroup is an OBR with the ORC before it and its OBX segments.
type resultGroup struct {
	orc, obr seg
	pid      seg
	obx      []seg
}

// ResultsFromV2 maps an ORU^R01 message (HL7 v2.3 to v2.8) to one V2Result per OBR, in
// message order, with the issues found on the way. Like [FromV2] it never fails, reads
// m without retaining it, and is safe for concurrent use; a message that is not an ORU
// gives no results and one issue (200).
func ResultsFromV2(m *hl7.Message) ([]V2Result, []hl7.Issue) {
	mp := newMapper(m)
	msh := m.Segments()[0]
	if typ := mp.raw(msh.Field(9), 1); string(typ) != "ORU" {
		mp.report("MSH", 0, 9, hl7.CodeUnsupportedType, hl7.SeverityError,
			"message type "+quote(string(typ))+" is not a result message (ORU)")
		return nil, mp.issues
	}
	mp.setVersion(mp.first(msh.Field(12)))
	groups := mp.splitResults(m)
	if len(groups) == 0 {
		mp.report("OBR", 0, 0, hl7.CodeRequiredField, hl7.SeverityError, "message has no OBR segment")
		return nil, mp.issues
	}
	sent, sentIssue := mp.messageTime(msh)
	out := make([]V2Result, 0, len(groups))
	var pidOcc int
	var ids []order.Identifier
	for _, g := range groups {
		if g.pid.occ != pidOcc {
			pidOcc, ids = g.pid.occ, nil
			if g.pid.ok() {
				ids = mp.patientIDs(g.pid.s)
			}
		}
		r := mp.mapResult(g)
		r.PatientIDs = slices.Clone(ids)
		if r.Result.Issued.IsZero() {
			r.Result.Issued = sent
			if sentIssue != nil {
				mp.issues = append(mp.issues, *sentIssue)
				sentIssue = nil
			}
		}
		out = append(out, r)
	}
	return out, dedupe(mp.issues)
}

// splitResults groups the segments: each OBR starts a group, which takes the ORC just
// before it (when no OBR came between them), the latest PID, and the OBX segments up to
// the next ORC or OBR. OBX segments before the first OBR are reported and skipped.
func (mp *mapper) splitResults(m *hl7.Message) []resultGroup {
	var groups []resultGroup
	var cnt counter
	var pid, orc seg
	cur := -1
	for _, s := range m.Segments()[1:] {
		name := s.Name()
		sg := seg{s: s, occ: cnt.next(name)}
		switch name {
		case "PID":
			pid, orc, cur = sg, seg{}, -1
		case "ORC":
			orc, cur = sg, -1
		case "OBR":
			groups = append(groups, resultGroup{orc: orc, obr: sg, pid: pid})
			orc, cur = seg{}, len(groups)-1
		case "OBX":
			if cur < 0 {
				mp.report("OBX", sg.occ, 0, hl7.CodeSegmentSequence, hl7.SeverityWarning,
					where("OBX", sg.occ, 0)+" is not preceded by an OBR: not mapped")
				continue
			}
			groups[cur].obx = append(groups[cur].obx, sg)
		}
	}
	return groups
}

func (mp *mapper) mapResult(g resultGroup) V2Result {
	obr, orc, occ := g.obr.s, g.orc.s, g.obr.occ
	num := func(n int) string {
		if s := mp.comp(obr.Field(n), 1); s != "" {
			return s
		}
		return mp.comp(orc.Field(n), 1)
	}
	r := V2Result{Placer: num(2), Filler: num(3), Accession: mp.comp(obr.Field(18), 1), Occurrence: occ}
	res := &r.Result
	res.ID = resultID(r.Placer, r.Filler, r.Accession, occ)
	if s := mp.first(obr.Field(25)); s == "" {
		mp.report("OBR", occ, 25, hl7.CodeRequiredField, hl7.SeverityError,
			where("OBR", occ, 25)+" result status is missing")
	} else if st, ok := order.ParseResultStatus(s); ok {
		res.Status = st
	} else {
		mp.report("OBR", occ, 25, hl7.CodeTableValue, hl7.SeverityError,
			where("OBR", occ, 25)+" result status "+quote(s)+" is not a result (table 0123: P, A, R, F, U, C, X, W, D)")
	}
	if p, ok := mp.interpreter(obr.Field(32)); ok {
		res.Interpreter = p
	}
	res.Issued = mp.issued(g)

	var narrative strings.Builder
	lines := 0
	for _, obx := range g.obx {
		o, att, isText := mp.observation(obx)
		res.Observations = append(res.Observations, o)
		if att != nil {
			res.Presented = append(res.Presented, *att)
		}
		if isText {
			if lines > 0 {
				narrative.WriteByte('\n')
			}
			narrative.WriteString(o.Value)
			lines++
		}
	}
	res.Text = strings.Trim(narrative.String(), "\n")
	return r
}

// resultID identifies a report across versions: the filler order number, else the
// accession number, else the placer number and the OBR occurrence ("PL1#1"), else "".
func resultID(placer, filler, accession string, occ int) string {
	switch {
	case filler != "":
		return filler
	case accession != "":
		return accession
	case placer != "":
		return placer + "#" + itoa(occ)
	}
	return ""
}

// issued reads OBR-22, else the first valued OBX-14 of the group; malformed values are
// reported and skipped. The caller falls back to MSH-7.
func (mp *mapper) issued(g resultGroup) time.Time {
	t, _, ok := mp.readTime(g.obr.s.Field(22))
	if !ok {
		mp.report("OBR", g.obr.occ, 22, hl7.CodeDataType, hl7.SeverityWarning,
			where("OBR", g.obr.occ, 22)+" results report date/time "+quote(mp.comp(g.obr.s.Field(22), 1))+
				" is not a valid timestamp")
	}
	for _, obx := range g.obx {
		if !t.IsZero() {
			break
		}
		var ok bool
		if t, _, ok = mp.readTime(obx.s.Field(14)); !ok {
			mp.report("OBX", obx.occ, 14, hl7.CodeDataType, hl7.SeverityWarning,
				where("OBX", obx.occ, 14)+" observation date/time "+quote(mp.comp(obx.s.Field(14), 1))+
					" is not a valid timestamp")
		}
	}
	return t
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}
