package engine

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/store"
)

// Quarantined is a stored record the engine found it cannot read back (store.ErrCorrupt:
// its bytes no longer decode or verify). The engine never changes such a record, and a
// message that needs it is kept and answered AE with ERR 207 instead of being applied:
// the sender is not blocked (its other messages go on), and once the record is repaired
// the kept messages can be reprocessed (POST /api/messages/{id}/reprocess).
type Quarantined struct {
	// Kind is the kind of record: "order", or "message" (the record of a message's
	// first receipt, which a resend is answered from).
	Kind string `json:"kind"`
	// Key is what the record was looked up by: an order key (order.Order.Key, e.g.
	// "v2|HOSP_A|P100"), "placer P100" for a result matched by placer number, or
	// "SENDER/CONTROL-ID" for a message.
	Key string `json:"key"`
	// Error is the store's description of the failure.
	Error     string    `json:"error"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Hits counts the messages answered AE because of the record.
	Hits int `json:"hits"`
	// MessageIDs are the last of those messages (at most maxQuarantineMessages).
	MessageIDs []string `json:"message_ids"`
}

// Bounds on what the quarantine list holds: records (beyond it, records are counted in
// the metric but not listed) and message IDs per record.
const (
	maxQuarantined        = 1000
	maxQuarantineMessages = 10
)

// quarantine is the list of records found unreadable since the engine started. It is
// safe for concurrent use.
type quarantine struct {
	mu    sync.Mutex
	byKey map[string]*Quarantined
}

// add records that message msgID met the unreadable record q; it reports whether the
// record is new to the list.
func (qs *quarantine) add(q Quarantined, msgID string, at time.Time) bool {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	k := q.Kind + "\x00" + q.Key
	cur, ok := qs.byKey[k]
	if !ok {
		if qs.byKey == nil {
			qs.byKey = map[string]*Quarantined{}
		}
		if len(qs.byKey) >= maxQuarantined {
			return true
		}
		q.FirstSeen = at
		cur = &q
		qs.byKey[k] = cur
	}
	cur.LastSeen, cur.Error = at, q.Error
	cur.Hits++
	cur.MessageIDs = append(cur.MessageIDs, msgID)
	if n := len(cur.MessageIDs); n > maxQuarantineMessages {
		cur.MessageIDs = slices.Delete(cur.MessageIDs, 0, n-maxQuarantineMessages)
	}
	return !ok
}

// Quarantine lists the stored records the engine has found unreadable since it started,
// first found first.
func (e *Engine) Quarantine() []Quarantined {
	qs := &e.quarantine
	qs.mu.Lock()
	out := make([]Quarantined, 0, len(qs.byKey))
	for _, q := range qs.byKey {
		c := *q
		c.MessageIDs = slices.Clone(q.MessageIDs)
		out = append(out, c)
	}
	qs.mu.Unlock()
	slices.SortFunc(out, func(a, b Quarantined) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// quarantined records the unreadable records a committed message met, counts the new
// ones and logs them.
func (e *Engine) quarantined(ctx context.Context, list []Quarantined, msgID string, at time.Time) {
	for _, q := range list {
		if e.quarantine.add(q, msgID, at) {
			e.metrics.corrupt(q.Kind)
			e.log.LogAttrs(ctx, slog.LevelError, "stored record cannot be read; quarantined", slog.String("kind", q.Kind),
				slog.String("msg_id", msgID), slog.String("err", q.Error))
		}
	}
}

// corruptIssue is the ERR of a message that needs an unreadable record: 207 at loc,
// what describing the record ("the stored order for placer number \"P1\" from this
// sender").
func corruptIssue(loc hl7.Location, what string) hl7.Issue {
	return hl7.Issue{Location: loc, Code: hl7.CodeInternal, Severity: hl7.SeverityError,
		Text: what + " cannot be read; it is quarantined: this message is kept but not applied to it, " +
			"and can be processed again once the receiving site has repaired the record"}
}

// isCorrupt reports whether err says a stored record cannot be read back.
func isCorrupt(err error) bool { return errors.Is(err, store.ErrCorrupt) }
