package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/radbridge/radbridge/store"
)

func testMessages(t tester, b Backend) {
	t.Run("RoundTrip", func(t tester) {
		st := open(t, b)
		m := newMessage("HOSP_A", "C1")
		m.OrderIDs, m.ReprocessOf = []string{"ord-1", "ord-2"}, "msg-9"
		bare := &store.Message{Kind: "fhir", Sender: "client-1", Type: "ServiceRequest", ReceivedAt: at, AckCode: "201"}
		raw := []byte("MSH|^~\\&|EHR|HOSP_A\rPID|1||\x00\xff\r")
		update(t, st, func(tx store.Tx) error {
			if err := tx.PutMessage(m, raw); err != nil {
				return err
			}
			return tx.PutMessage(bare, nil)
		})
		want := *m
		var kept *store.Message
		var keptRaw []byte
		view(t, st, func(tx store.ReadTx) error {
			for _, w := range []*store.Message{&want, bare} {
				got, err := tx.Message(w.ID)
				if err != nil {
					t.Fatalf("Message(%s): %v", w.ID, err)
				}
				if d := diff(w, got); d != "" {
					t.Errorf("Message(%s) differs from what was put (-put +read):\n%s", w.ID, d)
				}
			}
			got, err := tx.MessageByKey("HOSP_A", "C1", m.Digest)
			if err != nil || got.ID != m.ID {
				t.Errorf("MessageByKey = %v, %v; want %s", got, err, m.ID)
			}
			if keptRaw, err = tx.Raw(m.ID); err != nil || !bytes.Equal(keptRaw, raw) {
				t.Errorf("Raw(%s) = %q, %v; want %q", m.ID, keptRaw, err, raw)
			}
			// What a read returns is the caller's: changing it changes nothing stored.
			got.OrderIDs[0], got.Ack[0], keptRaw[0] = "changed", 'X', 'X'
			kept = got
			return nil
		})
		kept.AckCode = "AE"
		view(t, st, func(tx store.ReadTx) error {
			got, err := tx.Message(m.ID)
			if err != nil || diff(&want, got) != "" {
				t.Errorf("after changing what was read, Message(%s) = %+v, %v", m.ID, got, err)
			}
			if r, err := tx.Raw(m.ID); err != nil || !bytes.Equal(r, raw) {
				t.Errorf("after changing what was read, Raw = %q, %v", r, err)
			}
			return nil
		})
	})
	t.Run("NotFound", func(t tester) {
		st := open(t, b)
		m, plain := newMessage("S", "C1"), newMessage("S", "C2")
		plain.Dedupe = false
		update(t, st, func(tx store.Tx) error {
			if err := tx.PutMessage(m, nil); err != nil {
				return err
			}
			return tx.PutMessage(plain, []byte("raw"))
		})
		n := num(t, store.KindMessage, plain.ID)
		view(t, st, func(tx store.ReadTx) error {
			for _, id := range []string{"", "msg-", "msg-0", strings.Replace(m.ID, "-", "-0", 1), " " + m.ID,
				store.FormatID(store.KindOrder, n), store.FormatID(store.KindMessage, n+1000)} {
				if got, err := tx.Message(id); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Message(%q) = %v, %v; want ErrNotFound", id, got, err)
				}
				if got, err := tx.Raw(id); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Raw(%q) = %q, %v; want ErrNotFound", id, got, err)
				}
			}
			if got, err := tx.Raw(m.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Raw of a message stored without raw bytes = %q, %v; want ErrNotFound", got, err)
			}
			for _, k := range [][3]string{{"S", "C1", "other"}, {"T", "C1", m.Digest}, {"S", "C", m.Digest},
				{"S", "C2", plain.Digest}} {
				if got, err := tx.MessageByKey(k[0], k[1], k[2]); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("MessageByKey%q = %v, %v; want ErrNotFound", k, got, err)
				}
			}
			return nil
		})
	})
	// Putting a message again replaces its record; a nil raw keeps the raw bytes.
	t.Run("Replace", func(t tester) {
		st := open(t, b)
		m := newMessage("S", "C1")
		update(t, st, func(tx store.Tx) error { return tx.PutMessage(m, []byte("first")) })
		m.AckCode, m.OrderIDs = "AE", []string{"ord-3"}
		update(t, st, func(tx store.Tx) error { return tx.PutMessage(m, nil) })
		check := func(wantRaw string) {
			t.Helper()
			view(t, st, func(tx store.ReadTx) error {
				got, err := tx.Message(m.ID)
				if err != nil || diff(m, got) != "" {
					t.Errorf("Message after a second put = %+v, %v; want %+v", got, err, m)
				}
				if r, err := tx.Raw(m.ID); err != nil || string(r) != wantRaw {
					t.Errorf("Raw = %q, %v; want %q", r, err, wantRaw)
				}
				if list, total, err := tx.Messages(store.MessageQuery{}); err != nil || total != 1 || len(list) != 1 {
					t.Errorf("Messages = %d items, total %d, %v; want the one message", len(list), total, err)
				}
				return nil
			})
		}
		check("first")
		update(t, st, func(tx store.Tx) error { return tx.PutMessage(m, []byte("second")) })
		check("second")
	})
	t.Run("DedupeConflict", func(t tester) { testDedupe(t, b) })
	// Newest first means by ID, whatever the order the messages were put in.
	t.Run("Order", func(t tester) {
		st := open(t, b)
		id1, id2, id3 := reserve(t, st, store.KindMessage), reserve(t, st, store.KindMessage), reserve(t, st, store.KindMessage)
		for _, id := range []string{id3, id1, id2} {
			m := newMessage("S", "C-"+id)
			m.ID = id
			update(t, st, func(tx store.Tx) error { return tx.PutMessage(m, nil) })
		}
		view(t, st, func(tx store.ReadTx) error {
			list, total, err := tx.Messages(store.MessageQuery{})
			if got, want := ids(list, messageID), []string{id3, id2, id1}; err != nil || !slices.Equal(got, want) || total != 3 {
				t.Errorf("Messages = %v (total %d), %v; want %v, newest first by ID", got, total, err, want)
			}
			return nil
		})
	})
	t.Run("Query", func(t tester) {
		st, all := putQueryMessages(t, b)
		view(t, st, func(tx store.ReadTx) error {
			for _, q := range messageQueries() {
				want := matching(all, q)
				list, total, err := tx.Messages(q)
				if err != nil {
					t.Fatalf("Messages(%+v): %v", q, err)
				}
				limit := store.ClampLimit(q.Limit)
				if got, w := ids(list, messageID), ids(want[:min(limit, len(want))], messageID); !slices.Equal(got, w) || total != len(want) {
					t.Errorf("Messages(%+v) = %v (total %d); want %v (total %d)", q, got, total, w, len(want))
				}
			}
			return nil
		})
	})
	t.Run("Before", func(t tester) {
		st, all := putQueryMessages(t, b)
		view(t, st, func(tx store.ReadTx) error {
			for _, q := range messageQueries() {
				want := matching(all, q)
				var got []string
				q.Limit = 4
				for page := 0; ; page++ {
					list, total, err := tx.Messages(q)
					if err != nil {
						t.Fatalf("Messages(%+v): %v", q, err)
					}
					if total != len(want) {
						t.Errorf("Messages(%+v): total %d, want %d (Before does not change it)", q, total, len(want))
					}
					got = append(got, ids(list, messageID)...)
					if len(list) < q.Limit || page > len(all) {
						break
					}
					q.Before = list[len(list)-1].ID
				}
				if w := ids(want, messageID); !slices.Equal(got, w) {
					t.Errorf("pages of Messages(%+v) = %v, want %v", q, got, w)
				}
			}
			last := num(t, store.KindMessage, all[0].ID)
			for _, tc := range []struct {
				before string
				want   int
			}{
				{all[len(all)-1].ID, 0},                           // nothing is older than the oldest
				{store.FormatID(store.KindMessage, last+100), 10}, // an ID not stored is a position too
				{store.FormatID(store.KindMessage, last), 10},     // the newest one itself is not listed
				{store.FormatID(store.KindOrder, last+100), 0},    // not a message ID
				{"junk", 0},
			} {
				list, total, err := tx.Messages(store.MessageQuery{Before: tc.before, Limit: 10})
				if err != nil || len(list) != tc.want || total != len(all) {
					t.Errorf("Messages(Before %q) = %d items, total %d, %v; want %d, total %d", tc.before, len(list), total, err, tc.want, len(all))
				}
				if tc.before == store.FormatID(store.KindMessage, last) && len(list) > 0 && list[0].ID != all[1].ID {
					t.Errorf("Messages(Before the newest) starts at %s, want %s", list[0].ID, all[1].ID)
				}
			}
			return nil
		})
	})
}

func testDedupe(t tester, b Backend) {
	st := open(t, b)
	m := newMessage("HOSP_A", "C1")
	update(t, st, func(tx store.Tx) error { return tx.PutMessage(m, nil) })
	put := func(m *store.Message) error {
		return st.Update(t.Context(), func(tx store.Tx) error { return tx.PutMessage(m, nil) })
	}
	if err := put(newMessage("HOSP_A", "C1")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second accepted message with the same sender, control ID and digest: %v, want ErrConflict", err)
	}
	err := st.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.PutMessage(newMessage("HOSP_B", "C9"), nil); err != nil {
			return err
		}
		return tx.PutMessage(newMessage("HOSP_B", "C9"), nil)
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("two accepted messages with one key in one Update: %v, want ErrConflict", err)
	}
	otherDigest, otherSender, notDeduped := newMessage("HOSP_A", "C1"), newMessage("HOSP_B", "C1"), newMessage("HOSP_A", "C1")
	otherDigest.Digest, notDeduped.Dedupe = "d-other", false
	for name, m := range map[string]*store.Message{"another digest": otherDigest, "another sender": otherSender, "without Dedupe": notDeduped} {
		if err := put(m); err != nil {
			t.Errorf("a message with the same control ID and %s: %v, want it stored", name, err)
		}
	}
	m.AckCode = "AE"
	if err := put(m); err != nil {
		t.Errorf("the accepted message put again: %v, want it replaced", err)
	}
	view(t, st, func(tx store.ReadTx) error {
		if got, err := tx.MessageByKey("HOSP_A", "C1", m.Digest); err != nil || got.ID != m.ID || got.AckCode != "AE" {
			t.Errorf("MessageByKey = %+v, %v; want %s as put last", got, err, m.ID)
		}
		if got, err := tx.MessageByKey("HOSP_A", "C1", "d-other"); err != nil || got.ID != otherDigest.ID {
			t.Errorf("MessageByKey(other digest) = %v, %v; want %s", got, err, otherDigest.ID)
		}
		if _, total, err := tx.Messages(store.MessageQuery{}); err != nil || total != 4 {
			t.Errorf("Messages total = %d, %v; want 4 (the conflicting ones not stored)", total, err)
		}
		if _, err := tx.MessageByKey("HOSP_B", "C9", "d-C9"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the message of the Update that conflicted was kept: %v", err)
		}
		return nil
	})
}

// putQueryMessages stores 30 messages whose senders, control IDs and types overlap, and
// one of each with values that extend another's ("FAC" and "FAC1"), and returns them
// newest first.
func putQueryMessages(t tester, b Backend) (store.Store, []*store.Message) {
	t.Helper()
	st := open(t, b)
	senders, controls, types := []string{"FAC", "FAC1", "FAC10"}, []string{"C1", "C10", "C2"}, []string{"ORM^O01", "ORU^R01"}
	var all []*store.Message
	for i := range 30 {
		m := newMessage(senders[i%3], controls[(i/3)%3])
		m.Type, m.Digest, m.Dedupe = types[i%2], fmt.Sprint("d", i), i%4 != 0
		all = append(all, m)
	}
	for i := 0; i < len(all); i += 7 { // a few Updates of several messages
		update(t, st, func(tx store.Tx) error {
			for _, m := range all[i:min(i+7, len(all))] {
				if err := tx.PutMessage(m, nil); err != nil {
					return err
				}
			}
			return nil
		})
	}
	slices.Reverse(all)
	return st, all
}

func messageQueries() []store.MessageQuery {
	return []store.MessageQuery{
		{}, {Limit: 5}, {ControlID: "C1"}, {ControlID: "C1", Limit: 2}, {Sender: "FAC1"}, {Sender: "FAC", Limit: 3},
		{Type: "ORU^R01"}, {Sender: "FAC10", Type: "ORM^O01"}, {ControlID: "C10", Sender: "FAC"},
		{ControlID: "C2", Type: "ORU^R01"}, {ControlID: "C1", Sender: "FAC1", Type: "ORM^O01"}, {ControlID: "none"},
		{Sender: "FA"}, {Type: "ORM"},
	}
}

// matching filters all (newest first) as Messages must for q, Limit and Before aside.
func matching(all []*store.Message, q store.MessageQuery) []*store.Message {
	var out []*store.Message
	for _, m := range all {
		if (q.ControlID == "" || m.ControlID == q.ControlID) && (q.Sender == "" || m.Sender == q.Sender) &&
			(q.Type == "" || m.Type == q.Type) {
			out = append(out, m)
		}
	}
	return out
}
