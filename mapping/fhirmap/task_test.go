package fhirmap

import (
	"encoding/json"
	"testing"

	"github.com/radbridge/radbridge/order"
)

// TestToTask_ReadyToSchedule: the verdict rides in businessStatus as a second coding.
func TestToTask_ReadyToSchedule(t *testing.T) {
	for _, tc := range []struct {
		name    string
		r       order.ReadyToSchedule
		codings int
		code    string
		display string
	}{
		{name: "not checked", codings: 1},
		{name: "ready", r: order.ReadyToSchedule{Ready: true, Reasons: []string{"coverage active", "documentation complete"}},
			codings: 2, code: "ready-to-schedule", display: "coverage active; documentation complete"},
		{name: "not ready", r: order.ReadyToSchedule{Reasons: []string{"not ready: prior authorization is required"}},
			codings: 2, code: "not-ready-to-schedule", display: "not ready: prior authorization is required"},
		{name: "not ready, no reasons", r: order.ReadyToSchedule{Reasons: []string{}}, codings: 2, code: "not-ready-to-schedule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &order.Order{ID: "o1", Placer: "P1", Status: order.StatusPendingAuth, ReadyToSchedule: tc.r}
			task := ToTask(o)
			b, err := json.Marshal(task)
			if err != nil {
				t.Fatal(err)
			}
			checkFHIR(t, "Task", b)
			cs := task.BusinessStatus.Coding
			if len(cs) != tc.codings || deref(cs[0].Code) != "pending-authorization" {
				t.Fatalf("businessStatus codings %s", b)
			}
			if tc.codings == 2 && (deref(cs[1].Code) != tc.code || deref(cs[1].Display) != tc.display || cs[1].System != nil) {
				t.Errorf("ready coding = %s, want code %q display %q and no system", b, tc.code, tc.display)
			}
		})
	}
}
