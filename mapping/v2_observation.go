package mapping

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
)

// observation maps one OBX. ID is OBX-3.1 and the OBX-4 sub-ID joined by "." (either
// alone when the other is empty); Code, Text and System come from OBX-3, ValueType from
// OBX-2, Units from OBX-6.1 (its text when uncoded), Status from OBX-11. Value is OBX-5
// as text: narrative types (TX, FT, ST) rendered by [formatted]; other types with their
// components joined by "^", subcomponents by "&" and repetitions by "~" (the standard
// delimiters, whatever the message uses); ED by [encapsulated]. isText reports a
// narrative observation, which the caller adds to the report text.
func (mp *mapper) observation(obx seg) (o order.Observation, att *order.Attachment, isText bool) {
	s := obx.s
	c := mp.preferred(s.Field(3))
	o = order.Observation{
		ID:        joinID(c.Code, mp.first(s.Field(4))),
		Code:      c.Code,
		System:    c.System,
		Text:      c.Text,
		ValueType: strings.ToUpper(mp.first(s.Field(2))),
		Units:     mp.comp(s.Field(6), 1),
		Status:    mp.first(s.Field(11)),
	}
	if o.Units == "" {
		o.Units = mp.compText(s.Field(6), 2)
	}
	v := s.Field(5)
	switch o.ValueType {
	case "TX", "FT", "ST":
		// The DICOM Study Instance UID (IHE RAD: OBX-3 113014^DCM, type ST) is an
		// identifier, not part of the narrative.
		o.Value, isText = formatted(v, mp.d), !(c.Code == "113014" && strings.EqualFold(c.System, "DCM"))
	case "ED":
		o.Value, att = mp.encapsulated(v, obx.occ, c.label())
	default:
		o.Value = plainValue(v, mp.d)
	}
	return o, att, isText
}

func joinID(code, sub string) string {
	switch {
	case code == "":
		return sub
	case sub == "":
		return code
	}
	return code + "." + sub
}

// plainValue returns a value with its structure written in the standard delimiters.
func plainValue(v hl7.Value, d hl7.Delimiters) string {
	raw := v.Bytes()
	std := d.Component == '^' && d.Repetition == '~' && d.Subcomponent == '&'
	if std && (d.Escape == 0 || bytes.IndexByte(raw, d.Escape) < 0) {
		return strings.TrimSpace(v.String())
	}
	var b strings.Builder
	for i := 1; i <= v.NumReps(); i++ {
		if i > 1 {
			b.WriteByte('~')
		}
		rep := v.Rep(i)
		for c := 1; c <= rep.NumComponents(); c++ {
			if c > 1 {
				b.WriteByte('^')
			}
			cv := rep.Component(c)
			subs := 1
			if d.Subcomponent != 0 {
				subs += bytes.Count(cv.Bytes(), []byte{d.Subcomponent})
			}
			for n := 1; n <= subs; n++ {
				if n > 1 {
					b.WriteByte('&')
				}
				b.WriteString(cv.Sub(n).String())
			}
		}
	}
	return strings.TrimSpace(b.String())
}

// encapsulated reads an ED value (source application^type of data^data subtype^
// encoding^data). Base64 (also "B64") and Hex data are decoded, A (no encoding) data is
// taken as text; the data becomes an attachment and the observation's value is empty.
// Data that does not decode, or an unknown encoding, is reported and kept as the
// observation's value, with no attachment.
func (mp *mapper) encapsulated(v hl7.Value, occ int, title string) (string, *order.Attachment) {
	typ, sub, encName := mp.comp(v, 2), mp.comp(v, 3), mp.comp(v, 4)
	enc := strings.ToUpper(encName)
	raw := v.Component(5).Unescaped()
	if len(bytes.TrimSpace(raw)) == 0 {
		mp.issues = append(mp.issues, hl7.Issue{
			Location: hl7.Location{Segment: "OBX", Occurrence: occ, Field: 5, Component: 5},
			Code:     hl7.CodeRequiredField, Severity: hl7.SeverityWarning,
			Text: where("OBX", occ, 5) + " encapsulated data is empty: no attachment"})
		return "", nil
	}
	var data []byte
	var err error
	switch enc {
	case "BASE64", "B64":
		data, err = decodeBase64(raw)
	case "HEX":
		data, err = hex.DecodeString(string(stripSpace(raw)))
	case "A":
		data = bytes.Clone(raw)
	default:
		mp.issues = append(mp.issues, hl7.Issue{
			Location: hl7.Location{Segment: "OBX", Occurrence: occ, Field: 5, Component: 4},
			Code:     hl7.CodeTableValue, Severity: hl7.SeverityWarning,
			Text: where("OBX", occ, 5) + " encoding " + quote(encName) + " is not A, Hex or Base64: data kept as text"})
		return string(raw), nil
	}
	if err != nil {
		mp.issues = append(mp.issues, hl7.Issue{
			Location: hl7.Location{Segment: "OBX", Occurrence: occ, Field: 5, Component: 5},
			Code:     hl7.CodeDataType, Severity: hl7.SeverityWarning,
			Text: where("OBX", occ, 5) + " encapsulated data is not valid " + encName + ": kept as text"})
		return string(raw), nil
	}
	return "", &order.Attachment{ContentType: contentType(typ, sub, data), Title: title, Data: data}
}

// decodeBase64 decodes standard Base64, padded or not, ignoring line breaks and blanks.
func decodeBase64(b []byte) ([]byte, error) {
	b = stripSpace(b)
	enc := base64.StdEncoding
	if len(b)%4 != 0 {
		enc = base64.RawStdEncoding
		b = bytes.TrimRight(b, "=")
	}
	out := make([]byte, enc.DecodedLen(len(b)))
	n, err := enc.Decode(out, b)
	return out[:n], err
}

// stripSpace returns b without blanks and line breaks, copying only when it has some.
func stripSpace(b []byte) []byte {
	if !bytes.ContainsAny(b, " \t\r\n") {
		return b
	}
	out := make([]byte, 0, len(b))
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			out = append(out, c)
		}
	}
	return out
}

// contentType derives a MIME type from ED type of data and subtype (HL7 tables 0191 and
// 0291), a MIME type written in either, or the data's PDF signature; the fallback is
// text/plain for TEXT data and application/octet-stream otherwise.
func contentType(typ, sub string, data []byte) string {
	for _, s := range [2]string{sub, typ} {
		if strings.Contains(s, "/") {
			return strings.ToLower(s)
		}
	}
	switch strings.ToUpper(sub) {
	case "PDF":
		return "application/pdf"
	case "RTF":
		return "application/rtf"
	case "HTML":
		return "text/html"
	case "XML", "SGML":
		return "application/xml"
	case "JPEG", "JPG":
		return "image/jpeg"
	case "PNG":
		return "image/png"
	case "GIF":
		return "image/gif"
	case "TIFF", "TIF":
		return "image/tiff"
	case "DICOM":
		return "application/dicom"
	case "MSWORD":
		return "application/msword"
	case "PLAIN", "TXT":
		return "text/plain"
	case "OCTET-STREAM":
		return "application/octet-stream"
	}
	if bytes.HasPrefix(data, []byte("%PDF-")) {
		return "application/pdf"
	}
	if strings.EqualFold(typ, "TEXT") {
		return "text/plain"
	}
	return "application/octet-stream"
}
