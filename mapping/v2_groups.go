package mapping

import (
	"github.com/radbridge/radbridge/hl7"
)

// seg is a segment with its occurrence number (1 = the first segment with its ID).
type seg struct {
	s   hl7.Segment
	occ int
}

func (s seg) ok() bool { return s.occ > 0 }

// orderGroup is one order of an ORM^O01, OMI^O23 or OML^O21: an ORC and its order detail
// segment, with the group-level segments that follow them.
type orderGroup struct {
	orc seg
	// inherited is set when the ORC belongs to the previous group: a second OBR after
	// one ORC starts an order of its own that shares the ORC.
	inherited bool
	detail    seg    // OBR, or RXO, ODS, ODT, RQD, RQ1
	name      string // the detail segment's ID
	tq1, ipc  seg    // the first of each in the group
	dg1       []seg
}

// orderMessage is an order message split into what all its orders share and the
// orders themselves.
type orderMessage struct {
	pid, pv1 seg
	in1      []seg
	dg1      []seg // DG1 before the first order group: every order's
	groups   []orderGroup
	// Room for the usual counts, so that a typical message needs one allocation.
	in1Buf, dg1Buf [4]seg
	groupBuf       [2]orderGroup
}

// splitOrders walks the segments once. An ORC starts a group; an order detail segment
// joins the current group, or starts a new one when the group already has a detail
// (sharing its ORC) or there is no group yet. PID, PV1, IN1 and DG1 before the first
// group are shared. DG1, TQ1 and IPC inside a group belong to it. A PID after the first
// group (OML prior results, or a second patient, which ORM does not allow) ends the
// walk with a warning: what follows would be attributed to the wrong patient.
func (mp *mapper) splitOrders(m *hl7.Message) *orderMessage {
	om := new(orderMessage)
	om.in1, om.dg1, om.groups = om.in1Buf[:0], om.dg1Buf[:0], om.groupBuf[:0]
	var cnt counter
	cur := -1
	for _, s := range m.Segments()[1:] {
		name := s.Name()
		sg := seg{s: s, occ: cnt.next(name)}
		switch {
		case name == "ORC":
			om.groups = append(om.groups, orderGroup{orc: sg})
			cur = len(om.groups) - 1
		case detailField(name) > 0:
			if cur < 0 || om.groups[cur].detail.ok() {
				g := orderGroup{}
				if cur >= 0 && om.groups[cur].orc.ok() {
					g.orc, g.inherited = om.groups[cur].orc, true
					mp.report(name, sg.occ, 0, hl7.CodeSegmentSequence, hl7.SeverityWarning,
						where(name, sg.occ, 0)+" has no ORC of its own: mapped as a separate order sharing the ORC of the order before it")
				}
				om.groups = append(om.groups, g)
				cur = len(om.groups) - 1
			}
			om.groups[cur].detail, om.groups[cur].name = sg, name
		case name == "PID":
			if cur >= 0 {
				mp.report("PID", sg.occ, 0, hl7.CodeSegmentSequence, hl7.SeverityWarning,
					where("PID", sg.occ, 0)+" follows an order group (prior results or a second patient): it and the segments after it are not mapped")
				return om
			}
			if !om.pid.ok() {
				om.pid = sg
			}
		case name == "PV1":
			if cur < 0 && !om.pv1.ok() {
				om.pv1 = sg
			}
		case name == "IN1":
			om.in1 = append(om.in1, sg)
		case name == "DG1":
			if cur < 0 {
				om.dg1 = append(om.dg1, sg)
			} else {
				om.groups[cur].dg1 = append(om.groups[cur].dg1, sg)
			}
		case name == "TQ1":
			if cur >= 0 && !om.groups[cur].tq1.ok() {
				om.groups[cur].tq1 = sg
			}
		case name == "IPC":
			if cur >= 0 && !om.groups[cur].ipc.ok() {
				om.groups[cur].ipc = sg
			}
		}
	}
	return om
}
