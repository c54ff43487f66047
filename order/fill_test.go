package order

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// filler sets the exported fields of a value at random, by reflection, so that the JSON
// tests cover every field of every type an Order holds, including fields added later.
// It fails the test on a field kind it does not know: teach it (and the encoder) the
// new kind.
type filler struct {
	r *rand.Rand
	// full sets every field to a non-zero value (every slice gets elements); otherwise
	// about a third of the fields stay zero and slices may be nil or empty.
	full bool
	// str returns a string to store; nil means randomString.
	str func(r *rand.Rand) string
	// time returns a time to store; nil means randomTime.
	time func(r *rand.Rand) time.Time
}

var (
	timeType  = reflect.TypeFor[time.Time]()
	bytesType = reflect.TypeFor[[]byte]()
)

func (f *filler) fill(tb testing.TB, path string, v reflect.Value) {
	tb.Helper()
	leaf := v.Type() == timeType || v.Kind() != reflect.Struct && v.Kind() != reflect.Slice
	if leaf && !f.full && f.r.IntN(3) == 0 {
		v.SetZero()
		return
	}
	switch {
	case v.Type() == timeType:
		t := f.randomTime
		if f.time != nil {
			t = f.time
		}
		for {
			tv := t(f.r)
			if _, err := tv.MarshalJSON(); !f.full || !tv.IsZero() && err == nil {
				v.Set(reflect.ValueOf(tv))
				return
			}
		}
	case v.Type() == bytesType:
		f.fillBytes(v)
		return
	}
	switch v.Kind() {
	case reflect.String:
		s := f.randomString
		if f.str != nil {
			s = f.str
		}
		for {
			sv := s(f.r)
			if !f.full || sv != "" {
				v.SetString(sv)
				return
			}
		}
	case reflect.Bool:
		v.SetBool(f.full || f.r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := f.r.Int64N(1 << 20)
		if f.r.IntN(4) == 0 {
			n = -n
		}
		if n == 0 && f.full {
			n = 1
		}
		v.SetInt(n)
	case reflect.Struct:
		for i := range v.NumField() {
			if sf := v.Type().Field(i); sf.IsExported() {
				f.fill(tb, path+"."+sf.Name, v.Field(i))
			}
		}
	case reflect.Slice:
		n := 1 + f.r.IntN(3)
		if !f.full {
			switch f.r.IntN(4) {
			case 0:
				v.SetZero()
				return
			case 1:
				n = 0
			}
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			f.fill(tb, path+"[]", v.Index(i))
		}
	default:
		tb.Fatalf("filler: %s is a %s: teach the filler and the JSON encoder about it", path, v.Type())
	}
}

func (f *filler) fillBytes(v reflect.Value) {
	n := f.r.IntN(40)
	if f.full {
		n++
	} else {
		switch f.r.IntN(4) {
		case 0:
			v.SetZero()
			return
		case 1:
			v.SetBytes([]byte{})
			return
		}
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(f.r.Uint32())
	}
	v.SetBytes(b)
}

// stringPieces are the parts random strings are made of: plain text, and everything the
// JSON string escaping treats specially.
var stringPieces = []string{
	"", "a", "DOE", "70553", "MRI brain w/ contrast", " ",
	`"`, `\`, "<", ">", "&", "</script>", "'", "/",
	"\x00", "\x01", "\x1f", "\x7f", "\b", "\f", "\n", "\r", "\t", "\v",
	"\u2028", "\u2029", "\u2027", "\u202a", "é", "日本", "🙂", "\ufffd", "\ufeff",
	"\xff", "\xfe", "\xc3", "\xe6\x97", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf",
}

func (f *filler) randomString(r *rand.Rand) string {
	var sb strings.Builder
	for range r.IntN(4) + 1 {
		if r.IntN(8) == 0 {
			for range r.IntN(8) {
				sb.WriteByte(byte(r.Uint32()))
			}
			continue
		}
		sb.WriteString(stringPieces[r.IntN(len(stringPieces))])
	}
	return sb.String()
}

// zones are the locations random times are in; zone offsets of 24 hours or more cannot
// be written in RFC 3339.
var zones = []*time.Location{
	time.UTC, time.FixedZone("", 0), time.FixedZone("EST", -5*3600),
	time.FixedZone("IST", 5*3600+30*60), time.FixedZone("NPT", 5*3600+45*60),
	time.FixedZone("LMT", -(4*3600 + 56*60 + 2)), time.FixedZone("+14", 14*3600),
	time.FixedZone("-1159", -(11*3600 + 59*60)),
}

func (f *filler) randomTime(r *rand.Rand) time.Time {
	switch r.IntN(40) {
	case 0:
		return time.Time{}
	case 1:
		return time.Time{}.In(zones[2]) // the zero instant, but not the zero value
	case 2:
		return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) // cannot be encoded
	case 3:
		return time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC) // cannot be encoded
	case 4:
		return time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)) // cannot be encoded
	case 5:
		return time.Now() // with a monotonic clock reading
	}
	// Any instant whose year stays within [0,9999] in every zone above.
	const lo, hi = -62135596800 + 86400, 253402300799 - 86400 // 0001-01-02, 9999-12-30
	sec := lo + r.Int64N(hi-lo)
	var nsec int64
	switch r.IntN(4) {
	case 1:
		nsec = r.Int64N(1e9)
	case 2:
		nsec = r.Int64N(1e6) * 1e3
	case 3:
		nsec = r.Int64N(1000) * 1e6
	}
	return time.Unix(sec, nsec).In(zones[r.IntN(len(zones))])
}
