package order

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the JSON encoding of o to b and returns the extended buffer. The
// bytes are exactly those json.Marshal(o) writes, so records written either way are
// interchangeable; it only avoids reflection and the intermediate buffers.
//
// Like json.Marshal, it fails when a time cannot be written as RFC 3339: a year outside
// [0,9999] as written in the time's own zone, or a zone offset of 24 hours or more. It
// then returns b unchanged. It only reads o.
//
// The encoder is written by hand: a field added to Order, or to any type an Order
// holds, must be added to it too (the tests compare it with json.Marshal and fail
// until it is).
func (o *Order) AppendJSON(b []byte) ([]byte, error) {
	if o == nil {
		return append(b, "null"...), nil
	}
	e := encoder{b: b}
	e.order(o)
	if e.err != nil {
		return b, fmt.Errorf("order: encode JSON: %w", e.err)
	}
	return e.b, nil
}

// AppendJSONString appends s as json.Marshal encodes a string: quoted, with '"', '\\'
// and the control characters escaped (\b, \f, \n, \r and \t in short form, the others
// as \u00XX), '<', '>' and '&' as \u003c, \u003e and \u0026, U+2028 and U+2029 as
// \u2028 and \u2029, and each byte of invalid UTF-8 replaced by \ufffd.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plain marks the bytes AppendJSONString copies as they are: printable ASCII other than
// '"', '\\', '<', '>' and '&'. It is read only.
var plain = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendJSONTime appends t as json.Marshal encodes a time.Time: quoted, in RFC 3339 with
// as many fractional-second digits as needed ([time.RFC3339Nano]). It fails, returning
// b unchanged, for a time RFC 3339 cannot express (see [time.Time.MarshalJSON]).
func AppendJSONTime(b []byte, t time.Time) ([]byte, error) {
	out, err := t.AppendText(append(b, '"'))
	if err != nil {
		return b, err
	}
	return append(out, '"'), nil
}

// encoder appends JSON objects to b. The first error it meets is kept in err; what it
// writes after that is discarded by the caller.
type encoder struct {
	b   []byte
	err error
}

// key starts a member of the object being written, after a comma unless it is the
// object's first member. k is the member's name as JSON writes it, quoted and followed
// by a colon: `"id":`.
func (e *encoder) key(k string) {
	if e.b[len(e.b)-1] != '{' {
		e.b = append(e.b, ',')
	}
	e.b = append(e.b, k...)
}

// str writes a string member with omitempty.
func (e *encoder) str(k, v string) {
	if v != "" {
		e.key(k)
		e.b = AppendJSONString(e.b, v)
	}
}

// flag writes a bool member with omitempty.
func (e *encoder) flag(k string, v bool) {
	if v {
		e.key(k)
		e.b = append(e.b, "true"...)
	}
}

// integer writes an int member with omitempty.
func (e *encoder) integer(k string, v int) {
	if v != 0 {
		e.key(k)
		e.b = strconv.AppendInt(e.b, int64(v), 10)
	}
}

// time writes a time.Time member with omitzero (which uses time.Time.IsZero).
func (e *encoder) time(k string, t time.Time) {
	if t.IsZero() {
		return
	}
	e.key(k)
	b, err := AppendJSONTime(e.b, t)
	if err != nil && e.err == nil {
		e.err = fmt.Errorf("%s %w", k, err)
	}
	e.b = b
}

// bytes writes a []byte member with omitempty, in standard base64 with padding.
func (e *encoder) bytes(k string, v []byte) {
	if len(v) > 0 {
		e.key(k)
		e.b = append(base64.StdEncoding.AppendEncode(append(e.b, '"'), v), '"')
	}
}

// array starts an array member; k is as for key.
func (e *encoder) array(k string) {
	e.key(k)
	e.b = append(e.b, '[')
}

// elem starts element i of an array.
func (e *encoder) elem(i int) {
	if i > 0 {
		e.b = append(e.b, ',')
	}
}

// The struct members below with omitzero are left out when the struct equals its zero
// value, as reflect.Value.IsZero decides (none of these types has an IsZero method):
// for a struct holding a slice, a nil slice is zero and an empty one is not.

func (e *encoder) order(o *Order) {
	e.b = append(e.b, '{')
	e.str(`"id":`, o.ID)
	if o.Source != (Source{}) {
		e.key(`"source":`)
		e.source(&o.Source)
	}
	e.str(`"placer":`, o.Placer)
	e.str(`"filler":`, o.Filler)
	e.str(`"accession":`, o.Accession)
	e.str(`"placer_group":`, o.PlacerGroup)
	e.str(`"control_code":`, o.ControlCode)
	if !o.Patient.zero() {
		e.key(`"patient":`)
		e.patient(&o.Patient)
	}
	e.str(`"encounter_class":`, string(o.EncounterClass))
	if o.Setting != (Setting{}) {
		e.key(`"setting":`)
		e.setting(&o.Setting)
	}
	if o.Provider != (Provider{}) {
		e.key(`"provider":`)
		e.provider(&o.Provider)
	}
	if o.Procedure != (Procedure{}) {
		e.key(`"procedure":`)
		e.procedure(&o.Procedure)
	}
	if o.Performer != (Facility{}) {
		e.key(`"performer":`)
		e.b = append(e.b, '{')
		e.str(`"name":`, o.Performer.Name)
		e.str(`"npi":`, o.Performer.NPI)
		e.b = append(e.b, '}')
	}
	if len(o.Diagnoses) > 0 {
		e.array(`"diagnoses":`)
		for i := range o.Diagnoses {
			e.elem(i)
			e.diagnosis(&o.Diagnoses[i])
		}
		e.b = append(e.b, ']')
	}
	e.str(`"reason":`, o.Reason)
	e.str(`"priority":`, string(o.Priority))
	e.time(`"requested":`, o.Requested)
	e.time(`"authored":`, o.Authored)
	if o.Signature != (Signature{}) {
		e.key(`"signature":`)
		e.signature(&o.Signature)
	}
	if len(o.Coverage) > 0 {
		e.array(`"coverage":`)
		for i := range o.Coverage {
			e.elem(i)
			e.coverage(&o.Coverage[i])
		}
		e.b = append(e.b, ']')
	}
	if o.Eligibility != (Eligibility{}) {
		e.key(`"eligibility":`)
		e.b = append(e.b, '{')
		e.str(`"status":`, string(o.Eligibility.Status))
		e.time(`"checked":`, o.Eligibility.Checked)
		e.str(`"payer":`, o.Eligibility.Payer)
		e.str(`"detail":`, o.Eligibility.Detail)
		e.b = append(e.b, '}')
	}
	if o.Authorization != (Authorization{}) {
		e.key(`"authorization":`)
		e.authorization(&o.Authorization)
	}
	if r := &o.ReadyToSchedule; r.Ready || r.Reasons != nil {
		e.key(`"ready_to_schedule":`)
		e.b = append(e.b, `{"ready":`...)
		e.b = strconvBool(e.b, r.Ready)
		if len(r.Reasons) > 0 {
			e.array(`"reasons":`)
			for i, s := range r.Reasons {
				e.elem(i)
				e.b = AppendJSONString(e.b, s)
			}
			e.b = append(e.b, ']')
		}
		e.b = append(e.b, '}')
	}
	if len(o.Findings) > 0 {
		e.array(`"findings":`)
		for i := range o.Findings {
			e.elem(i)
			e.finding(&o.Findings[i])
		}
		e.b = append(e.b, ']')
	}
	if len(o.Results) > 0 {
		e.array(`"results":`)
		for i := range o.Results {
			e.elem(i)
			e.result(&o.Results[i])
		}
		e.b = append(e.b, ']')
	}
	e.str(`"status":`, string(o.Status))
	if len(o.History) > 0 {
		e.array(`"history":`)
		for i := range o.History {
			e.elem(i)
			e.transition(&o.History[i])
		}
		e.b = append(e.b, ']')
	}
	e.time(`"created":`, o.Created)
	e.time(`"updated":`, o.Updated)
	e.b = append(e.b, '}')
}

func strconvBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

func (e *encoder) setting(s *Setting) {
	e.b = append(e.b, '{')
	e.str(`"point_of_care":`, s.PointOfCare)
	e.str(`"facility":`, s.Facility)
	e.str(`"facility_id":`, s.FacilityID)
	e.str(`"admission_type":`, s.AdmissionType)
	e.str(`"hospital_service":`, s.HospitalService)
	e.str(`"patient_type":`, s.PatientType)
	e.str(`"location_code":`, s.LocationCode)
	e.time(`"start":`, s.Start)
	e.time(`"end":`, s.End)
	e.b = append(e.b, '}')
}

func (e *encoder) source(s *Source) {
	e.b = append(e.b, '{')
	e.str(`"kind":`, string(s.Kind))
	e.str(`"sending_app":`, s.SendingApp)
	e.str(`"sending_facility":`, s.SendingFacility)
	e.str(`"receiving_app":`, s.ReceivingApp)
	e.str(`"receiving_facility":`, s.ReceivingFacility)
	e.str(`"version":`, s.Version)
	e.str(`"client_id":`, s.ClientID)
	e.str(`"fhir_source":`, s.FHIRSource)
	e.str(`"resource_id":`, s.ResourceID)
	e.str(`"message_id":`, s.MessageID)
	e.b = append(e.b, '}')
}

// zero reports whether p is its type's zero value.
func (p *Patient) zero() bool {
	return p.Identifiers == nil && p.Family == "" && p.Given == "" && p.Middle == "" &&
		p.BirthDate == "" && p.Sex == ""
}

func (e *encoder) patient(p *Patient) {
	e.b = append(e.b, '{')
	if len(p.Identifiers) > 0 {
		e.array(`"identifiers":`)
		for i := range p.Identifiers {
			e.elem(i)
			e.identifier(&p.Identifiers[i])
		}
		e.b = append(e.b, ']')
	}
	e.str(`"family":`, p.Family)
	e.str(`"given":`, p.Given)
	e.str(`"middle":`, p.Middle)
	e.str(`"birth_date":`, p.BirthDate)
	e.str(`"sex":`, p.Sex)
	e.b = append(e.b, '}')
}

func (e *encoder) identifier(id *Identifier) {
	e.b = append(e.b, '{')
	e.str(`"value":`, id.Value)
	e.str(`"system":`, id.System)
	e.str(`"type":`, id.Type)
	e.b = append(e.b, '}')
}

func (e *encoder) provider(p *Provider) {
	e.b = append(e.b, '{')
	e.str(`"npi":`, p.NPI)
	e.str(`"id":`, p.ID)
	e.str(`"id_system":`, p.IDSystem)
	e.str(`"family":`, p.Family)
	e.str(`"given":`, p.Given)
	e.str(`"prefix":`, p.Prefix)
	e.str(`"suffix":`, p.Suffix)
	e.b = append(e.b, '}')
}

func (e *encoder) procedure(p *Procedure) {
	e.b = append(e.b, '{')
	e.str(`"code":`, p.Code)
	e.str(`"system":`, p.System)
	e.str(`"cpt":`, p.CPT)
	e.str(`"text":`, p.Text)
	e.str(`"modality":`, p.Modality)
	e.str(`"body_site":`, p.BodySite)
	e.b = append(e.b, '}')
}

func (e *encoder) diagnosis(d *Diagnosis) {
	e.b = append(e.b, '{')
	e.str(`"code":`, d.Code)
	e.str(`"system":`, d.System)
	e.str(`"text":`, d.Text)
	e.b = append(e.b, '}')
}

func (e *encoder) signature(s *Signature) {
	e.b = append(e.b, '{')
	e.str(`"mode":`, s.Mode)
	e.str(`"signer":`, s.Signer)
	e.str(`"signer_npi":`, s.SignerNPI)
	e.time(`"time":`, s.Time)
	e.flag(`"present":`, s.Present)
	e.b = append(e.b, '}')
}

func (e *encoder) coverage(c *Coverage) {
	e.b = append(e.b, '{')
	e.str(`"payer":`, c.Payer)
	e.str(`"payer_name":`, c.PayerName)
	e.str(`"plan":`, c.Plan)
	e.str(`"plan_type":`, c.PlanType)
	e.str(`"member_id":`, c.MemberID)
	e.str(`"group":`, c.Group)
	e.str(`"start":`, c.Start)
	e.str(`"end":`, c.End)
	e.b = append(e.b, '}')
}

func (e *encoder) authorization(a *Authorization) {
	e.b = append(e.b, '{')
	e.flag(`"required":`, a.Required)
	e.flag(`"records_required":`, a.RecordsRequired)
	e.flag(`"exempt":`, a.Exempt)
	e.flag(`"undetermined":`, a.Undetermined)
	e.flag(`"payer_unknown":`, a.PayerUnknown)
	e.str(`"status":`, string(a.Status))
	e.str(`"number":`, a.Number)
	e.str(`"cpt":`, a.CPT)
	e.time(`"due_by":`, a.DueBy)
	e.time(`"decided":`, a.Decided)
	e.time(`"valid_from":`, a.ValidFrom)
	e.time(`"valid_to":`, a.ValidTo)
	e.str(`"reason":`, a.Reason)
	e.str(`"payer":`, a.Payer)
	e.str(`"claim":`, a.Claim)
	e.integer(`"attempt":`, a.Attempt)
	e.str(`"original_claim":`, a.OriginalClaim)
	e.flag(`"expedited":`, a.Expedited)
	e.time(`"submitted":`, a.Submitted)
	e.str(`"decision_reason":`, a.DecisionReason)
	e.str(`"review_action":`, a.ReviewAction)
	e.str(`"response":`, a.Response)
	e.time(`"next_inquiry":`, a.NextInquiry)
	e.str(`"appeal":`, a.Appeal)
	e.time(`"appeal_by":`, a.AppealBy)
	e.str(`"denial_reason":`, a.DenialReason)
	e.b = append(e.b, '}')
}

func (e *encoder) finding(f *Finding) {
	e.b = append(e.b, '{')
	e.str(`"code":`, f.Code)
	e.str(`"severity":`, string(f.Severity))
	e.str(`"class":`, string(f.Class))
	e.str(`"location":`, f.Location)
	e.str(`"fhir_path":`, f.FHIRPath)
	e.str(`"text":`, f.Text)
	e.b = append(e.b, '}')
}

func (e *encoder) result(r *Result) {
	e.b = append(e.b, '{')
	e.str(`"id":`, r.ID)
	e.str(`"status":`, string(r.Status))
	e.str(`"text":`, r.Text)
	if len(r.Observations) > 0 {
		e.array(`"observations":`)
		for i := range r.Observations {
			e.elem(i)
			e.observation(&r.Observations[i])
		}
		e.b = append(e.b, ']')
	}
	if r.Interpreter != (Provider{}) {
		e.key(`"interpreter":`)
		e.provider(&r.Interpreter)
	}
	e.time(`"issued":`, r.Issued)
	e.str(`"message_id":`, r.MessageID)
	if len(r.Presented) > 0 {
		e.array(`"presented_form":`)
		for i := range r.Presented {
			e.elem(i)
			e.attachment(&r.Presented[i])
		}
		e.b = append(e.b, ']')
	}
	e.b = append(e.b, '}')
}

func (e *encoder) observation(ob *Observation) {
	e.b = append(e.b, '{')
	e.str(`"id":`, ob.ID)
	e.str(`"code":`, ob.Code)
	e.str(`"system":`, ob.System)
	e.str(`"text":`, ob.Text)
	e.str(`"value_type":`, ob.ValueType)
	e.str(`"value":`, ob.Value)
	e.str(`"units":`, ob.Units)
	e.str(`"status":`, ob.Status)
	e.b = append(e.b, '}')
}

func (e *encoder) attachment(a *Attachment) {
	e.b = append(e.b, '{')
	e.str(`"content_type":`, a.ContentType)
	e.str(`"title":`, a.Title)
	e.bytes(`"data":`, a.Data)
	e.b = append(e.b, '}')
}

func (e *encoder) transition(t *Transition) {
	e.b = append(e.b, '{')
	e.time(`"at":`, t.At)
	e.str(`"from":`, string(t.From))
	e.str(`"to":`, string(t.To))
	e.str(`"cause":`, t.Cause)
	e.str(`"message_id":`, t.MessageID)
	e.b = append(e.b, '}')
}
