package mapping

import (
	"cmp"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
)

// ORUOptions are what an ORU^R01 needs that the order and the result do not say.
type ORUOptions struct {
	// SendingApp and SendingFacility are MSH-3 and MSH-4: radbridge's own application and
	// facility names. Empty leaves the field empty.
	SendingApp      string
	SendingFacility string
	// ControlID is MSH-10. It must be unique per message sent (the outbox row id, say):
	// the receiver's duplicate detection relies on it. Empty leaves MSH-10 empty.
	ControlID string
	// Time is MSH-7. Zero means the result's Issued time, so that the function reads no
	// clock.
	Time time.Time
	// ProcessingID is MSH-11. Empty means "P" (production).
	ProcessingID string
	// Version is MSH-12. Empty means the version of the original order (Source.Version of a
	// v2 order), else "2.5.1".
	Version string
}

// BuildORU writes an ORU^R01 that reports one result of an order back to the order's
// sender, for delivery over MLLP (pure: no clock, no I/O). Text is escaped with the
// standard delimiters; MSH-18 is UNICODE UTF-8 when the text is not ASCII.
//
//	MSH  MSH-3/4 opts; MSH-5/6 the order's sending application and facility; MSH-7
//	     opts.Time (else Issued); MSH-9 ORU^R01^ORU_R01 (ORU^R01 before v2.3.1);
//	     MSH-10, MSH-11, MSH-12 opts
//	PID  PID-3 the patient's identifiers (CX: value^^^authority^type, an OID authority as
//	     its universal ID), PID-5 name, PID-7 birth date, PID-8 sex (F, M, O, U)
//	PV1  PV1-2 E, I or O, when the encounter class is known
//	ORC  RE; ORC-2 placer, ORC-3 filler, ORC-12 ordering provider (XCN, NPI as XCN.9 and
//	     XCN.13)
//	OBR  OBR-2, OBR-3 (the filler number, else the result ID), OBR-4 procedure (system as
//	     its table 0396 name: C4, LN...), OBR-7 and OBR-22 Issued (the model keeps no exam
//	     time), OBR-16 ordering provider, OBR-18 accession, OBR-24 RAD, OBR-25 status
//	     (P, F, C, X, W), OBR-32 interpreter (CNN as subcomponents)
//	OBX  one per observation, in order: OBX-2 its value type, OBX-3 code^text^system,
//	     OBX-4 the sub-ID (the part of Observation.ID after "code."), OBX-5 the value,
//	     OBX-6 units, OBX-11 its status (else the result's). TX text is written one
//	     repetition per line, FT and ST text with \.br\ line breaks, coded values
//	     component by component; ED observations carry the result's attachments in order
//	     (^application^pdf^Base64^data). A result with text but no narrative
//	     observation gets a first FT OBX (18782-3^Radiology Study observation^LN), and
//	     attachments left over an ED OBX each.
//
// For a result read from an ORU^R01 by [ResultsFromV2], ResultsFromV2 reads the output
// back to the same result (MessageID aside).
func BuildORU(o *order.Order, r order.Result, opts ORUOptions) []byte {
	out := buildORU(o, r, opts, "")
	if !isASCII(out) {
		out = buildORU(o, r, opts, "UNICODE UTF-8")
	}
	return out
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func buildORU(o *order.Order, r order.Result, opts ORUOptions, charset string) []byte {
	w := hl7.NewWriter(hl7.DefaultDelimiters)
	version := opts.Version
	if version == "" && o.Source.Kind == order.SourceV2 {
		version = o.Source.Version
	}
	if version == "" {
		version = "2.5.1"
	}
	structure := "ORU_R01" // MSH-9.3 exists from v2.3.1
	if v := parseVersion(version); v != 0 && v < 231 {
		structure = ""
	}
	sent := opts.Time
	if sent.IsZero() {
		sent = r.Issued
	}
	w.Segment("MSH").Set(3, opts.SendingApp).Set(4, opts.SendingFacility).
		Set(5, o.Source.SendingApp).Set(6, o.Source.SendingFacility).
		Set(7, hl7.FormatTime(sent, timePrecision(sent))).
		Set(9, "ORU", "R01", structure).Set(10, opts.ControlID).
		Set(11, cmp.Or(opts.ProcessingID, "P")).Set(12, version)
	set(w, 18, charset)
	writePID(w, o.Patient)
	if c := v2PatientClass(o.EncounterClass); c != "" {
		w.Segment("PV1").Set(1, "1").Set(2, c)
	}
	filler := o.Filler
	if filler == "" && r.ID != o.Accession && !strings.Contains(r.ID, "#") {
		filler = r.ID
	}
	w.Segment("ORC").Set(1, "RE")
	set(w, 2, o.Placer)
	set(w, 3, filler)
	writeXCN(w, 12, o.Provider)
	issued := hl7.FormatTime(r.Issued, timePrecision(r.Issued))
	p := o.Procedure
	w.Segment("OBR").Set(1, "1")
	set(w, 2, o.Placer)
	set(w, 3, filler)
	set(w, 4, p.Code, p.Text, V2CodeSystem(p.System))
	set(w, 7, issued)
	writeXCN(w, 16, o.Provider)
	set(w, 18, o.Accession)
	set(w, 22, issued)
	w.Set(24, "RAD")
	set(w, 25, resultStatusCode(r.Status))
	writeCNN(w, 32, r.Interpreter)
	writeOBXs(w, r)
	return w.Bytes()
}

// timePrecision writes seconds, or fractions when t has them.
func timePrecision(t time.Time) hl7.Precision {
	if t.Nanosecond() != 0 {
		return hl7.PrecisionFraction
	}
	return hl7.PrecisionSecond
}

// set writes field n unless every component is empty, so that no trailing separators
// are written for fields the order does not know.
func set(w *hl7.Writer, n int, components ...string) {
	for _, c := range components {
		if c != "" {
			w.Set(n, components...)
			return
		}
	}
}

func writePID(w *hl7.Writer, p order.Patient) {
	w.Segment("PID").Set(1, "1")
	if len(p.Identifiers) > 0 {
		w.Field(3)
	}
	for i, id := range p.Identifiers {
		if i > 0 {
			w.Rep()
		}
		w.Text(id.Value).Component().Component().Component()
		if IsOID(id.System) {
			w.Sub().Text(id.System).Sub().Text("ISO")
		} else {
			w.Text(id.System)
		}
		if id.Type != "" {
			w.Component().Text(id.Type)
		}
	}
	set(w, 5, p.Family, p.Given, p.Middle)
	set(w, 7, strings.ReplaceAll(p.BirthDate, "-", ""))
	set(w, 8, v2Sex(p.Sex))
}

// v2Sex maps FHIR administrative-gender to table 0001.
func v2Sex(s string) string {
	switch s {
	case "female":
		return "F"
	case "male":
		return "M"
	case "other":
		return "O"
	case "unknown":
		return "U"
	}
	return ""
}

// v2PatientClass maps the encounter class to PV1-2 (table 0004): urgent care (hospital
// or not) and ambulatory surgery, which the table has no code for, are outpatient.
func v2PatientClass(c order.EncounterClass) string {
	switch c {
	case order.ClassEmergency:
		return "E"
	case order.ClassInpatient:
		return "I"
	case order.ClassOutpatient, order.ClassUrgentCare, order.ClassHospitalUrgentCare, order.ClassAmbulatorySurgery:
		return "O"
	}
	return ""
}

// writeXCN writes a provider as an XCN in field n.
func writeXCN(w *hl7.Writer, n int, p order.Provider) {
	if p == (order.Provider{}) {
		return
	}
	w.Field(n)
	id, auth := p.ID, p.IDSystem
	if p.NPI != "" {
		id, auth = p.NPI, "NPI"
	}
	w.Text(id).Component().Text(p.Family).Component().Text(p.Given).Component().Component().
		Text(p.Suffix).Component().Text(p.Prefix).Component().Component().Component().Text(auth)
	if p.NPI != "" {
		w.Component().Component().Component().Component().Text("NPI")
	}
}

// writeCNN writes an interpreter as OBR-32.1, a CNN in subcomponents:
// id&family&given&&suffix&prefix&&&authority, in field n.
func writeCNN(w *hl7.Writer, n int, p order.Provider) {
	if p == (order.Provider{}) {
		return
	}
	w.Field(n)
	id, auth := p.ID, p.IDSystem
	if p.NPI != "" {
		id, auth = p.NPI, "NPI"
	}
	w.Text(id).Sub().Text(p.Family).Sub().Text(p.Given).Sub().Sub().Text(p.Suffix).Sub().Text(p.Prefix).
		Sub().Sub().Sub().Text(auth)
}

// writeOBXs writes the observations, the attachments and, when no observation carries
// it, the report text.
func writeOBXs(w *hl7.Writer, r order.Result) {
	n := 0
	next := func() *hl7.Writer {
		n++
		return w.Segment("OBX").Set(1, strconv.Itoa(n))
	}
	status := resultStatusCode(r.Status)
	if r.Text != "" && !hasNarrative(r.Observations) {
		next().Set(2, "FT").Set(3, "18782-3", "Radiology Study observation", "LN").Field(5)
		writeLines(w, r.Text, false)
		set(w, 11, status)
	}
	att := 0
	for _, x := range r.Observations {
		code, sub := x.Code, strings.TrimPrefix(x.ID, x.Code)
		if x.Code == "" {
			sub = x.ID
		} else if sub != "" {
			sub = strings.TrimPrefix(sub, ".")
		}
		typ := strings.ToUpper(x.ValueType)
		next().Set(2, typ).Set(3, code, x.Text, V2CodeSystem(x.System))
		set(w, 4, sub)
		w.Field(5)
		switch typ {
		case "TX":
			writeLines(w, x.Value, true)
		case "FT", "ST":
			writeLines(w, x.Value, false)
		case "ED":
			if x.Value == "" && att < len(r.Presented) {
				writeED(w, r.Presented[att])
				att++
			} else {
				// Data that did not decode is kept as text: write it back where it was.
				w.Component().Component().Component().Component().Text(x.Value)
			}
		default:
			writeStructured(w, x.Value)
		}
		set(w, 6, x.Units)
		set(w, 11, cmp.Or(x.Status, status))
	}
	for _, a := range r.Presented[att:] {
		next().Set(2, "ED").Set(3, "", cmp.Or(a.Title, a.ContentType)).Field(5)
		writeED(w, a)
		set(w, 11, status)
	}
}

// hasNarrative reports whether an observation carries narrative text, which
// ResultsFromV2 joins into the report text.
func hasNarrative(obs []order.Observation) bool {
	for _, x := range obs {
		switch strings.ToUpper(x.ValueType) {
		case "TX", "FT", "ST":
			if x.Value != "" && !(x.Code == "113014" && strings.EqualFold(x.System, "DCM")) {
				return true
			}
		}
	}
	return false
}

// writeLines writes text line by line: as repetitions (TX), or joined by \.br\.
func writeLines(w *hl7.Writer, s string, reps bool) {
	br := string([]byte{w.Delimiters().Escape}) + ".br" + string([]byte{w.Delimiters().Escape})
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			if reps {
				w.Rep()
			} else {
				w.Raw(br)
			}
		}
		w.Text(strings.TrimSuffix(line, "\r"))
	}
}

// writeStructured writes a value kept with the standard delimiters (as the v2 mapping
// keeps non-text values) piece by piece, each piece escaped.
func writeStructured(w *hl7.Writer, s string) {
	for i, rep := range strings.Split(s, "~") {
		if i > 0 {
			w.Rep()
		}
		for j, comp := range strings.Split(rep, "^") {
			if j > 0 {
				w.Component()
			}
			for k, sub := range strings.Split(comp, "&") {
				if k > 0 {
					w.Sub()
				}
				w.Text(sub)
			}
		}
	}
}

// writeED writes an attachment as ED: ^type^subtype^Base64^data. The type and subtype
// come from the content type; a subtype the v2 mapping would not read back as the same
// content type is written as the whole content type.
func writeED(w *hl7.Writer, a order.Attachment) {
	typ, sub, _ := strings.Cut(a.ContentType, "/")
	if contentType(typ, sub, a.Data) != strings.ToLower(a.ContentType) {
		sub = a.ContentType
	}
	w.Component().Text(typ).Component().Text(sub).Component().Text("Base64").Component().
		Text(base64.StdEncoding.EncodeToString(a.Data))
}

// resultStatusCode is the OBR-25 code (table 0123) of a result status.
func resultStatusCode(s order.ResultStatus) string {
	switch s {
	case order.ResultPreliminary:
		return "P"
	case order.ResultFinal:
		return "F"
	case order.ResultCorrected:
		return "C"
	case order.ResultCancelled:
		return "X"
	case order.ResultEnteredInError:
		return "W"
	}
	return ""
}
