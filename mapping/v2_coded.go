package mapping

import (
	"strings"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
)

// procedure reads a universal service identifier (OBR-4, or the first coded field of
// another order detail segment): code, text and system from the primary triplet (the
// alternate one when the primary is empty), and CPT from whichever triplet is coded in
// CPT, the primary first.
func procedure(v hl7.Value) order.Procedure {
	p := coding{Code: comp(v, 1), Text: compText(v, 2), System: comp(v, 3)}
	isCPT := func(system string) bool { return (order.Procedure{System: system}).IsCPT() }
	if p.empty() {
		a := coding{Code: comp(v, 4), Text: compText(v, 5), System: comp(v, 6)}
		proc := order.Procedure{Code: a.Code, Text: a.Text, System: a.System}
		if a.Code != "" && isCPT(a.System) {
			proc.CPT = a.Code
		}
		return proc
	}
	proc := order.Procedure{Code: p.Code, Text: p.Text, System: p.System}
	switch {
	case p.Code != "" && isCPT(p.System):
		proc.CPT = p.Code
	case isCPT(string(raw(v.Component(6)))):
		proc.CPT = comp(v, 4)
	}
	return proc
}

// detailField is the first coded field of the order detail segments that may stand in
// an ORM^O01 order group instead of OBR (HL7 v2.3-2.5 chapter 4): RXO-1 requested give
// code, ODS-3 diet code specification, ODT-1 tray type, RQD-2 item code (internal), RQ1-2
// manufacturer identifier. It returns 0 for a segment that is not an order detail.
func detailField(name string) int {
	switch name {
	case "OBR":
		return 4
	case "RXO", "ODT":
		return 1
	case "ODS":
		return 3
	case "RQD", "RQ1":
		return 2
	}
	return 0
}

// obrModality maps OBR-24 (diagnostic service section ID, HL7 table 0074, plus the
// modality abbreviations senders use there) to a DICOM-style modality. Sections that
// name no modality (RAD, LAB, ...) give "": the rules package derives the modality from
// the procedure code instead.
func obrModality(b []byte) string {
	var up [8]byte
	if len(b) > len(up) {
		return ""
	}
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	switch string(up[:len(b)]) {
	case "CT", "CAT":
		return "CT"
	case "MR", "MRI", "NMR":
		return "MR"
	case "US", "RUS", "OUS", "CUS", "VUS", "ULTRASOUND":
		return "US"
	case "NM", "NMS":
		return "NM"
	case "PET":
		return "PET"
	case "RX", "XR", "CR", "DX", "DR":
		return "XR"
	case "XRC", "FL", "RF":
		return "FL"
	case "MG", "MAM", "MAMMO":
		return "MG"
	}
	return ""
}

// ipcModality maps IPC-5 (a DICOM modality, CID 29) to the model's modality: PT is PET,
// CR, DX and DR are XR, RF is FL; other values are kept as sent.
func ipcModality(s string) string {
	switch s = strings.ToUpper(s); s {
	case "PT":
		return "PET"
	case "CR", "DX", "DR":
		return "XR"
	case "RF":
		return "FL"
	}
	return s
}

// bodySite reads the body site from OBR-15.4 (specimen source: body site, before v2.7)
// or the first OBR-46 repetition (placer supplemental service information), the text
// preferred to the code.
func bodySite(obr hl7.Segment, v version) string {
	if v == 0 || v < 270 {
		site := obr.Field(15).Component(4)
		if s := strings.TrimSpace(site.Sub(2).String()); s != "" {
			return s
		}
		if s := strings.TrimSpace(site.Sub(1).String()); s != "" {
			return s
		}
	}
	return preferred(obr.Field(46)).label()
}

// diagnosis reads DG1: DG1-3 (code, text, system; the alternate triplet when the primary
// is empty), completed from the v2.3 forms: DG1-2 diagnosis coding method as the system
// and DG1-4 description as the text. It reports false when nothing is coded or described.
func diagnosis(dg1 hl7.Segment) (order.Diagnosis, bool) {
	c := preferred(dg1.Field(3))
	d := order.Diagnosis{Code: c.Code, Text: c.Text, System: c.System}
	if d.System == "" {
		d.System = first(dg1.Field(2))
	}
	if d.Text == "" {
		d.Text = text(dg1.Field(4))
	}
	if d.Code == "" && d.Text == "" {
		return order.Diagnosis{}, false
	}
	return d, true
}

// addDiagnosis appends d unless an equal diagnosis (same code and system, or the same
// text when uncoded) is present. Codes compare case-insensitively and systems by their
// ICD-10-CM meaning, so I10 and ICD-10-CM are the same system.
func addDiagnosis(ds []order.Diagnosis, d order.Diagnosis) []order.Diagnosis {
	for _, x := range ds {
		if d.Code == "" {
			if x.Code == "" && strings.EqualFold(x.Text, d.Text) {
				return ds
			}
			continue
		}
		if strings.EqualFold(x.Code, d.Code) && sameSystem(x, d) {
			return ds
		}
	}
	return append(ds, d)
}

func sameSystem(a, b order.Diagnosis) bool {
	if a.IsICD10CM() || b.IsICD10CM() {
		return a.IsICD10CM() && b.IsICD10CM()
	}
	return strings.EqualFold(a.System, b.System)
}

// reasons reads OBR-31 (reason for study, repeating CWE): the label of each repetition
// joined by "; ", and every triplet coded in ICD-10 as a diagnosis.
func reasons(v hl7.Value, ds []order.Diagnosis) (string, []order.Diagnosis) {
	var b strings.Builder
	for rep := range v.Reps() {
		c := preferred(rep)
		if l := c.label(); l != "" {
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(l)
		}
		if d := (order.Diagnosis{Code: c.Code, Text: c.Text, System: c.System}); d.Code != "" && d.IsICD10CM() {
			ds = addDiagnosis(ds, d)
		} else if isICD10(raw(rep.Component(6))) && comp(rep, 4) != "" {
			ds = addDiagnosis(ds, order.Diagnosis{Code: comp(rep, 4), Text: compText(rep, 5), System: comp(rep, 6)})
		}
	}
	return b.String(), ds
}

// isICD10 reports whether a coding system names ICD-10(-CM), as order.Diagnosis.IsICD10CM
// does, without converting it to a string.
func isICD10(system []byte) bool {
	return len(system) > 0 && (order.Diagnosis{System: string(system)}).IsICD10CM()
}
