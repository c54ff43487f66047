package fhirmap

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/radbridge/radbridge/internal/jsontext"
	"github.com/radbridge/radbridge/order"
)

// withMetaByMap and withStatusByMap are the decode and re-encode forms withMeta and
// withStatus must agree with, member for member.
func withMetaByMap(resource []byte, id string, version int, at time.Time) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(resource, &m); err != nil {
		return nil, err
	}
	meta := map[string]json.RawMessage{}
	if raw, ok := m["meta"]; ok {
		json.Unmarshal(raw, &meta)
	}
	meta["versionId"], _ = json.Marshal(strconv.Itoa(version))
	meta["lastUpdated"], _ = json.Marshal(at.UTC().Format(time.RFC3339Nano))
	m["meta"], _ = json.Marshal(meta)
	m["id"], _ = json.Marshal(id)
	return json.Marshal(m)
}

func withStatusByMap(resource []byte, status string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(resource, &m); err != nil {
		return nil, err
	}
	m["status"], _ = json.Marshal(status)
	return json.Marshal(m)
}

// editCases are resources for withMeta and withStatus.
var editCases = map[string]string{
	"bare":          `{"resourceType":"ServiceRequest"}`,
	"empty":         `{}`,
	"id present":    `{"resourceType":"ServiceRequest","id":"client-id","status":"draft"}`,
	"id last":       `{"status":"active","resourceType":"ServiceRequest","id":"client-id"}`,
	"escaped names": `{"resourc\u0065Type":"ServiceRequest","\u0069d":"client","st\u0061tus":"active","m\u0065ta":{"versionId":"7","s\u006furce":"x"}}`,
	"existing meta": `{"resourceType":"ServiceRequest","meta":{"versionId":"9","lastUpdated":"2001-01-01T00:00:00Z",` +
		`"source":"urn:app","profile":["http://example.org/p"],"tag":[{"system":"urn:t","code":"a"}]},"status":"active"}`,
	"meta not an object": `{"resourceType":"ServiceRequest","meta":"x","status":"active"}`,
	"empty meta":         `{"resourceType":"ServiceRequest","meta":{},"status":"active"}`,
	"unicode": `{"resourceType":"ServiceRequest","note":[{"text":"é ☃ 𝄞 \u00e9 \ud834\udd1e <b>&amp;</b>"}],` +
		`"subject":{"display":"Zoë Ñúñez"},"status":"active"}`,
	"whitespace": " \n{ \"resourceType\" : \"ServiceRequest\" ,\n\t\"meta\" : { \"source\" : \"a b\" } ,\r\n" +
		" \"status\":\"on-hold\",\"identifier\" : [ { \"value\" : \" P 1 \" } ] , \"n\" : -1.50e+3 }\n",
	"numbers and literals": `{"resourceType":"Observation","valueQuantity":{"value":1.000,"unit":"mm"},"doNotPerform":false,"x":null}`,
	"no status":            `{"resourceType":"ServiceRequest","intent":"order"}`,
}

// sameJSON reports a difference between two JSON documents as values.
func sameJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: output %q is not JSON: %v", what, got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
	var c bytes.Buffer
	if err := json.Compact(&c, got); err != nil || !bytes.Equal(c.Bytes(), got) {
		t.Errorf("%s: output is not compact: %s", what, got)
	}
}

func TestWithMeta_AsDecodeEncode(t *testing.T) {
	at := time.Date(2026, 11, 22, 18, 4, 5, 123456000, time.FixedZone("X", 3600))
	for name, in := range editCases {
		t.Run(name, func(t *testing.T) {
			for _, id := range []string{"ord-42", "a<b>&c\"é"} {
				got, err := WithMeta([]byte(in), id, 3, at)
				if err != nil {
					t.Fatalf("WithMeta(%q) = %v", in, err)
				}
				want, err := withMetaByMap([]byte(in), id, 3, at)
				if err != nil {
					t.Fatal(err)
				}
				sameJSON(t, "WithMeta("+in+")", got, want)
				if strings.Contains(in, `"resourceType"`) && !bytes.HasPrefix(got, []byte(`{"resourceType":`)) {
					t.Errorf("WithMeta(%q) = %s: resourceType is not first", in, got)
				}
			}
		})
	}
}

func TestWithMeta_Stamp(t *testing.T) {
	at := time.Date(2026, 11, 22, 18, 4, 5, 0, time.UTC)
	got, err := WithMeta([]byte(`{"resourceType":"ServiceRequest","id":"old","status":"active"}`), "ord-1", 1, at)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"resourceType":"ServiceRequest","id":"ord-1","meta":{"versionId":"1","lastUpdated":"2026-11-22T18:04:05Z"},"status":"active"}`
	if string(got) != want {
		t.Errorf("withMeta = %s, want %s", got, want)
	}
}

func TestWithStatus_AsDecodeEncode(t *testing.T) {
	for name, in := range editCases {
		t.Run(name, func(t *testing.T) {
			for _, status := range []string{"active", "on-hold", "<&>"} {
				got, err := WithStatus([]byte(in), status)
				if err != nil {
					t.Fatalf("WithStatus(%q) = %v", in, err)
				}
				want, err := withStatusByMap([]byte(in), status)
				if err != nil {
					t.Fatal(err)
				}
				sameJSON(t, "WithStatus("+in+")", got, want)
			}
		})
	}
}

func TestWithMeta_Invalid(t *testing.T) {
	for _, in := range []string{``, `[]`, `"x"`, `{"a":}`, `{"a":1} {}`, `null`} {
		if got, err := WithMeta([]byte(in), "x", 1, time.Now()); err == nil {
			t.Errorf("WithMeta(%q) = %s, want an error", in, got)
		}
		if got, err := WithStatus([]byte(in), "active"); err == nil {
			t.Errorf("WithStatus(%q) = %s, want an error", in, got)
		}
	}
}

func TestHasStatus(t *testing.T) {
	tests := []struct {
		in, status string
		want       bool
	}{
		{in: `{"resourceType":"ServiceRequest","status":"active"}`, status: "active", want: true},
		{in: `{"resourceType":"ServiceRequest","status":"active"}`, status: "on-hold"},
		{in: `{"resourceType":"ServiceRequest"}`, status: "active"},
		{in: `{"status":"active","st\u0061tus":"active"}`, status: "active"}, // twice
		{in: `{"st\u0061tus":"active"}`, status: "active", want: true},
		{in: `{"status":"act\u0069ve"}`, status: "active"}, // rewritten plainly
		{in: `{"x":{"status":"active"},"status":"draft"}`, status: "active"},
		{in: `{"status":["active"]}`, status: "active"},
	}
	for _, tc := range tests {
		obj, err := jsontext.Compact([]byte(tc.in))
		if err != nil {
			t.Fatal(err)
		}
		if got := hasStatus(obj, tc.status); got != tc.want {
			t.Errorf("hasStatus(%s, %q) = %v, want %v", tc.in, tc.status, got, tc.want)
		}
	}
}

// BenchmarkStampRequest stamps the 2 KB ServiceRequest radbridge bench fhir posts (four
// contained resources) as a create stores it, then sets the status it is served with.
func BenchmarkStampRequest(b *testing.B) {
	benchResource, err := os.ReadFile("../testdata/fhir/radbridge__servicerequest-bench.json")
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 18, 4, 5, 123456789, time.UTC)
	o := &order.Order{Status: order.StatusReady}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchResource)))
	for b.Loop() {
		if _, _, err := StampRequest(benchResource, "ord-123456", 1, at, o.Status.ServiceRequestStatus()); err != nil {
			b.Fatal(err)
		}
	}
}
