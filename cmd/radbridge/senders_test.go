package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/internal/testpki"
)

// TestServe_SendersAndTLSDestination: serve with mutual TLS on MLLP, mllp.senders
// mapping certificates to facilities, and a destination over mutual TLS. The EHR's
// order is accepted, the same connection sending as another facility is answered AR,
// and the RIS's report reaches the EHR's TLS listener with radbridge's certificate.
func TestServe_SendersAndTLSDestination(t *testing.T) {
	ca := testpki.NewCA(t, "Interface CA")
	listener := ca.Server(t)
	ehrCert := ca.Client(t, pkix.Name{CommonName: "ehr.bench", Organization: []string{"Bench Hospital"}})
	risCert := ca.Client(t, pkix.Name{CommonName: "ris"})
	outbound := ca.Client(t, pkix.Name{CommonName: "radbridge"})

	type received struct {
		msg     []byte
		subject string
	}
	got := make(chan received, 4)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ehr := &mllp.Server{TLSConfig: &tls.Config{Certificates: []tls.Certificate{ca.Server(t).TLS}, ClientCAs: ca.Pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12},
		Handler: mllp.HandlerFunc(func(_ context.Context, msg []byte, info mllp.ConnInfo) ([]byte, error) {
			m, err := hl7.Parse(msg)
			if err != nil {
				return nil, err
			}
			got <- received{bytes.Clone(msg), info.PeerSubject}
			return hl7.AppendAck(nil, m.Header(), hl7.Ack{Code: hl7.AA, ControlID: "E" + m.Header().ControlID, Time: time.Now()}), nil
		})}
	go ehr.Serve(l)
	t.Cleanup(func() { ehr.Close() })

	cfg, err := loadTestConfig(t, `
mllp:
  tls: {cert: `+listener.CertFile+`, key: `+listener.KeyFile+`, client_ca: `+ca.File+`}
  senders:
    - {facility: BENCH_FAC, cert_subject: "CN=ehr.bench,O=Bench Hospital"}
    - {facility: RADIOLOGY, cert_subject: ris}
destinations:
  - name: ehr
    match: {sending_facility: BENCH_FAC}
    mllp: `+l.Addr().String()+`
    tls: {ca: `+ca.File+`, cert: `+outbound.CertFile+`, key: `+outbound.KeyFile+`}
`)
	if err != nil {
		t.Fatal(err)
	}
	serveInProcess(t, cfg)
	client := func(leaf testpki.Leaf) *mllp.Client {
		c := &mllp.Client{Addr: cfg.MLLP.Addr, TLSConfig: &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{leaf.TLS}}}
		t.Cleanup(func() { c.Close() })
		return c
	}
	send := func(c *mllp.Client, msg []byte) *hl7.Message {
		t.Helper()
		raw, err := c.Send(t.Context(), msg)
		if err != nil {
			t.Fatal(err)
		}
		m, err := hl7.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	fromEHR, fromRIS := client(ehrCert), client(risCert)

	if ack := send(fromEHR, benchMessage("SEC", 1, "20261101080000")); ack.Get("MSA-1") != "AA" {
		t.Fatalf("order from BENCH_FAC with its certificate: %q", ack.Bytes())
	}
	spoof := bytes.Replace(benchMessage("SEC", 2, "20261101080000"), []byte("|BENCH|BENCH_FAC|"), []byte("|BENCH|OTHER_FAC|"), 1)
	ack := send(fromEHR, spoof)
	if is := hl7.ReadIssues(ack); ack.Get("MSA-1") != "AR" || len(is) != 1 || is[0].Code != hl7.CodeTableValue || is[0].Location.Field != 4 {
		t.Errorf("order as OTHER_FAC from BENCH_FAC's certificate: %q, want AR with ERR 103 at MSH-4", ack.Bytes())
	}
	oru := []byte("MSH|^~\\&|RIS|RADIOLOGY|BENCH|BENCH_FAC|20261101090000||ORU^R01^ORU_R01|SECR1|P|2.5.1\r" +
		"PID|1||MRNSEC1^^^BENCH_FAC^MR||DOE^JANE\r" +
		"OBR|1|SEC1^BENCH|F1|70553^MRI BRAIN^C4|||20261101085000||||||||||||||||||F\r" +
		"OBX|1|TX|18782-3^Study observation^LN|1|Unremarkable study.||||||F\r")
	if ack := send(fromRIS, oru); ack.Get("MSA-1") != "AA" {
		t.Fatalf("report from RADIOLOGY with its certificate: %q", ack.Bytes())
	}
	select {
	case r := <-got:
		if !bytes.Contains(r.msg, []byte("Unremarkable study.")) || !strings.Contains(string(r.msg), "|ORU^R01") {
			t.Errorf("the EHR received %q, want the ORU^R01 with the report", r.msg)
		}
		if r.subject != "CN=radbridge" {
			t.Errorf("the EHR saw client certificate %q, want CN=radbridge", r.subject)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no ORU^R01 reached the EHR's TLS listener")
	}
}

func TestConfig_Senders(t *testing.T) {
	ca := testpki.NewCA(t, "CA")
	srv := ca.Server(t)
	tlsBlock := "  tls: {cert: " + srv.CertFile + ", key: " + srv.KeyFile + ", client_ca: " + ca.File + "}\n"
	c, err := loadTestConfig(t, "mllp:\n"+tlsBlock+`  senders:
    - {facility: HOSP_A, cidrs: ["10.1.0.0/16", "192.0.2.7", "::ffff:192.0.2.8", "2001:db8::/32"]}
    - {facility: HOSP_B, cert_subject: "CN=ris,O=Hospital B"}
`)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.senders()
	if err != nil {
		t.Fatal(err)
	}
	var cidrs []string
	for _, p := range s[0].CIDRs {
		cidrs = append(cidrs, p.String())
	}
	if got, want := strings.Join(cidrs, " "), "10.1.0.0/16 192.0.2.7/32 192.0.2.8/32 2001:db8::/32"; got != want || s[1].CertSubject != "CN=ris,O=Hospital B" {
		t.Errorf("senders = %+v (CIDRs %s), want CIDRs %s and HOSP_B's subject", s, got, want)
	}
	for _, tc := range []struct{ yaml, wantErr string }{
		{"mllp:\n  senders: [{facility: A, cert_subject: x}]\n", "needs mllp.tls.client_ca"},
		{"mllp:\n  senders: [{facility: A, cidrs: [10.0.0.0/33]}]\n", "mllp.senders[0].cidrs"},
		{"mllp:\n  senders: [{facility: A, cidrs: [somehost]}]\n", "mllp.senders[0].cidrs"},
		{"mllp:\n  senders: [{facility: A}]\n", "admits every connection"},
		{"mllp:\n  senders: [{cidrs: [10.0.0.0/8]}]\n", "Facility is required"},
		{"mllp:\n  senders: [{facility: A, cidr: [10.0.0.0/8]}]\n", "field cidr not found"},
	} {
		if _, err := loadTestConfig(t, tc.yaml); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.wantErr)
		}
	}
}

// TestServe_SubscriptionAllowlist: serve takes a Subscription whose endpoint is under
// fhir.subscriptions.allow and refuses one elsewhere.
func TestServe_SubscriptionAllowlist(t *testing.T) {
	cfg, err := loadTestConfig(t, `
fhir:
  subscriptions:
    allow: ["https://app.example.org/hooks"]
    allow_headers: [Authorization]
`)
	if err != nil {
		t.Fatal(err)
	}
	serveInProcess(t, cfg)
	token := adminToken(t, cfg.DataDir)
	post := func(endpoint string) int {
		body := `{"resourceType":"Subscription","status":"requested","reason":"r","criteria":"DiagnosticReport?status=final",
 "channel":{"type":"rest-hook","endpoint":"` + endpoint + `","header":["Authorization: Bearer t"]}}`
		req, err := http.NewRequest(http.MethodPost, "http://"+cfg.HTTP.Addr+"/fhir/Subscription", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/fhir+json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	if got := post("https://app.example.org/hooks/1"); got != http.StatusCreated {
		t.Errorf("allowed endpoint: %d, want 201", got)
	}
	if got := post("https://app.example.org.evil.test/hooks/1"); got != http.StatusUnprocessableEntity {
		t.Errorf("endpoint outside the allowlist: %d, want 422", got)
	}
}

func TestConfig_Subscriptions(t *testing.T) {
	for _, tc := range []struct{ yaml, wantErr string }{
		{"fhir: {subscriptions: {allow: [hooks.example.org]}}\n", "fhir.subscriptions.allow"},
		{"fhir: {subscriptions: {allow: [\"https://u@hooks.example.org\"]}}\n", "userinfo"},
		{"fhir: {subscriptions: {allow_headers: [Host]}}\n", "fhir.subscriptions.allow_headers"},
		{"fhir: {subscriptions: {allow_headers: [\"Bad Name\"]}}\n", "not a header name"},
	} {
		if _, err := loadTestConfig(t, tc.yaml); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.wantErr)
		}
	}
	if _, err := loadTestConfig(t, "fhir: {subscriptions: {allow: [\"https://hooks.example.org/r4\"], allow_headers: [authorization]}}\n"); err != nil {
		t.Errorf("valid block: %v", err)
	}
}
