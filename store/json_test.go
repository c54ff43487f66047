package store

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sameAsMarshal fails the test unless m.AppendJSON appends exactly what json.Marshal(m)
// writes, or both fail (leaving the buffer unchanged).
func sameAsMarshal(tb testing.TB, m *Message) {
	tb.Helper()
	want, wantErr := json.Marshal(m)
	const prefix = "prefix:"
	got, err := m.AppendJSON([]byte(prefix))
	switch {
	case wantErr != nil && err != nil:
		if string(got) != prefix {
			tb.Fatalf("failed AppendJSON(%q) = %q, want %q", prefix, got, prefix)
		}
		return
	case wantErr != nil || err != nil:
		tb.Fatalf("AppendJSON error: %v; json.Marshal error: %v\nmessage: %#v", err, wantErr, m)
	}
	if !strings.HasPrefix(string(got), prefix) || !bytes.Equal(got[len(prefix):], want) {
		tb.Fatalf("AppendJSON(%q) differs from json.Marshal:\n got %s\nwant %s%s\nmessage: %#v", prefix, got, prefix, want, m)
	}
}

// hostile is a string with everything JSON string escaping treats specially.
const hostile = "a\"b\\c</script>&\x00\x01\x1f\x7f\b\f\n\r\t\u2028\u2029é日本🙂\xff\xc3(\xed\xa0\x80\xf4\x90\x80\x80z"

// benchMessage is the record the engine stores for a message of `radbridge bench mllp`.
func benchMessage() *Message {
	return &Message{
		ID: "M000000000042", Kind: "hl7v2", Sender: "BENCH_FAC", ControlID: "b1-42",
		Digest: "5d41402abc4b2a76b9719d911017c592", Type: "ORM^O01",
		ReceivedAt: time.Date(2026, 11, 1, 8, 0, 1, 123456789, time.UTC), AckCode: "AA",
		Ack:      []byte("MSH|^~\\&|RADBRIDGE|IMG|BENCH|BENCH_FAC|20261101080001||ACK^O01^ACK|A000000000042|P|2.5.1\rMSA|AA|b1-42\r"),
		OrderIDs: []string{"O000000000042"}, Size: 712, Dedupe: true,
	}
}

func TestMessage_AppendJSON(t *testing.T) {
	at := time.Date(2026, 11, 1, 8, 0, 1, 0, time.FixedZone("EST", -5*3600))
	tests := []struct {
		name string
		m    *Message
	}{
		{name: "nil", m: nil},
		{name: "zero", m: &Message{}},
		{name: "bench", m: benchMessage()},
		{name: "hostile", m: &Message{ID: hostile, Kind: hostile, Sender: hostile, ControlID: hostile, Digest: hostile,
			Type: hostile, ReceivedAt: at, AckCode: hostile, Ack: []byte(hostile), OrderIDs: []string{hostile, "", hostile},
			Size: -1, ReprocessOf: hostile, Dedupe: true}},
		{name: "empty slices", m: &Message{Ack: []byte{}, OrderIDs: []string{}}},
		{name: "empty order id", m: &Message{OrderIDs: []string{""}}},
		{name: "zero instant in a zone", m: &Message{ReceivedAt: time.Time{}.In(at.Location())}},
		{name: "nanoseconds", m: &Message{ReceivedAt: at.Add(1)}},
		{name: "monotonic", m: &Message{ReceivedAt: time.Now()}},
		{name: "year 10000", m: &Message{ReceivedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "year -1", m: &Message{ReceivedAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "offset 24h", m: &Message{ReceivedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sameAsMarshal(t, tc.m)
		})
	}
	if _, err := (&Message{ReceivedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}).AppendJSON(nil); err == nil {
		t.Error("AppendJSON with ReceivedAt in year 10000 succeeded, want an error")
	}
}

// fill sets the exported fields of m at random; with full, every field is non-zero.
// It fails the test on a field kind it does not know: teach it (and the encoder).
func fill(tb testing.TB, r *rand.Rand, m *Message, full bool, str func() string) {
	tb.Helper()
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		sf, f := v.Type().Field(i), v.Field(i)
		if !sf.IsExported() {
			continue
		}
		if !full && r.IntN(3) == 0 {
			if r.IntN(2) == 0 && f.Kind() == reflect.Slice {
				f.Set(reflect.MakeSlice(f.Type(), 0, 0))
			}
			continue
		}
		switch ft := sf.Type; {
		case ft == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(time.Unix(r.Int64N(1<<35), r.Int64N(1e9)*int64(r.IntN(2))).In(time.FixedZone("", 60*(r.IntN(2879)-1439)))))
		case ft.Kind() == reflect.String:
			f.SetString(str() + "x")
		case ft.Kind() == reflect.Bool:
			f.SetBool(true)
		case ft.Kind() == reflect.Int:
			n := r.Int64N(1<<31) - 1<<30
			if n == 0 {
				n = 1
			}
			f.SetInt(n)
		case ft == reflect.TypeFor[[]byte]():
			f.SetBytes([]byte(str() + "x"))
		case ft == reflect.TypeFor[[]string]():
			ss := make([]string, 1+r.IntN(3))
			for i := range ss {
				ss[i] = str()
			}
			f.Set(reflect.ValueOf(ss))
		default:
			tb.Fatalf("fill: Message.%s is a %s: teach fill and the JSON encoder about it", sf.Name, ft)
		}
	}
}

var pieces = []string{"", "a", "ORM^O01", `"`, `\`, "<&>", "\x00", "\x1f", "\x7f", "\n\r\t", "\u2028", "\u2029", "é", "🙂", "\xff", "\xe2\x80"}

// TestMessage_AppendJSON_random compares the encoder with json.Marshal on messages
// filled at random, every field included, so that a field added to Message but not to
// the encoder fails it.
func TestMessage_AppendJSON_random(t *testing.T) {
	for i := range 3000 {
		r := rand.New(rand.NewPCG(uint64(i), 1))
		str := func() string { return pieces[r.IntN(len(pieces))] + pieces[r.IntN(len(pieces))] }
		var m Message
		fill(t, r, &m, i%10 == 0, str)
		sameAsMarshal(t, &m)
	}
}

// TestMessage_AppendJSON_eachField sets one field at a time and checks that json.Marshal
// writes it and AppendJSON agrees.
func TestMessage_AppendJSON_eachField(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	var full Message
	fill(t, r, &full, true, func() string { return hostile })
	fv := reflect.ValueOf(full)
	empty, _ := json.Marshal(&Message{})
	for i := range fv.NumField() {
		name := fv.Type().Field(i).Name
		t.Run(name, func(t *testing.T) {
			var m Message
			reflect.ValueOf(&m).Elem().Field(i).Set(fv.Field(i))
			if b, _ := json.Marshal(&m); bytes.Equal(b, empty) {
				t.Fatalf("json.Marshal writes nothing for Message.%s set to a non-zero value", name)
			}
			sameAsMarshal(t, &m)
		})
	}
}

func TestMessage_AppendJSON_allocs(t *testing.T) {
	m := benchMessage()
	buf := make([]byte, 0, 4096)
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		buf, err = m.AppendJSON(buf[:0])
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("AppendJSON into a large enough buffer allocates %v times, want 0", allocs)
	}
}

func FuzzAppendJSON(f *testing.F) {
	for i, s := range append([]string{hostile}, pieces...) {
		f.Add(s, []byte(s), int64(1762000000+i), int64(i*1000), int32(-5*3600), i, i%2 == 0)
	}
	f.Add("x", []byte(nil), int64(253402300800), int64(0), int32(0), 0, false) // year 10000
	f.Fuzz(func(t *testing.T, s string, ack []byte, sec, nsec int64, offset int32, size int, dedupe bool) {
		m := &Message{ID: s, Kind: s, Sender: s, ControlID: s, Digest: s, Type: s,
			ReceivedAt: time.Unix(sec, nsec).In(time.FixedZone("", int(offset))), AckCode: s, Ack: ack,
			OrderIDs: []string{s, s}, Size: size, ReprocessOf: s, Dedupe: dedupe}
		sameAsMarshal(t, m)
	})
}

// BenchmarkMessageJSON compares AppendJSON with json.Marshal on the same record.
func BenchmarkMessageJSON(b *testing.B) {
	m := benchMessage()
	for _, enc := range []struct {
		name   string
		encode func() ([]byte, error)
	}{
		{"AppendJSON", func() ([]byte, error) { return m.AppendJSON(make([]byte, 0, 512)) }},
		{"Marshal", func() ([]byte, error) { return json.Marshal(m) }},
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
