package storetest

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/radbridge/radbridge/store"
)

func testResources(t tester, b Backend) {
	t.Run("Versions", func(t tester) {
		st := open(t, b)
		var puts []store.Resource
		for v := 1; v <= 3; v++ {
			r := newResource("ServiceRequest", "ord-1", fmt.Sprintf(`{"resourceType":"ServiceRequest","v":%d}`, v))
			r.OrderID, r.LastUpdated = "ord-1", at.Add(time.Duration(v)*time.Second)
			r.Index = map[string][]string{"identifier": {fmt.Sprint("id-", v)}}
			update(t, st, func(tx store.Tx) error { return tx.PutResource(r) })
			if r.Version != v {
				t.Errorf("Version after put %d = %d, want %d", v, r.Version, v)
			}
			puts = append(puts, *r)
		}
		view(t, st, func(tx store.ReadTx) error {
			cur, err := tx.Resource("ServiceRequest", "ord-1")
			if err != nil {
				t.Fatalf("Resource: %v", err)
			}
			if d := diff(&puts[2], cur); d != "" {
				t.Errorf("Resource differs from the last version put (-put +read):\n%s", d)
			}
			for v := 1; v <= 3; v++ {
				got, err := tx.ResourceVersion("ServiceRequest", "ord-1", v)
				if err != nil || diff(&puts[v-1], got) != "" {
					t.Errorf("ResourceVersion(%d) = %+v, %v; want %+v", v, got, err, puts[v-1])
				}
			}
			for _, v := range []int{0, -1, 4} {
				if got, err := tx.ResourceVersion("ServiceRequest", "ord-1", v); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("ResourceVersion(%d) = %v, %v; want ErrNotFound", v, got, err)
				}
			}
			for _, k := range [][2]string{{"ServiceRequest", "ord-2"}, {"Patient", "ord-1"}, {"ServiceRequest", "ord-"},
				{"Service", "Request/ord-1"}, {"ServiceRequest", ""}, {"", ""}} {
				if got, err := tx.Resource(k[0], k[1]); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Resource%q = %v, %v; want ErrNotFound", k, got, err)
				}
			}
			cur.JSON[0], cur.Index["identifier"][0] = 'X', "changed"
			if again, err := tx.Resource("ServiceRequest", "ord-1"); err != nil || diff(&puts[2], again) != "" {
				t.Errorf("after changing what was read, Resource = %+v, %v", again, err)
			}
			return nil
		})
		for _, r := range []*store.Resource{newResource("", "x", `{}`), newResource("Patient", "", `{}`),
			newResource("Pat/ient", "x", `{}`), newResource("Patient\x00", "x", `{}`), newResource("Patient", "x\x00", `{}`)} {
			if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.PutResource(r) }); err == nil {
				t.Errorf("PutResource(type %q, id %q) succeeded", r.Type, r.ID)
			}
		}
	})
	// Newest first by creation: by the Update that created each, then the put within
	// it; a new version does not move a resource, and IDs play no part.
	t.Run("Order", func(t tester) {
		st := open(t, b)
		put := func(rs ...*store.Resource) {
			t.Helper()
			update(t, st, func(tx store.Tx) error {
				for _, r := range rs {
					if err := tx.PutResource(r); err != nil {
						return err
					}
				}
				return nil
			})
		}
		p := func(id string) *store.Resource { return newResource("Patient", id, `{"resourceType":"Patient"}`) }
		put(p("res-9"))
		put(p("res-10"))
		put(newResource("Practitioner", "zz", `{}`))
		put(p("zeta"))
		put(p("res-9")) // a new version of the first
		put(p("alpha"), p("res-100"))
		put(p("res-10"), p("beta"))
		want := []string{"beta", "res-100", "alpha", "zeta", "res-10", "res-9"}
		view(t, st, func(tx store.ReadTx) error {
			list, total, err := tx.Resources("Patient", 0)
			if got := ids(list, resourceID); err != nil || !slices.Equal(got, want) || total != len(want) {
				t.Errorf("Resources(Patient) = %v (total %d), %v; want %v, newest first by creation", got, total, err, want)
			}
			for _, r := range list {
				if wantV := map[string]int{"res-9": 2, "res-10": 2}[r.ID]; r.Version != max(wantV, 1) {
					t.Errorf("Resources lists %s at version %d, want the current one", r.ID, r.Version)
				}
			}
			list, total, err = tx.Resources("Patient", 2)
			if got := ids(list, resourceID); err != nil || !slices.Equal(got, want[:2]) || total != len(want) {
				t.Errorf("Resources(Patient, 2) = %v (total %d), %v; want %v (total %d)", got, total, err, want[:2], len(want))
			}
			list, total, err = tx.Resources("Practitioner", 0)
			if got := ids(list, resourceID); err != nil || !slices.Equal(got, []string{"zz"}) || total != 1 {
				t.Errorf("Resources(Practitioner) = %v (total %d), %v", got, total, err)
			}
			for _, typ := range []string{"Pat", "Patients", "patient", ""} {
				if list, total, err := tx.Resources(typ, 0); err != nil || len(list) != 0 || total != 0 {
					t.Errorf("Resources(%q) = %d (total %d), %v; want none", typ, len(list), total, err)
				}
			}
			return nil
		})
	})
	t.Run("Find", func(t tester) {
		st := open(t, b)
		idx := func(values ...string) map[string][]string { return map[string][]string{"identifier": values} }
		r2, r10, r3 := newResource("Patient", "res-2", `{}`), newResource("Patient", "res-10", `{}`), newResource("Patient", "res-3", `{}`)
		r2.Index, r10.Index, r3.Index = idx("a", "b"), idx("b"), idx("c", "", "x\x00y")
		r3.Index["name"] = []string{"b"}
		other := newResource("Practitioner", "res-4", `{}`)
		other.Index = idx("b")
		update(t, st, func(tx store.Tx) error {
			for _, r := range []*store.Resource{r2, r10, r3, other} {
				if err := tx.PutResource(r); err != nil {
					return err
				}
			}
			return nil
		})
		check := func(when, value string, want ...string) {
			t.Helper()
			view(t, st, func(tx store.ReadTx) error {
				got, err := tx.FindResources("Patient", "identifier", value)
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("%s: FindResources(Patient, identifier, %q) = %q, %v; want %q", when, value, got, err, want)
				}
				return nil
			})
		}
		check("first versions", "b", "res-10", "res-2") // ascending byte order
		check("first versions", "a", "res-2")
		check("first versions", "", nil...)
		check("first versions", "x\x00y", nil...)
		check("first versions", "nothing", nil...)
		r2.Index = idx("c")
		update(t, st, func(tx store.Tx) error { return tx.PutResource(r2) })
		check("after a new version", "b", "res-10")
		check("after a new version", "a", nil...)
		check("after a new version", "c", "res-2", "res-3")
		view(t, st, func(tx store.ReadTx) error {
			if got, err := tx.FindResources("Patient", "name", "b"); err != nil || !slices.Equal(got, []string{"res-3"}) {
				t.Errorf("FindResources(Patient, name, b) = %q, %v; want [res-3]", got, err)
			}
			if got, err := tx.FindResources("Practitioner", "identifier", "b"); err != nil || !slices.Equal(got, []string{"res-4"}) {
				t.Errorf("FindResources(Practitioner, identifier, b) = %q, %v; want [res-4]", got, err)
			}
			return nil
		})
	})
}
