package mapping_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/mapping")

const goldenDir = "../testdata/mapping"

// golden is what a golden file records of one message: the mapped orders or results,
// and the issues.
type golden struct {
	Type    string             `json:"type"`
	Orders  []mapping.V2Order  `json:"orders,omitempty"`
	Results []mapping.V2Result `json:"results,omitempty"`
	Issues  []goldenIssue      `json:"issues"`
}

type goldenIssue struct {
	Location string `json:"location"`
	Code     int    `json:"code"`
	Severity string `json:"severity"`
	Text     string `json:"text"`
}

// readMessage reads and parses one message file.
func readMessage(tb testing.TB, path string) *hl7.Message {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := hl7.Parse(b)
	if err != nil {
		tb.Fatalf("hl7.Parse(%s): %v", path, err)
	}
	return m
}

// mapMessage maps m with FromV2, or ResultsFromV2 for an ORU.
func mapMessage(m *hl7.Message) golden {
	g := golden{Type: m.Header().MessageType()}
	var issues []hl7.Issue
	if m.Header().Type == "ORU" {
		g.Results, issues = mapping.ResultsFromV2(m)
	} else {
		g.Orders, issues = mapping.FromV2(m)
	}
	g.Issues = []goldenIssue{}
	for _, is := range issues {
		g.Issues = append(g.Issues, goldenIssue{Location: is.Location.String(), Code: is.Code,
			Severity: is.Severity.String(), Text: is.Text})
	}
	return g
}

func marshalGolden(tb testing.TB, g golden) []byte {
	tb.Helper()
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return append(b, '\n')
}

// TestGolden maps every testdata/mapping/*.hl7 and compares the result with the
// .golden.json beside it; go test ./mapping -update rewrites them.
func TestGolden(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(goldenDir, "*.hl7"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no golden inputs in " + goldenDir)
	}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".hl7")
		t.Run(name, func(t *testing.T) {
			got := marshalGolden(t, mapMessage(readMessage(t, p)))
			gp := strings.TrimSuffix(p, ".hl7") + ".golden.json"
			if *update {
				if err := os.WriteFile(gp, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gp)
			if err != nil {
				t.Fatalf("%v (run go test ./mapping -update to create it)", err)
			}
			want = bytes.ReplaceAll(want, []byte("\r\n"), []byte("\n"))
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("mapping %s differs from %s (-want +got):\n%s", filepath.Base(p), filepath.Base(gp), diff)
			}
		})
	}
}
