package order

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sameAsMarshal fails the test unless o.AppendJSON appends exactly what json.Marshal(o)
// writes, or both fail (leaving the buffer unchanged).
func sameAsMarshal(tb testing.TB, o *Order) {
	tb.Helper()
	want, wantErr := json.Marshal(o)
	const prefix = "prefix:"
	got, err := o.AppendJSON([]byte(prefix))
	switch {
	case wantErr != nil && err != nil:
		if string(got) != prefix {
			tb.Fatalf("failed AppendJSON(%q) = %q, want %q", prefix, got, prefix)
		}
		return
	case wantErr != nil || err != nil:
		tb.Fatalf("AppendJSON error: %v; json.Marshal error: %v\norder: %#v", err, wantErr, o)
	}
	if !strings.HasPrefix(string(got), prefix) {
		tb.Fatalf("AppendJSON(%q) = %q, does not keep the prefix", prefix, got)
	}
	if got := got[len(prefix):]; !bytes.Equal(got, want) {
		tb.Fatalf("AppendJSON differs from json.Marshal at byte %d:\n got %s\nwant %s\norder: %#v",
			firstDiff(got, want), got, want, o)
	}
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// hostile is a string with everything JSON string escaping treats specially.
const hostile = "a\"b\\c</script>&\x00\x01\x1f\x7f\b\f\n\r\t\u2028\u2029é日本🙂\xff\xc3(\xed\xa0\x80\xf4\x90\x80\x80z"

// benchOrder is the order the engine stores for the message `radbridge bench mllp`
// sends: mapped, checked, received and settled.
func benchOrder() *Order {
	at := time.Date(2026, 11, 1, 8, 0, 1, 123456789, time.UTC)
	placed := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	return &Order{
		ID: "O000000000042",
		Source: Source{Kind: SourceV2, SendingApp: "BENCH", SendingFacility: "BENCH_FAC",
			ReceivingApp: "RADBRIDGE", ReceivingFacility: "IMG", Version: "2.5.1", MessageID: "M000000000042"},
		Placer:      "b1-42",
		ControlCode: "NW",
		Patient: Patient{Identifiers: []Identifier{{Value: "MRNb1-42", System: "BENCH_FAC", Type: "MR"}},
			Family: "DOE", Given: "JANE", Middle: "Q", BirthDate: "1980-01-02", Sex: "female"},
		EncounterClass: ClassOutpatient,
		Provider:       Provider{NPI: "1234567893", Family: "SMITH", Given: "JOHN", Prefix: "DR"},
		Procedure: Procedure{Code: "70553", System: "C4", CPT: "70553", Text: "MRI BRAIN WITHOUT THEN WITH CONTRAST",
			Modality: "MR", BodySite: "head/brain"},
		Diagnoses: []Diagnosis{{Code: "R51.9", System: "I10", Text: "Headache"}},
		Reason:    "Headache",
		Priority:  PriorityRoutine,
		Authored:  placed,
		Signature: Signature{Signer: "SMITH, JOHN", SignerNPI: "1234567893", Time: placed, Present: true},
		Coverage:  []Coverage{{Payer: "AETNA01", PayerName: "AETNA", Plan: "PPO1"}},
		Authorization: Authorization{Required: true, Status: AuthApproved, Number: "AUTH778899",
			Reason: "CPT 70553 (MRI brain (incl. brain stem) without then with contrast) requires prior authorization"},
		Status: StatusReady,
		History: []Transition{
			{At: at, To: StatusReceived, Cause: "ORC-1=NW", MessageID: "M000000000042"},
			{At: at, From: StatusReceived, To: StatusReady, Cause: "checks: 0 findings, authorization approved",
				MessageID: "M000000000042"},
		},
		Created: at,
		Updated: at,
	}
}

func TestOrder_AppendJSON(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	withHostile := fullOrder()
	fl := &filler{r: rand.New(rand.NewPCG(1, 2)), full: true, str: func(*rand.Rand) string { return hostile }}
	fl.fill(t, "Order", reflect.ValueOf(withHostile).Elem())
	tests := []struct {
		name string
		o    *Order
	}{
		{name: "nil", o: nil},
		{name: "zero", o: &Order{}},
		{name: "full", o: fullOrder()},
		{name: "bench", o: benchOrder()},
		{name: "hostile strings everywhere", o: withHostile},
		{name: "empty slices", o: &Order{Diagnoses: []Diagnosis{}, Coverage: []Coverage{}, Findings: []Finding{},
			Results: []Result{{Observations: []Observation{}, Presented: []Attachment{{Data: []byte{}}}}}, History: []Transition{}}},
		{name: "empty elements", o: &Order{Diagnoses: []Diagnosis{{}, {}}, Results: []Result{{}},
			History: []Transition{{}}, Patient: Patient{Identifiers: []Identifier{{}}}}},
		{name: "patient with empty identifiers is not zero", o: &Order{Patient: Patient{Identifiers: []Identifier{}}}},
		{name: "patient name only", o: &Order{Patient: Patient{Family: "DOE"}}},
		{name: "zero instant in a zone", o: &Order{Authored: time.Time{}.In(est), Signature: Signature{Time: time.Time{}.In(est)},
			Authorization: Authorization{DueBy: time.Time{}.In(est)}}},
		{name: "one flag", o: &Order{Signature: Signature{Present: true}, Authorization: Authorization{Exempt: true}}},
		{name: "not ready, empty reasons", o: &Order{ReadyToSchedule: ReadyToSchedule{Reasons: []string{}}}},
		{name: "ready, no reasons", o: &Order{ReadyToSchedule: ReadyToSchedule{Ready: true}}},
		{name: "not ready, reasons", o: &Order{ReadyToSchedule: ReadyToSchedule{Reasons: []string{hostile, ""}}}},
		{name: "zero instants in setting and eligibility", o: &Order{Setting: Setting{Start: time.Time{}.In(est)},
			Eligibility: Eligibility{Checked: time.Time{}.In(est)}, Requested: time.Time{}.In(est)}},
		{name: "interpreter only", o: &Order{Results: []Result{{Interpreter: Provider{Suffix: "MD"}}}}},
		{name: "binary attachment", o: &Order{Results: []Result{{Presented: []Attachment{
			{Data: []byte{0}}, {Data: []byte{0xff, 0xfe}}, {Data: []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")}, {Title: "no data"},
		}}}}},
		{name: "times", o: &Order{
			Authored:  time.Date(2026, 3, 8, 2, 30, 0, 0, est),
			Signature: Signature{Time: time.Date(2026, 3, 8, 2, 30, 0, 100, time.FixedZone("", 5*3600+30*60))},
			Authorization: Authorization{DueBy: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
				Decided: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
			Results: []Result{{Issued: time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.FixedZone("LMT", -(4*3600+56*60+2)))}},
			History: []Transition{{At: time.Unix(1762000000, 1000).In(time.Local)}, {At: time.Now()}},
			Created: time.Date(1970, 1, 1, 0, 0, 0, 0, time.FixedZone("", 0)),
			Updated: time.Date(2026, 11, 1, 8, 0, 0, 0, time.FixedZone("", 23*3600+59*60)),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sameAsMarshal(t, tc.o)
		})
	}
}

// badTimes are times that json.Marshal refuses: RFC 3339 cannot express them.
var badTimes = []time.Time{
	time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(-1, 12, 31, 0, 0, 0, 0, time.UTC),
	time.Date(10000, 1, 1, 1, 0, 0, 0, time.FixedZone("", 2*3600)), // year 9999 in UTC, but 10000 as written
	time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)),
	time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", -100*3600)),
}

func TestOrder_AppendJSON_badTime(t *testing.T) {
	set := []struct {
		name string
		set  func(o *Order, at time.Time)
	}{
		{name: "authored", set: func(o *Order, at time.Time) { o.Authored = at }},
		{name: "signature", set: func(o *Order, at time.Time) { o.Signature.Time = at }},
		{name: "due_by", set: func(o *Order, at time.Time) { o.Authorization.DueBy = at }},
		{name: "requested", set: func(o *Order, at time.Time) { o.Requested = at }},
		{name: "setting start", set: func(o *Order, at time.Time) { o.Setting.Start = at }},
		{name: "setting end", set: func(o *Order, at time.Time) { o.Setting.End = at }},
		{name: "eligibility checked", set: func(o *Order, at time.Time) { o.Eligibility.Checked = at }},
		{name: "valid_from", set: func(o *Order, at time.Time) { o.Authorization.ValidFrom = at }},
		{name: "valid_to", set: func(o *Order, at time.Time) { o.Authorization.ValidTo = at }},
		{name: "decided", set: func(o *Order, at time.Time) { o.Authorization.Decided = at }},
		{name: "issued", set: func(o *Order, at time.Time) { o.Results[0].Issued = at }},
		{name: "history", set: func(o *Order, at time.Time) { o.History[0].At = at }},
		{name: "created", set: func(o *Order, at time.Time) { o.Created = at }},
		{name: "updated", set: func(o *Order, at time.Time) { o.Updated = at }},
	}
	for _, s := range set {
		for _, at := range badTimes {
			t.Run(s.name+" "+at.String(), func(t *testing.T) {
				o := fullOrder()
				s.set(o, at)
				if _, err := json.Marshal(o); err == nil {
					t.Fatalf("json.Marshal with %s %v succeeded; the test expects it to fail", s.name, at)
				}
				if got, err := o.AppendJSON(nil); err == nil {
					t.Fatalf("AppendJSON with %s %v = %s, want an error", s.name, at, got)
				}
				sameAsMarshal(t, o)
			})
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	ss := []string{"", hostile, "plain", "\u2028", "x\u2029", "\xe2\x80", "\xe2\x80\xa8\xe2", "\U0010ffff", "\xf4\x90\x80\x80"}
	for c := range 256 {
		ss = append(ss, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"b")
	}
	for r := rune(0); r < 0x3000; r++ {
		ss = append(ss, string(r))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	fl := &filler{r: rng}
	for range 10000 {
		ss = append(ss, fl.randomString(rng))
	}
	for _, s := range ss {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestAppendJSONTime(t *testing.T) {
	times := append([]time.Time{
		{}, time.Time{}.In(time.FixedZone("EST", -5*3600)), time.Now(),
		time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 1, 8, 0, 0, 1, time.UTC),
		time.Date(2026, 11, 1, 8, 0, 0, 100000000, time.FixedZone("", -(3*3600+30*60))),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 23*3600+59*60+59)),
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -2*3600)), // year 10000 in UTC, but 9999 as written
	}, badTimes...)
	for _, at := range times {
		want, wantErr := json.Marshal(at)
		got, err := AppendJSONTime([]byte("x"), at)
		switch {
		case wantErr != nil && err != nil:
			if string(got) != "x" {
				t.Errorf("failed AppendJSONTime(\"x\", %v) = %q, want \"x\"", at, got)
			}
		case wantErr != nil || err != nil:
			t.Errorf("AppendJSONTime(%v) error %v; json.Marshal error %v", at, err, wantErr)
		case string(got) != "x"+string(want):
			t.Errorf("AppendJSONTime(\"x\", %v) = %s, want x%s", at, got, want)
		}
	}
}

// TestOrder_AppendJSON_random compares the encoder with json.Marshal on orders filled
// at random, every field of every type included, so that a field added to the model
// but not to the encoder fails it.
func TestOrder_AppendJSON_random(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := range n {
		fl := &filler{r: rand.New(rand.NewPCG(uint64(i), 5)), full: i%10 == 0}
		var o Order
		fl.fill(t, "Order", reflect.ValueOf(&o).Elem())
		if fl.full {
			if zero := zeroFields(reflect.ValueOf(o), "Order"); len(zero) > 0 {
				t.Fatalf("filler in full mode (seed %d) left fields zero: %v", i, zero)
			}
		}
		sameAsMarshal(t, &o)
	}
}

// zeroFields returns the fields of v, at any depth, that hold their zero value.
func zeroFields(v reflect.Value, path string) []string {
	switch {
	case v.Type() == timeType:
		if v.Interface().(time.Time).IsZero() {
			return []string{path}
		}
	case v.Kind() == reflect.Struct:
		var zero []string
		for i := range v.NumField() {
			zero = append(zero, zeroFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return zero
	case v.Kind() == reflect.Slice && v.Type() != bytesType:
		if v.Len() == 0 {
			return []string{path}
		}
		var zero []string
		for i := range v.Len() {
			zero = append(zero, zeroFields(v.Index(i), path+"[]")...)
		}
		return zero
	case v.IsZero():
		return []string{path}
	}
	return nil
}

// field is a field at any depth of a type; -1 in index steps into the first element of
// a slice.
type field struct {
	name  string
	index []int
}

// fieldsOf lists every exported field of t and, recursively, of the structs it holds.
func fieldsOf(t reflect.Type, name string, index []int) []field {
	var fs []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Tag.Get("json") == "-" {
			continue
		}
		f := field{name: name + "." + sf.Name, index: append(index[:len(index):len(index)], i)}
		fs = append(fs, f)
		switch ft := sf.Type; {
		case ft.Kind() == reflect.Struct && ft != timeType:
			fs = append(fs, fieldsOf(ft, f.name, f.index)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			fs = append(fs, fieldsOf(ft.Elem(), f.name+"[0]", append(f.index, -1))...)
		}
	}
	return fs
}

// at returns the field of v (a struct) at index, making one-element slices on the way.
func at(v reflect.Value, index []int) reflect.Value {
	for _, i := range index {
		if i == -1 {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			v = v.Index(0)
			continue
		}
		v = v.Field(i)
	}
	return v
}

// TestOrder_AppendJSON_eachField sets one field at a time, at any depth, so that each
// field's own omitempty or omitzero rule, and the zero test of the struct holding it,
// is compared with json.Marshal; it also checks that json.Marshal writes each field
// set, so that a field the filler cannot set fails here.
func TestOrder_AppendJSON_eachField(t *testing.T) {
	fs := fieldsOf(reflect.TypeFor[Order](), "Order", nil)
	if len(fs) < 90 {
		t.Fatalf("found %d fields in Order, want more", len(fs))
	}
	est := time.FixedZone("EST", -5*3600)
	for _, f := range fs {
		t.Run(f.name, func(t *testing.T) {
			for seed := range uint64(20) {
				var o Order
				fl := &filler{r: rand.New(rand.NewPCG(seed, 6)), full: true}
				fl.fill(t, f.name, at(reflect.ValueOf(&o).Elem(), f.index))
				if b, _ := json.Marshal(&o); string(b) == "{}" {
					t.Fatalf("json.Marshal writes nothing for %s set to a non-zero value", f.name)
				}
				sameAsMarshal(t, &o)
			}
			var o Order
			v := at(reflect.ValueOf(&o).Elem(), f.index)
			switch {
			case v.Type() == timeType:
				v.Set(reflect.ValueOf(time.Time{}.In(est)))
			case v.Kind() == reflect.Slice:
				v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			default:
				v.SetZero()
			}
			sameAsMarshal(t, &o)
		})
	}
}

func TestOrder_AppendJSON_allocs(t *testing.T) {
	o := fullOrder()
	buf := make([]byte, 0, 8192)
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		buf, err = o.AppendJSON(buf[:0])
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("AppendJSON into a large enough buffer allocates %v times, want 0", allocs)
	}
}

func FuzzAppendJSON(f *testing.F) {
	for i, s := range append([]string{hostile}, stringPieces...) {
		f.Add(uint64(i), s, []byte(s), int64(1762000000+i), int64(i*1000), int32(-5*3600))
	}
	f.Add(uint64(99), "x", []byte{0xff}, int64(253402300800), int64(0), int32(0)) // year 10000
	f.Add(uint64(98), "", []byte(nil), int64(0), int64(-1), int32(24*3600))
	f.Fuzz(func(t *testing.T, seed uint64, s string, data []byte, sec, nsec int64, offset int32) {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
		when := time.Unix(sec, nsec).In(time.FixedZone("", int(offset)))
		fl := &filler{
			r: rand.New(rand.NewPCG(seed, 7)),
			str: func(r *rand.Rand) string {
				switch i, j := r.IntN(len(s)+1), r.IntN(len(s)+1); r.IntN(4) {
				case 0:
					return s
				case 1:
					return s[min(i, j):max(i, j)]
				case 2:
					return ""
				default:
					return s + strings.ToValidUTF8(s, "\u2028")
				}
			},
			time: func(r *rand.Rand) time.Time {
				switch r.IntN(4) {
				case 0:
					return time.Time{}
				case 1:
					return when.Add(time.Duration(r.Int64()))
				}
				return when
			},
		}
		var o Order
		fl.fill(t, "Order", reflect.ValueOf(&o).Elem())
		o.Results = append(o.Results, Result{Text: s, Presented: []Attachment{{Data: data}}})
		sameAsMarshal(t, &o)
	})
}

// BenchmarkOrderJSON compares AppendJSON with json.Marshal on the same record.
func BenchmarkOrderJSON(b *testing.B) {
	o := benchOrder()
	for _, enc := range []struct {
		name   string
		encode func() ([]byte, error)
	}{
		{"AppendJSON", func() ([]byte, error) { return o.AppendJSON(make([]byte, 0, 2048)) }},
		{"Marshal", func() ([]byte, error) { return json.Marshal(o) }},
	} {
		b.Run(enc.name, func(b *testing.B) {
			data, err := enc.encode()
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if sink, err = enc.encode(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// sink keeps the benchmarks' output alive, as a caller that stores it would.
var sink []byte
