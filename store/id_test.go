package store

import (
	"math"
	"strconv"
	"testing"
)

func TestFormatID_ParseID(t *testing.T) {
	for _, k := range []Kind{KindMessage, KindOrder, KindOutbox, KindResource} {
		for _, n := range []uint64{1, 9, 10, 12345, math.MaxUint64} {
			id := FormatID(k, n)
			if got, ok := ParseID(k, id); !ok || got != n {
				t.Errorf("ParseID(%s, %q) = %d, %v; want %d", k, id, got, ok, n)
			}
			for _, other := range []Kind{KindMessage, KindOrder, KindOutbox, KindResource} {
				if _, ok := ParseID(other, id); ok != (other == k) {
					t.Errorf("ParseID(%s, %q) ok = %v", other, id, ok)
				}
			}
		}
	}
	for _, tc := range []struct {
		k    Kind
		n    uint64
		want string
	}{
		{KindMessage, 12, "msg-12"}, {KindOrder, 7, "ord-7"}, {KindOutbox, 3, "out-3"}, {KindResource, 5, "res-5"},
	} {
		if got := FormatID(tc.k, tc.n); got != tc.want {
			t.Errorf("FormatID(%s, %d) = %q, want %q", tc.k, tc.n, got, tc.want)
		}
	}
	for _, id := range []string{"", "msg-", "msg-0", "msg-01", "msg-+1", "msg--1", "msg-1x", "msg-1 ", " msg-1", "MSG-1",
		"msg-" + strconv.FormatUint(math.MaxUint64, 10) + "0", "msg-18446744073709551616"} {
		if n, ok := ParseID(KindMessage, id); ok {
			t.Errorf("ParseID(message, %q) = %d, true; want false", id, n)
		}
	}
	if _, ok := ParseID(Kind(9), "msg-1"); ok {
		t.Error("ParseID accepted an unknown kind")
	}
}
