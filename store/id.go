package store

import (
	"strconv"
	"strings"
)

// idPrefixes make the record kind visible in an ID ("msg-12", "ord-7").
var idPrefixes = [...]string{KindMessage: "msg-", KindOrder: "ord-", KindOutbox: "out-", KindResource: "res-"}

// String names the kind: "message", "order", "outbox" or "resource".
func (k Kind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindOrder:
		return "order"
	case KindOutbox:
		return "outbox"
	case KindResource:
		return "resource"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool { return int(k) < len(idPrefixes) }

// FormatID is the ID of the n-th record of kind k (n >= 1): the kind's prefix and n in
// decimal, as "msg-12". Every backend hands out IDs of this form; stored IDs keep it, so
// a change here would orphan them. It panics on a kind that is not Valid.
func FormatID(k Kind, n uint64) string {
	return idPrefixes[k] + strconv.FormatUint(n, 10)
}

// ParseID returns n for an ID that FormatID(k, n) writes, with n >= 1, and false for
// any other string (another kind's ID, a leading zero, a sign). It is for backends,
// which key records by n; callers treat IDs as opaque.
func ParseID(k Kind, id string) (uint64, bool) {
	if !k.Valid() {
		return 0, false
	}
	digits, ok := strings.CutPrefix(id, idPrefixes[k])
	if !ok || digits == "" || digits[0] == '0' || len(digits) > 20 {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}
