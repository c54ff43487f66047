package engine_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/store"
)

// TestHandleV2_ProcessingIDs: by default only production messages (MSH-11 P) reach the
// store's orders; a training or debugging one is answered AR with ERR 202 at MSH-11
// saying how to accept it, and processing_ids accepts it.
func TestHandleV2_ProcessingIDs(t *testing.T) {
	withID := func(pid, ctl, placer string) []byte {
		return bytes.Replace(orm("NW", ctl, placer, "DG1|1||R51.9^Headache^I10"), []byte("|"+ctl+"|P|"), []byte("|"+ctl+"|"+pid+"|"), 1)
	}
	f := newFixture(t, nil)
	for _, pid := range []string{"T", "D", "T^T"} {
		ack := f.Send(t, withID(pid, "PI-"+pid[:1], "PL-"+pid[:1]))
		issues := hl7.ReadIssues(ack)
		if ack.Get("MSA-1") != "AR" || len(issues) != 1 || issues[0].Code != hl7.CodeUnsupportedProcID || issues[0].Location.String() != "MSH-11" ||
			!strings.Contains(issues[0].Text, "processing_ids: [P, T]") {
			t.Errorf("MSH-11 %s by default: %q, want AR with ERR 202 at MSH-11 saying how to accept it", pid, ack.Bytes())
		}
	}
	if n := len(f.Orders(t, store.OrderQuery{})); n != 0 {
		t.Errorf("%d orders stored from training and debugging messages, want 0", n)
	}
	if got := f.Send(t, withID("P", "PI-P", "PL-P")).Get("MSA-1"); got != "AA" {
		t.Errorf("MSH-11 P by default: %s, want AA", got)
	}

	test := enginetest.New(t, enginetest.Options{Engine: engine.Config{ProcessingIDs: []string{"P", "T"}}})
	if got := test.Send(t, withID("T", "PI-T", "PL-T")).Get("MSA-1"); got != "AA" {
		t.Errorf("MSH-11 T with processing_ids [P, T]: %s, want AA", got)
	}
	if ack := test.Send(t, withID("D", "PI-D", "PL-D")); ack.Get("MSA-1") != "AR" || !strings.Contains(hl7.ReadIssues(ack)[0].Text, "takes P, T") {
		t.Errorf("MSH-11 D with processing_ids [P, T]: %q, want AR naming P, T", ack.Bytes())
	}
}
