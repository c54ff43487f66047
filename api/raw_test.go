package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/store"
)

// The raw view of a message is byte-exact: a Latin-1 message (which a JSON string cannot
// hold: it read back with U+FFFD for each accented letter) comes in raw_base64, one with
// a NUL in raw, and GET /api/messages/{id}/raw serves the bytes as they came.
func TestAPI_RawMessageExact(t *testing.T) {
	f := enginetest.New(t, enginetest.Options{})
	srv := f.Server(t, nil)
	latin1 := enginetest.CR("MSH|^~\\&|EHR|HOSP_A|RADBRIDGE|IMG|20261122093000||ORM^O01^ORM_O01|L\xe91|P|2.5.1||||||8859/1\n" +
		"PID|1||MRN1^^^HOSP_A^MR||M\xdcLLER^J\xd6RG||19800102|M\nORC|NW|PL1^EHR\nOBR|1|PL1^EHR||70553^IRM CR\xc2NE^C4")
	withNUL := enginetest.CR("MSH|^~\\&|EHR|HOSP_A|RADBRIDGE|IMG|20261122093000||ORM^O01^ORM_O01|N1|P|2.5.1\n" +
		"PID|1||MRN2^^^HOSP_A^MR||DOE\x00^JANE\nORC|NW|PN1^EHR\nOBR|1|PN1^EHR||70553^MRI\x00BRAIN^C4")
	for _, tc := range []struct {
		name          string
		raw           []byte
		wantBase64    bool
		wantAckBase64 bool
	}{
		{name: "Latin-1", raw: latin1, wantBase64: true, wantAckBase64: true}, // MSA-2 echoes MSH-10 byte for byte
		{name: "NUL", raw: withNUL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ack, err := f.Engine.HandleV2(t.Context(), tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			var id string
			f.View(t, func(tx store.ReadTx) error {
				msgs, _, err := tx.Messages(store.MessageQuery{Limit: 1})
				if err == nil && len(msgs) == 1 {
					id = msgs[0].ID
				}
				return err
			})
			resp, err := authGet(t, f.Token, srv.URL+"/api/messages/"+id)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			err = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /api/messages/%s: %d %v", id, resp.StatusCode, err)
			}
			rawBytes := func(field string) []byte {
				b64, _ := got[field+"_base64"].(string)
				if s, ok := got[field].(string); ok {
					if b64 != "" {
						t.Errorf("%s and %s_base64 both given", field, field)
					}
					return []byte(s)
				}
				b, err := base64.StdEncoding.DecodeString(b64)
				if err != nil {
					t.Fatalf("%s_base64: %v", field, err)
				}
				return b
			}
			if _, ok := got["raw_base64"]; ok != tc.wantBase64 {
				t.Errorf("raw_base64 given: %v, want %v: %v", ok, tc.wantBase64, got)
			}
			if _, ok := got["ack_base64"]; ok != tc.wantAckBase64 {
				t.Errorf("ack_base64 given: %v, want %v: %v", ok, tc.wantAckBase64, got)
			}
			if b := rawBytes("raw"); !bytes.Equal(b, tc.raw) {
				t.Errorf("raw reads back as %q, want %q", b, tc.raw)
			}
			if b := rawBytes("ack"); !bytes.Equal(b, ack) {
				t.Errorf("ack reads back as %q, want %q", b, ack)
			}

			resp, err = authGet(t, f.Token, srv.URL+"/api/messages/"+id+"/raw")
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, tc.raw) ||
				resp.Header.Get("Content-Type") != "x-application/hl7-v2+er7" {
				t.Errorf("GET /raw: %d %s %q, want the bytes as received", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		})
	}
	resp, err := authGet(t, f.Token, srv.URL+"/api/messages/msg-999/raw")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /raw of no message: %d, want 404", resp.StatusCode)
	}
}

// authGet is http.Get with the fixture's bearer token.
func authGet(t *testing.T, token, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return http.DefaultClient.Do(req)
}
