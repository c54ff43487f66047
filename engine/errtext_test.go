package engine_test

import (
	"strings"
	"testing"

	"github.com/radbridge/radbridge/hl7"
)

func oru(ctl, placer, obr25 string) []byte {
	return []byte(strings.ReplaceAll(`MSH|^~\&|RIS|RADIOLOGY|EHR|HOSP_A|20261122110000||ORU^R01^ORU_R01|`+ctl+`|P|2.5.1
PID|1||MRN123^^^HOSP_A^MR||DOE^JANE
OBR|1|`+placer+`^EHR|F-`+placer+`^RIS|70553^MRI BRAIN W/WO^C4|||20261122100000||||||||||||||||||`+obr25+`
OBX|1|TX|18782-3^Study observation^LN|1|Unremarkable study.||||||F`, "\n", "\r"))
}

// errs returns the ERRs of an acknowledgment.
func errs(t *testing.T, ack *hl7.Message) []hl7.Issue {
	t.Helper()
	if ack == nil {
		t.Fatal("no acknowledgment")
	}
	return hl7.ReadIssues(ack)
}

// TestHandleV2_ErrTexts: what the lifecycle refuses reaches the sender as a sentence,
// with none of the Go error's package prefix or notation; a result whose status the
// mapping could not read is reported once, at OBR-25.
func TestHandleV2_ErrTexts(t *testing.T) {
	f := newFixture(t, nil)
	if got := f.Send(t, orm("NW", "E1", "P700", "DG1|1||R51.9^Headache^I10")).Get("MSA-1"); got != "AA" {
		t.Fatalf("ORM: %s", got)
	}
	if got := f.Send(t, oru("E2", "P700", "F")).Get("MSA-1"); got != "AA" {
		t.Fatalf("ORU: %s", got)
	}
	for _, tc := range []struct {
		name string
		msg  []byte
		at   string
		want string
	}{
		{"preliminary after final", oru("E3", "P700", "P"), "OBR-25",
			`The result "F-P700" is already final: a preliminary version cannot follow it; send a corrected version instead.`},
		{"cancel after the result", orm("CA", "E4", "P700", ""), "ORC-1",
			"The order is resulted: it cannot become cancelled (ORC-1=CA)."},
		{"no result status", oru("E5", "P700", ""), "OBR-25", "OBR-25 result status is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ack := f.Send(t, tc.msg)
			if got := ack.Get("MSA-1"); got != "AE" {
				t.Errorf("MSA-1 = %q, want AE", got)
			}
			var texts []string
			for _, is := range errs(t, ack) {
				texts = append(texts, is.Location.String()+": "+is.Text)
				if strings.HasPrefix(is.Text, "order: ") || strings.Contains(is.Text, "->") || strings.Contains(is.Text, "invalid result") {
					t.Errorf("ERR %s is a Go error: %q", is.Location, is.Text)
				}
			}
			if len(texts) != 1 || texts[0] != tc.at+": "+tc.want {
				t.Errorf("ERRs %q, want exactly %q", texts, tc.at+": "+tc.want)
			}
		})
	}
}
