package hl7_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/radbridge/radbridge/hl7"
)

// msg returns a one-segment ORM message with control ID id, and a PID segment.
func msg(id string) string {
	return "MSH|^~\\&|EHR|HOSP|RB|IMG|20261122||ORM^O01|" + id + "|P|2.5.1\rPID|1||" + id + "\r"
}

const (
	fhs = "FHS|^~\\&|EHR|HOSP|RB|IMG|20261122||orders.hl7|nightly|F1\r"
	bhs = "BHS|^~\\&|EHR|HOSP|RB|IMG|20261122||ORM|first|B1\r"
)

// batchShape is what a test expects of a BatchFile: the control IDs of each batch's
// messages (as Parse reads them, "!" for a message Parse rejects), the BHS-11 of each
// batch ("-" for none), the declared counts, and the issues as "LOCATION CODE".
type batchShape struct {
	Messages [][]string
	Headers  []string
	Counts   []int // BTS-1 per batch, -2 for no BTS
	File     string
	FTS      int // -2 for no FTS
	Issues   []string
}

func shapeOf(t *testing.T, in []byte, f *hl7.BatchFile) batchShape {
	t.Helper()
	s := batchShape{File: "-", FTS: -2}
	if f.Header != nil {
		s.File = f.Header.ControlID
	}
	if f.Trailer != nil {
		s.FTS = f.Trailer.Count
	}
	index := 0
	for _, b := range f.Batches {
		var ids []string
		for _, m := range b.Messages {
			index++
			if m.Index != index || !bytes.Equal(in[m.Offset:m.Offset+len(m.Bytes)], m.Bytes) {
				t.Errorf("message %d: Index %d, Bytes %q not at offset %d of the input", index, m.Index, m.Bytes, m.Offset)
			}
			pm, err := hl7.Parse(m.Bytes)
			if err != nil {
				ids = append(ids, "!")
				continue
			}
			ids = append(ids, pm.Header().ControlID)
		}
		s.Messages = append(s.Messages, ids)
		h, c := "-", -2
		if b.Header != nil {
			h = b.Header.ControlID
		}
		if b.Trailer != nil {
			c = b.Trailer.Count
		}
		s.Headers, s.Counts = append(s.Headers, h), append(s.Counts, c)
	}
	for _, is := range f.Issues {
		s.Issues = append(s.Issues, fmt.Sprintf("%s %d", is.Location, is.Code))
	}
	if n := f.NumMessages(); n != index {
		t.Errorf("NumMessages() = %d, batches hold %d", n, index)
	}
	return s
}

func TestParseBatch(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want batchShape
	}{
		{
			name: "file of two batches",
			in:   fhs + bhs + msg("M1") + msg("M2") + "BTS|2\r" + strings.Replace(bhs, "B1", "B2", 1) + msg("M3") + "BTS|1\rFTS|2\r",
			want: batchShape{Messages: [][]string{{"M1", "M2"}, {"M3"}}, Headers: []string{"B1", "B2"}, Counts: []int{2, 1}, File: "F1", FTS: 2},
		},
		{
			name: "batch without FHS",
			in:   bhs + msg("M1") + msg("M2") + "BTS|2\r",
			want: batchShape{Messages: [][]string{{"M1", "M2"}}, Headers: []string{"B1"}, Counts: []int{2}, File: "-", FTS: -2},
		},
		{
			name: "empty batch",
			in:   bhs + "BTS|0\r",
			want: batchShape{Messages: [][]string{nil}, Headers: []string{"B1"}, Counts: []int{0}, File: "-", FTS: -2},
		},
		{
			name: "empty batch without trailer count",
			in:   fhs + bhs + "BTS\rFTS|1\r",
			want: batchShape{Messages: [][]string{nil}, Headers: []string{"B1"}, Counts: []int{-1}, File: "F1", FTS: 1},
		},
		{
			name: "file header and messages, no batch header",
			in:   fhs + msg("M1") + msg("M2") + "FTS|1\r",
			want: batchShape{Messages: [][]string{{"M1", "M2"}}, Headers: []string{"-"}, Counts: []int{-2}, File: "F1", FTS: 1},
		},
		{
			name: "concatenated messages",
			in:   msg("M1") + msg("M2"),
			want: batchShape{Messages: [][]string{{"M1", "M2"}}, Headers: []string{"-"}, Counts: []int{-2}, File: "-", FTS: -2},
		},
		{
			name: "BTS-1 counts fewer messages",
			in:   bhs + msg("M1") + msg("M2") + "BTS|1\r" + bhs + msg("M3") + "BTS|3\r",
			want: batchShape{Messages: [][]string{{"M1", "M2"}, {"M3"}}, Headers: []string{"B1", "B1"}, Counts: []int{1, 3}, File: "-", FTS: -2,
				Issues: []string{"BTS-1 100", "BTS(2)-1 100"}},
		},
		{
			name: "FTS-1 counts batches",
			in:   fhs + bhs + msg("M1") + "BTS|1\rFTS|3\r",
			want: batchShape{Messages: [][]string{{"M1"}}, Headers: []string{"B1"}, Counts: []int{1}, File: "F1", FTS: 3, Issues: []string{"FTS-1 100"}},
		},
		{
			name: "count that is not a number",
			in:   bhs + msg("M1") + "BTS|one\r",
			want: batchShape{Messages: [][]string{{"M1"}}, Headers: []string{"B1"}, Counts: []int{-1}, File: "-", FTS: -2, Issues: []string{"BTS-1 102"}},
		},
		{
			name: "text before the first message",
			in:   bhs + "not a segment\r" + msg("M1") + "BTS|2\r",
			want: batchShape{Messages: [][]string{{"!", "M1"}}, Headers: []string{"B1"}, Counts: []int{2}, File: "-", FTS: -2},
		},
		{
			name: "message with a bad header",
			in:   bhs + "MSH|^^^^|EHR|HOSP|RB|IMG|2026||ORM^O01|M1|P|2.5.1\r" + msg("M2") + "BTS|2\r",
			want: batchShape{Messages: [][]string{{"!", "M2"}}, Headers: []string{"B1"}, Counts: []int{2}, File: "-", FTS: -2},
		},
		{
			name: "messages after a trailer without a new header",
			in:   bhs + msg("M1") + "BTS|1\r" + msg("M2"),
			want: batchShape{Messages: [][]string{{"M1"}, {"M2"}}, Headers: []string{"B1", "-"}, Counts: []int{1, -2}, File: "-", FTS: -2},
		},
		{
			name: "segments after the file trailer",
			in:   fhs + msg("M1") + "FTS|1\r" + msg("M2"),
			want: batchShape{Messages: [][]string{{"M1"}, {"M2"}}, Headers: []string{"-", "-"}, Counts: []int{-2, -2}, File: "F1", FTS: 1,
				Issues: []string{" 100", "FTS-1 100"}},
		},
		{
			name: "file header not first",
			in:   bhs + fhs + msg("M1") + "BTS|1\r",
			want: batchShape{Messages: [][]string{{"M1"}}, Headers: []string{"B1"}, Counts: []int{1}, File: "-", FTS: -2, Issues: []string{"FHS 100"}},
		},
		{
			name: "unusable batch header delimiters",
			in:   "BHS|^^|EHR\r" + msg("M1") + "BTS|1\r",
			want: batchShape{Messages: [][]string{{"M1"}}, Headers: []string{""}, Counts: []int{1}, File: "-", FTS: -2, Issues: []string{"BHS 102"}},
		},
		{
			name: "LF, CRLF, blank lines and framing bytes",
			in:   "\ufeff\x0b" + strings.ReplaceAll(fhs+bhs, "\r", "\r\n") + "\r\n" + strings.ReplaceAll(msg("M1"), "\r", "\n") + "\n\n  " + msg("M2") + "\x1c\rBTS|2\nFTS|1",
			want: batchShape{Messages: [][]string{{"M1", "M2"}}, Headers: []string{"B1"}, Counts: []int{2}, File: "F1", FTS: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			f, err := hl7.ParseBatch(in)
			if err != nil {
				t.Fatalf("ParseBatch = %v", err)
			}
			if diff := cmp.Diff(tc.want, shapeOf(t, in, f)); diff != "" {
				t.Errorf("ParseBatch(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// A message's Bytes are exactly what was received: its segments with their own
// terminators, and nothing of the blank lines, framing bytes or envelope around it.
func TestParseBatch_MessageBytes(t *testing.T) {
	m1 := "MSH|^~\\&|EHR|HOSP|RB|IMG|2026||ORM^O01|M1|P|2.5.1\r\nPID|1\r\n\r\nNTE|1|| spaced \r\n"
	m2 := "MSH|^~\\&|EHR|HOSP|RB|IMG|2026||ORM^O01|M2|P|2.5.1\nPID|2"
	in := "BHS|^~\\&\r\n\r\n" + m1 + "\r\n\x1c\x0b" + m2 + "\rBTS|2\r"
	f, err := hl7.ParseBatch([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range f.Messages() {
		got = append(got, string(m.Bytes))
	}
	if diff := cmp.Diff([]string{m1, m2 + "\r"}, got); diff != "" {
		t.Errorf("message bytes mismatch (-want +got):\n%s", diff)
	}
	h := f.Batches[0].Header
	if h == nil || string(h.Bytes) != "BHS|^~\\&" || h.Offset != 0 || f.Batches[0].Trailer.Offset != strings.Index(in, "BTS") {
		t.Errorf("envelope segments = %+v, %+v", h, f.Batches[0].Trailer)
	}
}

func TestParseBatch_Header(t *testing.T) {
	f, err := hl7.ParseBatch([]byte("FHS#*!$@#EHR*1.2#HOSP#RB#IMG#20261122093000##orders$F$1#night$T$day#F\\1#F0\rBHS|^~\\&|A|B|C|D|||b|c|B1|B0\rBTS|0|done\rFTS|1|end\r"))
	if err != nil {
		t.Fatal(err)
	}
	got := *f.Header
	got.Bytes = nil
	want := hl7.BatchHeader{
		Segment: "FHS", Delims: hl7.Delimiters{Field: '#', Component: '*', Repetition: '!', Escape: '$', Subcomponent: '@'},
		SendingApp: "EHR*1.2", SendingFacility: "HOSP", ReceivingApp: "RB", ReceivingFacility: "IMG", Time: "20261122093000",
		Name: "orders#1", Comment: "night@day", ControlID: "F\\1", RawControlID: "F\\1", ReferenceID: "F0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FHS mismatch (-want +got):\n%s", diff)
	}
	if b := f.Batches[0]; b.Header.ReferenceID != "B0" || b.Trailer.Comment != "done" || f.Trailer.Comment != "end" {
		t.Errorf("BHS-12 %q, BTS-2 %q, FTS-2 %q", b.Header.ReferenceID, b.Trailer.Comment, f.Trailer.Comment)
	}
}

func TestParseBatch_NoSegment(t *testing.T) {
	for _, in := range []string{"", "\r\n\r\n", "\ufeff \x0b\x1c\r"} {
		if f, err := hl7.ParseBatch([]byte(in)); !errors.Is(err, hl7.ErrNoHeader) {
			t.Errorf("ParseBatch(%q) = %+v, %v, want ErrNoHeader", in, f, err)
		}
	}
}

func TestIsBatch(t *testing.T) {
	for in, want := range map[string]bool{
		fhs:                       true,
		bhs + msg("M1"):           true,
		"\ufeff\r\n\x0b  " + bhs:  true,
		"BHS":                     true,
		msg("M1"):                 false,
		"BTS|0\r":                 false,
		"BHSX|":                   false,
		"":                        false,
		"MSH|^~\\&\rBHS|^~\\&\r":  false,
		"junk\r" + bhs + "BTS\r":  false,
		"FHS|^~\\&\rFTS|0\r" + "": true,
	} {
		if got := hl7.IsBatch([]byte(in)); got != want {
			t.Errorf("IsBatch(%q) = %v, want %v", in, got, want)
		}
	}
	// What IsBatch calls a batch, Parse rejects with ErrBatch.
	if _, err := hl7.Parse([]byte(bhs + msg("M1"))); !errors.Is(err, hl7.ErrBatch) {
		t.Errorf("Parse(batch) = %v, want ErrBatch", err)
	}
}

// ackAll answers every message of f as AppendAck does, with the code codes[i] (AA when
// codes is short), nil where codes[i] is "-".
func ackAll(t *testing.T, f *hl7.BatchFile, codes ...hl7.AckCode) [][]byte {
	t.Helper()
	var acks [][]byte
	for m := range f.Messages() {
		code := hl7.AA
		if i := len(acks); i < len(codes) {
			code = codes[i]
		}
		if code == "-" {
			acks = append(acks, nil)
			continue
		}
		pm, err := hl7.Parse(m.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, hl7.AppendAck(nil, pm.Header(), hl7.Ack{Code: code, ControlID: "A" + pm.Header().ControlID, Time: ackTime}))
	}
	return acks
}

// ack is the acknowledgment ackAll builds for msg(id).
func ack(code hl7.AckCode, id string) string {
	return "MSH|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||ACK^O01^ACK|A" + id + "|P|2.5.1\rMSA|" + string(code) + "|" + id + "\r"
}

func TestAppendBatchAck(t *testing.T) {
	file := fhs + bhs + msg("M1") + msg("M2") + "BTS|2\r" + strings.Replace(bhs, "B1", "B2", 1) + msg("M3") + "BTS|1\rFTS|2\r"
	tests := []struct {
		name  string
		in    string
		codes []hl7.AckCode
		opt   hl7.BatchAck
		want  string
	}{
		{
			name:  "file of two batches, every acknowledgment",
			in:    file,
			codes: []hl7.AckCode{hl7.AA, hl7.AE, hl7.AA},
			want: "FHS|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||||R1|F1\r" +
				"BHS|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||||R1-1|B1\r" + ack(hl7.AA, "M1") + ack(hl7.AE, "M2") + "BTS|2\r" +
				"BHS|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||||R1-2|B2\r" + ack(hl7.AA, "M3") + "BTS|1\r" +
				"FTS|2\r",
		},
		{
			name:  "errors only",
			in:    file,
			codes: []hl7.AckCode{hl7.AA, hl7.AE, hl7.AA},
			opt:   hl7.BatchAck{ErrorsOnly: true},
			want: "FHS|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||||R1|F1\r" +
				"BHS|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||||R1-1|B1\r" + ack(hl7.AE, "M2") + "BTS|1\r" +
				"BHS|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||||R1-2|B2\rBTS|0\r" +
				"FTS|2\r",
		},
		{
			name:  "acknowledgments the sender does not want are left out",
			in:    bhs + msg("M1") + msg("M2") + "BTS|2\r",
			codes: []hl7.AckCode{"-", hl7.AR},
			want:  "BHS|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||||R1|B1\r" + ack(hl7.AR, "M2") + "BTS|1\r",
		},
		{
			name: "empty batch",
			in:   "BHS|^~\\&|EHR|HOSP|RB|IMG|2026||||B0\rBTS|0\r",
			want: "BHS|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||||R1|B0\rBTS|0\r",
		},
		{
			name: "no batch header: the file header's sender",
			in:   fhs + msg("M1") + "FTS|1\r",
			want: "FHS|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||||R1|F1\r" +
				"BHS|^~\\&|RB|IMG|EHR|HOSP|20261122143015+0000||||R1|F1\r" + ack(hl7.AA, "M1") + "BTS|1\rFTS|1\r",
		},
		{
			name: "concatenated messages",
			in:   msg("M1") + msg("M2"),
			want: "BHS|^~\\&|||||20261122143015+0000||||R1\r" + ack(hl7.AA, "M1") + ack(hl7.AA, "M2") + "BTS|2\r",
		},
		{
			name: "batch delimiters mirrored, control ID echoed as sent, comment",
			in:   "BHS#*!$@#EHR*1#H#RB#I#2026####B$F$1\r" + msg("M1") + "BTS#1\r",
			opt:  hl7.BatchAck{Comment: "BTS-1 declares 2 messages; the batch holds 1"},
			want: "BHS#*!$@#RB#I#EHR*1#H#20261122143015+0000###BTS-1 declares 2 messages; the batch holds 1#R1#B$F$1\r" +
				ack(hl7.AA, "M1") + "BTS#1\r",
		},
		{
			name: "long batch control ID and comment",
			in:   "BHS|^~\\&|||||||||" + strings.Repeat("B", 250) + "\rBTS|0\r",
			opt:  hl7.BatchAck{Comment: strings.Repeat("c", 79) + "|x"},
			want: "BHS|^~\\&|||||20261122143015+0000|||" + strings.Repeat("c", 79) + "\\F\\|R1|" + strings.Repeat("B", hl7.MaxControlIDLength) + "\rBTS|0\r",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := hl7.ParseBatch([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			a := tc.opt
			a.ControlID, a.Time = "R1", ackTime
			got := string(hl7.AppendBatchAck(nil, f, ackAll(t, f, tc.codes...), a))
			if diff := cmp.Diff(strings.Split(tc.want, "\r"), strings.Split(got, "\r")); diff != "" {
				t.Errorf("AppendBatchAck mismatch (-want +got):\n%s", diff)
			}
			// The answer is itself a well-formed batch, its counts right.
			back, err := hl7.ParseBatch([]byte(got))
			if err != nil || len(back.Issues) > 0 || len(back.Batches) != len(f.Batches) {
				t.Errorf("answer reads back as %+v, %v", back, err)
			}
		})
	}
}

func TestAppendBatchAck_WrongNumberOfAcks(t *testing.T) {
	f, err := hl7.ParseBatch([]byte(bhs + msg("M1") + "BTS|1\r"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("AppendBatchAck with no acknowledgment for one message did not panic")
		}
	}()
	hl7.AppendBatchAck(nil, f, nil, hl7.BatchAck{})
}
