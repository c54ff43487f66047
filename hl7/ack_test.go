package hl7_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/radbridge/radbridge/hl7"
)

var ackTime = time.Date(2026, 11, 22, 14, 30, 15, 0, time.UTC)

func TestAppendAck(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		ack  hl7.Ack
		want string
	}{
		{
			name: "AA v2.5.1",
			msg:  "MSH|^~\\&|EHR^1.2.3^ISO|HOSP_A|RADBRIDGE|IMG|20261122||ORM^O01^ORM_O01|C1|P|2.5.1\rPID|1\r",
			ack:  hl7.Ack{Code: hl7.AA, ControlID: "A1", Time: ackTime},
			want: "MSH|^~\\&|RADBRIDGE|IMG|EHR^1.2.3^ISO|HOSP_A|20261122143015+0000||ACK^O01^ACK|A1|P|2.5.1\rMSA|AA|C1\r",
		},
		{
			name: "AE v2.5.1 with ERR segments",
			msg:  "MSH|^~\\&|EHR|HOSP_A|RB|IMG|20261122||ORM^O01|C2|T|2.5.1\r",
			ack: hl7.Ack{Code: hl7.AE, ControlID: "A2", Time: ackTime, Issues: []hl7.Issue{
				{Location: hl7.Location{Segment: "DG1", Field: 3}, Code: hl7.CodeRequiredField, Severity: hl7.SeverityError, Text: "Diagnosis code missing"},
				{Location: hl7.Location{Segment: "OBR", Occurrence: 2, Field: 4, Component: 1}, Code: hl7.CodeTableValue, Severity: hl7.SeverityWarning, Text: "Unknown CPT 99999 | check ^ code"},
				{Code: hl7.CodeInternal, Text: "no location"},
			}},
			want: "MSH|^~\\&|RB|IMG|EHR|HOSP_A|20261122143015+0000||ACK^O01^ACK|A2|T|2.5.1\rMSA|AE|C2\r" +
				"ERR||DG1^1^3^1|101^Required field missing^HL70357|E||||Diagnosis code missing\r" +
				"ERR||OBR^2^4^1^1|103^Table value not found^HL70357|W||||Unknown CPT 99999 \\F\\ check \\S\\ code\r" +
				"ERR|||207^Application internal error^HL70357|E||||no location\r",
		},
		{
			name: "AR v2.3 uses ERR-1",
			msg:  "MSH|^~\\&|EHR|HOSP_A|RB|IMG|20261122||ORM^O01|C3|P|2.3\r",
			ack: hl7.Ack{Code: hl7.AR, ControlID: "A3", Time: ackTime, Text: "rejected", Issues: []hl7.Issue{
				{Location: hl7.Location{Segment: "PID", Field: 7}, Code: hl7.CodeDataType, Text: "bad date"},
				{Location: hl7.Location{Segment: "MSH", Field: 9}, Code: hl7.CodeUnsupportedType, Text: "no ADT here"},
			}},
			want: "MSH|^~\\&|RB|IMG|EHR|HOSP_A|20261122143015+0000||ACK^O01|A3|P|2.3\rMSA|AR|C3|rejected\r" +
				"ERR|PID^1^7^102&bad date&HL70357~MSH^1^9^200&no ADT here&HL70357\r",
		},
		{
			name: "custom delimiters and charset mirrored",
			msg:  "MSH#*!$@#EHR#H#RB#I#2026##ORU*R01#C4#P#2.6######8859/1\r",
			ack:  hl7.Ack{Code: hl7.CA, ControlID: "A4", Time: ackTime},
			want: "MSH#*!$@#RB#I#EHR#H#20261122143015+0000##ACK*R01*ACK#A4#P#2.6######8859/1\rMSA#CA#C4\r",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := hl7.Parse([]byte(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			got := string(hl7.AppendAck(nil, m.Header(), tc.ack))
			if diff := cmp.Diff(strings.Split(tc.want, "\r"), strings.Split(got, "\r")); diff != "" {
				t.Errorf("AppendAck mismatch (-want +got):\n%s", diff)
			}
			// The acknowledgment parses, and the issues read back.
			am, err := hl7.Parse([]byte(got))
			if err != nil {
				t.Fatalf("ACK does not parse: %v", err)
			}
			if len(tc.ack.Issues) > 0 {
				back := hl7.ReadIssues(am)
				if len(back) != len(tc.ack.Issues) {
					t.Fatalf("ReadIssues: %d issues, want %d", len(back), len(tc.ack.Issues))
				}
				for i, is := range back {
					w := tc.ack.Issues[i]
					if is.Code != w.Code || is.Text != w.Text || is.Location.Segment != w.Location.Segment || is.Location.Field != w.Location.Field {
						t.Errorf("issue %d read back as %+v, want %+v", i, is, w)
					}
				}
			}
		})
	}
}

func TestSalvageHeader(t *testing.T) {
	// MSH-2 is unusable, but the sender and control ID can still be acknowledged.
	h, ok := hl7.SalvageHeader([]byte("junk\rMSH|^^^^|EHR|HOSP_A|RB|IMG|2026||ORM^O01|C9|P|2.4\rPID|1"))
	if !ok {
		t.Fatal("SalvageHeader found nothing")
	}
	if h.ControlID != "C9" || h.SendingFacility != "HOSP_A" || h.Version != "2.4" || h.Type != "ORM" || h.Event != "O01" {
		t.Errorf("SalvageHeader = %+v", h)
	}
	ack := hl7.AppendAck(nil, h, hl7.Ack{Code: hl7.AR, ControlID: "R1", Time: ackTime, Issues: []hl7.Issue{{Location: hl7.Location{Segment: "MSH", Field: 2}, Code: hl7.CodeDataType, Text: "bad"}}})
	if err := hl7.CheckAck([]byte("MSH|^~\\&|EHR|HOSP_A|RB|IMG|2026||ORM^O01|C9|P|2.4\r"), ack); err == nil {
		t.Error("CheckAck accepted an AR")
	}
	// Nothing to mirror: the acknowledgment still names a version and processing ID.
	junk, _ := hl7.SalvageHeader([]byte("nothing here"))
	am, err := hl7.Parse(hl7.AppendAck(nil, junk, hl7.Ack{Code: hl7.AR, ControlID: "R2", Time: ackTime}))
	if err != nil || am.Get("MSH-12") != hl7.DefaultAckVersion || am.Get("MSH-11") != "P" {
		t.Errorf("ACK to junk: MSH-11 %q, MSH-12 %q, err %v", am.Get("MSH-11"), am.Get("MSH-12"), err)
	}
	if _, ok := hl7.SalvageHeader([]byte("nothing here")); ok {
		t.Error("SalvageHeader found a header in junk")
	}
}

func TestCheckAck(t *testing.T) {
	msg := []byte("MSH|^~\\&|A|B|C|D|2026||ORM^O01|MSG1|P|2.5.1\r")
	tests := []struct {
		name     string
		ack      string
		wantErr  error
		wantCode hl7.AckCode
	}{
		{name: "AA", ack: "MSH|^~\\&|C|D|A|B|2026||ACK|X|P|2.5.1\rMSA|AA|MSG1\r"},
		{name: "CA", ack: "MSH|^~\\&|C|D|A|B|2026||ACK|X|P|2.5.1\rMSA|CA|MSG1\r"},
		{name: "AE", ack: "MSH|^~\\&|C|D|A|B|2026||ACK|X|P|2.5.1\rMSA|AE|MSG1\rERR||PID^1^3|101^x^HL70357|E||||PID-3 missing\r", wantCode: hl7.AE},
		{name: "AR", ack: "MSH|^~\\&|C|D|A|B|2026||ACK|X|P|2.5.1\rMSA|AR|MSG1|nope\r", wantCode: hl7.AR},
		{name: "mismatch", ack: "MSH|^~\\&|C|D|A|B|2026||ACK|X|P|2.5.1\rMSA|AA|OTHER\r", wantErr: hl7.ErrAckMismatch},
		{name: "no MSA", ack: "MSH|^~\\&|C|D|A|B|2026||ACK|X|P|2.5.1\r", wantErr: hl7.ErrMissingMSA},
		{name: "garbage", ack: "garbage", wantErr: hl7.ErrNoHeader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := hl7.CheckAck(msg, []byte(tc.ack))
			var ae *hl7.AckError
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("CheckAck = %v, want %v", err, tc.wantErr)
				}
			case tc.wantCode != "":
				if !errors.As(err, &ae) || ae.Code != tc.wantCode {
					t.Fatalf("CheckAck = %v, want AckError %s", err, tc.wantCode)
				}
				if ae.Text == "" {
					t.Error("AckError has no text")
				}
			case err != nil:
				t.Errorf("CheckAck = %v, want nil", err)
			}
		})
	}
}

func TestHeader_EnhancedMode(t *testing.T) {
	tests := []struct {
		msh15, msh16         string
		enhanced, onOK, onER bool
	}{
		{enhanced: false, onOK: true, onER: true},
		{msh15: "AL", msh16: "NE", enhanced: true, onOK: true, onER: true},
		{msh15: "NE", msh16: "AL", enhanced: true, onOK: false, onER: false},
		{msh15: "ER", enhanced: true, onOK: false, onER: true},
		{msh15: "SU", enhanced: true, onOK: true, onER: false},
	}
	for _, tc := range tests {
		m, err := hl7.Parse([]byte("MSH|^~\\&|A|B|C|D|2026||ORM^O01|1|P|2.5|||" + tc.msh15 + "|" + tc.msh16 + "\r"))
		if err != nil {
			t.Fatal(err)
		}
		h := m.Header()
		if h.Enhanced() != tc.enhanced || h.WantsAccept(true) != tc.onOK || h.WantsAccept(false) != tc.onER {
			t.Errorf("MSH-15=%q MSH-16=%q: Enhanced=%v WantsAccept(ok)=%v WantsAccept(err)=%v", tc.msh15, tc.msh16, h.Enhanced(), h.WantsAccept(true), h.WantsAccept(false))
		}
	}
	if hl7.AE.Commit() != hl7.CA || hl7.AA.Commit() != hl7.CA || hl7.AR.Commit() != hl7.CR {
		t.Error("Commit() mapping wrong")
	}
}

func TestWriter(t *testing.T) {
	w := hl7.NewWriter(hl7.DefaultDelimiters)
	w.Segment("MSH").Set(3, "RADBRIDGE").Set(9, "ORU", "R01", "ORU_R01").Set(10, "1").Set(12, "2.5.1")
	w.Segment("PID").Set(3, "MRN", "", "", "AUTH", "MR").Rep().Text("X").Set(5, "O'NEIL|X", "ANN", "")
	w.Segment("OBX").Set(1, "1").Set(5, "line one\nline two").Field(7).Raw(`\.br\`)
	got := string(w.Bytes())
	want := "MSH|^~\\&|RADBRIDGE||||||ORU^R01^ORU_R01|1||2.5.1\r" +
		"PID|||MRN^^^AUTH^MR~X||O'NEIL\\F\\X^ANN\r" +
		"OBX|1||||line one\\X0A\\line two||\\.br\\\r"
	if got != want {
		t.Errorf("Writer produced\n%q\nwant\n%q", got, want)
	}
	m, err := hl7.Parse([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if v := m.Get("OBX-5"); v != "line one\nline two" {
		t.Errorf("OBX-5 read back as %q", v)
	}
	if v := m.Get("PID-5"); v != "O'NEIL|X" {
		t.Errorf("PID-5 read back as %q", v)
	}
}

// CheckAck reads the sent control ID from the message's header segment, whatever
// follows it and however the message is laid out.
func TestCheckAck_SentMessageLayouts(t *testing.T) {
	ack := []byte("MSH|^~\\&|C|D|A|B|2026||ACK|X|P|2.5.1\rMSA|AA|MSG1\r")
	for name, msg := range map[string]string{
		"CR segments":           "MSH|^~\\&|A|B|C|D|2026||ORM^O01| MSG1 |P|2.5.1\rPID|1||X\r",
		"LF segments":           "MSH|^~\\&|A|B|C|D|2026||ORM^O01|MSG1|P|2.5.1\nPID|1||X\n",
		"no terminator":         "MSH|^~\\&|A|B|C|D|2026||ORM^O01|MSG1|P|2.5.1",
		"blank lines and a BOM": "\ufeff\r\nMSH|^~\\&|A|B|C|D|2026||ORM^O01|MSG1|P|2.5.1\rPID|1\r",
		"unparseable later":     "MSH|^~\\&|A|B|C|D|2026||ORM^O01|MSG1|P|2.5.1\r\x00\x01 junk\rPID|1\r",
		"other delimiters":      "MSH#*~\\&#A#B#C#D#2026##ORM*O01#MSG1#P#2.5.1\rPID#1\r",
	} {
		if err := hl7.CheckAck([]byte(msg), ack); err != nil {
			t.Errorf("%s: CheckAck = %v, want nil", name, err)
		}
	}
	if err := hl7.CheckAck([]byte("MSH|^~\\&|A|B|C|D|2026||ORM^O01|MSG2|P|2.5.1\rPID|1\r"), ack); !errors.Is(err, hl7.ErrAckMismatch) {
		t.Errorf("another control ID: CheckAck = %v, want ErrAckMismatch", err)
	}
}

// An acknowledgment mirrors the message's delimiters, and MSA-2 gives MSH-10 back
// byte for byte, whatever the delimiters: the sender matches the two. Messages that
// Parse rejects are answered from SalvageHeader, as the engine does.
func TestAppendAck_Delimiters(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		code hl7.AckCode
		want string // the acknowledgment, MSH and MSA
	}{
		{
			name: "delimiters in MSH-10",
			msg:  "MSH|^~\\&|EHR|HOSP|RB|IMG|2026||ORM^O01|C^1~2&3|P|2.5.1\r",
			want: "MSH|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||ACK^O01^ACK|A1|P|2.5.1\rMSA|AA|C^1~2&3\r",
		},
		{
			name: "escape sequences in MSH-10",
			msg:  "MSH|^~\\&|EHR|HOSP|RB|IMG|2026||ORM^O01|A\\X41\\\\.br\\|P|2.5.1\r",
			want: "MSH|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||ACK^O01^ACK|A1|P|2.5.1\rMSA|AA|A\\X41\\\\.br\\\r",
		},
		{
			name: "five characters, v2.7 truncation character",
			msg:  "MSH|^~\\&#|EHR|HOSP|RB|IMG|2026||ORM^O01^ORM_O01|AB#1|P|2.7\r",
			want: "MSH|^~\\&#|RB|IMG|EHR|HOSP|20261122143015+0000||ACK^O01^ACK|A1|P|2.7\rMSA|AA|AB#1\r",
		},
		{
			name: "five characters in a v2.5 message",
			msg:  "MSH|^~\\&#|EHR|HOSP|RB|IMG|2026||ORM^O01|C#2|P|2.5\r",
			want: "MSH|^~\\&#|RB|IMG|EHR|HOSP|20261122143015+0000||ACK^O01^ACK|A1|P|2.5\rMSA|AA|C#2\r",
		},
		{
			name: "field separator ^",
			msg:  "MSH^|~\\&^EHR|1.2^HOSP^RB^IMG^2026^^ORM|O01^C3^P^2.5.1\r",
			want: "MSH^|~\\&^RB^IMG^EHR|1.2^HOSP^20261122143015+0000^^ACK|O01|ACK^A1^P^2.5.1\rMSA^AA^C3\r",
		},
		{
			name: "field separator #",
			msg:  "MSH#*!$@#EHR*X#H#RB#I#2026##ORU*R01#C$F$4#P#2.6######8859/1\r",
			want: "MSH#*!$@#RB#I#EHR*X#H#20261122143015+0000##ACK*R01*ACK#A1#P#2.6######8859/1\rMSA#AA#C$F$4\r",
		},
		{
			name: "two characters: no escape character",
			msg:  "MSH|^~|EHR|HOSP|RB|IMG|2026||ORM^O01|C^5|P|2.3\r",
			want: "MSH|^~|RB|IMG|EHR|HOSP|20261122143015+0000||ACK^O01|A1|P|2.3\rMSA|AA|C^5\r",
		},
		{
			name: "one character, ERR-1 without repetition or subcomponent",
			msg:  "MSH|^|EHR|HOSP|RB|IMG|2026||ORM^O01|C^6|P|2.3\r",
			code: hl7.AE,
			want: "MSH|^|RB|IMG|EHR|HOSP|20261122143015+0000||ACK^O01|A1|P|2.3\rMSA|AE|C^6\r" +
				"ERR|PID^1^3^101\rERR|OBR^1^4^103\r",
		},
		{
			name: "Latin-1 control ID",
			msg:  "MSH|^~\\&|EHR|HOSP|RB|IMG|2026||ORM^O01|C\xe97|P|2.5.1||||||8859/1\r",
			want: "MSH|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||ACK^O01^ACK|A1|P|2.5.1||||||8859/1\rMSA|AA|C\xe97\r",
		},
		{
			name: "duplicated encoding characters",
			msg:  "MSH|^^~\\|EHR|HOSP|RB|IMG|2026||ORM^O01|C8|P|2.5.1\r",
			code: hl7.AR,
			want: "MSH|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||ACK^O01^ACK|A1|P|2.5.1\rMSA|AR|C8\r",
		},
		{
			name: "field separator ^, unusable MSH-2",
			msg:  "MSH^||~~^EHR|1^HOSP^RB^IMG^2026^^ORM^C9^P^2.5.1\r",
			code: hl7.AR,
			want: "MSH|^~\\&|RB|IMG||HOSP|20261122143015+0000||ACK^^ACK|A1|P|2.5.1\rMSA|AR|C9\r",
		},
		{
			name: "good header, bad segment later",
			msg:  "MSH#*!$@#EHR#H#RB#I#2026##ORM*O01#C$T$10#P#2.5.1\rpid#1\r",
			code: hl7.AR,
			want: "MSH#*!$@#RB#I#EHR#H#20261122143015+0000##ACK*O01*ACK#A1#P#2.5.1\rMSA#AR#C$T$10\r",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h hl7.Header
			if m, err := hl7.Parse([]byte(tc.msg)); err == nil {
				h = m.Header()
			} else if h, _ = hl7.SalvageHeader([]byte(tc.msg)); tc.code != hl7.AR {
				t.Fatalf("Parse(%q) = %v", tc.msg, err)
			}
			a := hl7.Ack{Code: hl7.AA, ControlID: "A1", Time: ackTime}
			if tc.code != "" {
				a.Code = tc.code
			}
			if a.Code == hl7.AE {
				a.Issues = []hl7.Issue{
					{Location: hl7.Location{Segment: "PID", Field: 3}, Code: hl7.CodeRequiredField, Text: "missing"},
					{Location: hl7.Location{Segment: "OBR", Field: 4}, Code: hl7.CodeTableValue, Text: "unknown"},
				}
			}
			got := string(hl7.AppendAck(nil, h, a))
			if diff := cmp.Diff(strings.Split(tc.want, "\r"), strings.Split(got, "\r")); diff != "" {
				t.Errorf("AppendAck(%q) mismatch (-want +got):\n%s", tc.msg, diff)
			}
			if _, err := hl7.Parse([]byte(got)); err != nil {
				t.Errorf("ACK does not parse: %v", err)
			}
			err := hl7.CheckAck([]byte(tc.msg), []byte(got))
			if a.Code == hl7.AA && err != nil || a.Code != hl7.AA && errors.Is(err, hl7.ErrAckMismatch) {
				t.Errorf("CheckAck(%q) = %v", tc.msg, err)
			}
		})
	}
}

// MSA-2 echoes at most hl7.MaxControlIDLength characters of MSH-10, counted as HL7 counts
// them (an escape sequence by the characters between its escape characters), and never
// cuts inside an escape sequence or a character.
func TestAppendAck_LongControlID(t *testing.T) {
	a := strings.Repeat("A", 198)
	uuid := "123e4567-e89b-12d3-a456-426614174000"
	tests := []struct {
		name string
		msg  string // %s is MSH-10
		id   string
		want string // MSA-2
	}{
		{name: "over the limit", msg: "MSH|^~\\&|A|B|C|D|2026||ORM^O01|%s|P|2.5.1\r", id: a + "BBBB", want: a + "B"},
		{name: "at the limit", msg: "MSH|^~\\&|A|B|C|D|2026||ORM^O01|%s|P|2.5.1\r", id: a + "B", want: a + "B"},
		{name: "UUID in a v2.3 message", msg: "MSH|^~\\&|A|B|C|D|2026||ORM^O01|%s|P|2.3\r", id: uuid, want: uuid},
		{name: "escape sequence fits", msg: "MSH|^~\\&|A|B|C|D|2026||ORM^O01|%s|P|2.5.1\r", id: a + `\F\BBB`, want: a + `\F\`},
		{name: "escape sequence does not fit", msg: "MSH|^~\\&|A|B|C|D|2026||ORM^O01|%s|P|2.5.1\r", id: a + `\X0D0A\`, want: a},
		{name: "UTF-8 character kept whole", msg: "MSH|^~\\&|A|B|C|D|2026||ORM^O01|%s|P|2.5.1||||||UNICODE UTF-8\r", id: a + "ééé", want: a + "é"},
		{name: "Latin-1 bytes", msg: "MSH|^~\\&|A|B|C|D|2026||ORM^O01|%s|P|2.5.1||||||8859/1\r", id: a + "\xe9\xe9", want: a + "\xe9"},
		{name: "truncation character marks the cut", msg: "MSH|^~\\&#|A|B|C|D|2026||ORM^O01|%s|P|2.7\r", id: a + "BB", want: a + "#"},
		{name: "truncation character, at the limit", msg: "MSH|^~\\&#|A|B|C|D|2026||ORM^O01|%s|P|2.7\r", id: a + "B", want: a + "B"},
		{name: "encoded afresh", msg: "MSH^||~~^A^B^C^D^2026^^ORM^%s^P^2.5.1\r", id: a + "|B", want: a + `\F\`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := []byte(fmt.Sprintf(tc.msg, tc.id))
			var h hl7.Header
			if m, err := hl7.Parse(msg); err == nil {
				h = m.Header()
			} else {
				h, _ = hl7.SalvageHeader(msg)
			}
			ack := hl7.AppendAck(nil, h, hl7.Ack{Code: hl7.AA, ControlID: "A1", Time: ackTime})
			am, err := hl7.Parse(ack)
			if err != nil {
				t.Fatalf("ACK does not parse: %v", err)
			}
			msa, _ := am.Segment("MSA")
			if got := string(msa.Field(2).Bytes()); got != tc.want {
				t.Errorf("MSA-2 = %q (%d bytes), want %q (%d bytes)", got, len(got), tc.want, len(tc.want))
			}
			if err := hl7.CheckAck(msg, ack); err != nil {
				t.Errorf("CheckAck = %v, want nil", err)
			}
		})
	}
}
