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
func (mp *mapper) procedure(v hl7.Value) order.Procedure {
	c := mp.preferred(v)
	p := order.Procedure{Code: c.Code, Text: c.Text, System: c.System}
	switch {
	case p.Code != "" && p.IsCPT():
		p.CPT = p.Code
	case isCPT(string(mp.raw(v, 6))):
		p.CPT = mp.comp(v, 4)
	}
	return p
}

func isCPT(system string) bool { return system != "" && (order.Procedure{System: system}).IsCPT() }

// obrProcedure reads OBR-4. OBR-44 (procedure code, in the US a CPT code) stands in
// when OBR-4 is empty, and supplies the CPT code when OBR-4 has none.
func (mp *mapper) obrProcedure(obr hl7.Segment, occ int) order.Procedure {
	p := mp.procedure(obr.Field(4))
	if p.Code == "" && p.Text == "" {
		msg, sev := " universal service identifier is missing", hl7.SeverityError
		if alt := mp.procedure(obr.Field(44)); alt.Code != "" || alt.Text != "" {
			p = alt
			msg, sev = msg+"; procedure taken from OBR-44", hl7.SeverityWarning
		}
		mp.report("OBR", occ, 4, hl7.CodeRequiredField, sev, where("OBR", occ, 4)+msg)
	}
	if p.CPT == "" && !obr.Field(44).IsEmpty() {
		p.CPT = mp.procedure(obr.Field(44)).CPT
	}
	return p
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
	case "US", "RUS", "OUS", "CUS", "VUS":
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

// DICOMModality maps a DICOM modality code (CID 29), as IPC-5 or a DICOM-coded FHIR
// ServiceRequest.code carries it, to the order model's modality: PT is PET, CR, DX and
// DR are XR, RF is FL; other codes are kept, upper-cased.
func DICOMModality(s string) string {
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
func (mp *mapper) bodySite(obr hl7.Segment) string {
	if mp.v < 270 {
		if s := mp.get(obr.Field(15), 4, 2); s != "" {
			return s
		}
		if s := mp.get(obr.Field(15), 4, 1); s != "" {
			return s
		}
	}
	if obr.Field(46).IsEmpty() {
		return ""
	}
	return mp.preferred(obr.Field(46)).label()
}

// diagnosis reads DG1: DG1-3 (code, text, system; the alternate triplet when the primary
// is empty), completed from the v2.3 forms: DG1-2 diagnosis coding method as the system
// and DG1-4 description as the text. It reports false when nothing is coded or described.
func (mp *mapper) diagnosis(dg1 hl7.Segment) (order.Diagnosis, bool) {
	c := mp.preferred(dg1.Field(3))
	d := order.Diagnosis{Code: c.Code, Text: c.Text, System: c.System}
	if d.System == "" {
		d.System = mp.first(dg1.Field(2))
	}
	if d.Text == "" {
		d.Text = text(dg1.Field(4))
	}
	if d.Code == "" && d.Text == "" {
		return order.Diagnosis{}, false
	}
	return d, true
}

// AddDiagnosis appends d unless an equal diagnosis (same code and system, or the same
// text when uncoded) is present. Codes compare case-insensitively and systems by their
// ICD-10-CM meaning, so I10 and ICD-10-CM are the same system. Both mappings use it, so
// that a diagnosis an order states twice (a DG1 and OBR-31, a reasonReference and a
// reasonCode) is kept once.
func AddDiagnosis(ds []order.Diagnosis, d order.Diagnosis) []order.Diagnosis {
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
	if strings.EqualFold(a.System, b.System) {
		return true
	}
	return a.IsICD10CM() && b.IsICD10CM()
}

// reasons reads OBR-31 (reason for study, repeating CWE): the label of each repetition
// joined by "; ", and every triplet coded in ICD-10 as a diagnosis.
func (mp *mapper) reasons(v hl7.Value, ds []order.Diagnosis) (string, []order.Diagnosis) {
	var b strings.Builder
	for rep := range v.Reps() {
		c := mp.preferred(rep)
		if l := c.label(); l != "" {
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(l)
		}
		if d := (order.Diagnosis{Code: c.Code, Text: c.Text, System: c.System}); d.Code != "" && d.IsICD10CM() {
			ds = AddDiagnosis(ds, d)
		} else if alt := mp.triplet(rep, 4); alt.Code != "" && alt != c {
			if d := (order.Diagnosis{Code: alt.Code, Text: alt.Text, System: alt.System}); d.IsICD10CM() {
				ds = AddDiagnosis(ds, d)
			}
		}
	}
	return b.String(), ds
}
