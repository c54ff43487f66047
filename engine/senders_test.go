package engine_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
	"github.com/radbridge/radbridge/internal/enginetest"
	"github.com/radbridge/radbridge/internal/testpki"
	"github.com/radbridge/radbridge/store"
)

func TestSenders_Allow(t *testing.T) {
	ca := testpki.NewCA(t, "CA")
	certA := ca.Client(t, pkix.Name{CommonName: "ris.hosp-a", Organization: []string{"Hospital A"}}).Cert
	certB := ca.Client(t, pkix.Name{CommonName: "hosp-b"}).Cert
	local, lan := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.1.2.3")
	rules := engine.Senders{
		{Facility: "HOSP_A", CertSubject: "CN=ris.hosp-a,O=Hospital A"},
		{Facility: "HOSP_B", CertSubject: "hosp-b"},
		{Facility: "HOSP_C", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}},
		{Facility: "HOSP_D", CIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, CertSubject: "hosp-b"},
		{Facility: "HOSP_D", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/32")}},
	}
	if err := rules.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		facility string
		peer     engine.Peer
		want     bool
	}{
		{"HOSP_A", engine.Peer{Addr: local, Cert: certA}, true},
		{"HOSP_A", engine.Peer{Addr: local, Cert: certB}, false},
		{"HOSP_A", engine.Peer{Addr: local}, false},
		{"hosp_a", engine.Peer{Addr: local, Cert: certA}, false}, // exact, case included
		{"HOSP_B", engine.Peer{Addr: local, Cert: certB}, true},  // by common name
		{"HOSP_B", engine.Peer{Addr: local, Cert: certA}, false},
		{"HOSP_C", engine.Peer{Addr: lan}, true},
		{"HOSP_C", engine.Peer{Addr: lan, Cert: certA}, true}, // a certificate does not hurt
		{"HOSP_C", engine.Peer{Addr: local}, false},
		{"HOSP_C", engine.Peer{}, false}, // no address
		{"HOSP_D", engine.Peer{Addr: local, Cert: certB}, true},
		{"HOSP_D", engine.Peer{Addr: local}, false},                                        // both conditions of one rule
		{"HOSP_D", engine.Peer{Addr: netip.MustParseAddr("10.9.9.9"), Cert: certB}, false}, // address outside that rule
		{"HOSP_D", engine.Peer{Addr: lan}, true},                                           // the second rule
		{"HOSP_E", engine.Peer{Addr: lan, Cert: certA}, false},                             // a facility no rule names
		{"", engine.Peer{Addr: lan, Cert: certA}, false},
	}
	for _, tc := range tests {
		err := rules.Allow(tc.facility, tc.peer)
		if got := err == nil; got != tc.want {
			t.Errorf("Allow(%q, %v) = %v, want allowed %v", tc.facility, tc.peer, err, tc.want)
		}
		if err != nil && !errors.Is(err, engine.ErrSenderNotAllowed) {
			t.Errorf("Allow(%q, %v) = %v, not ErrSenderNotAllowed", tc.facility, tc.peer, err)
		}
	}
	if err := (engine.Senders{}).Allow("ANY", engine.Peer{}); err != nil {
		t.Errorf("no rules: Allow = %v, want nil", err)
	}
}

func TestSenders_Validate(t *testing.T) {
	for _, s := range []engine.Senders{
		{{CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}},
		{{Facility: "A"}},
		{{Facility: "A", CIDRs: []netip.Prefix{{}}}},
		{{Facility: "A", CIDRs: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}}},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", s)
		}
		if _, err := engine.New(engine.Config{Senders: s}, nil, nil, nil, nil); err == nil {
			t.Errorf("engine.New with Senders %+v succeeded", s)
		}
	}
}

// ormAs is an order whose MSH-4 is facility.
func ormAs(facility, control, placer string) []byte {
	return bytes.Replace(orm("NW", control, placer, ""), []byte("|EHR|HOSP_A|"), []byte("|EHR|"+facility+"|"), 1)
}

// serveEngine serves the fixture's engine over MLLP (TLS when cfg is set) on loopback.
func serveEngine(t *testing.T, f *fixture, cfg *tls.Config) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &mllp.Server{Handler: engine.MLLPHandler{Engine: f.Engine}, TLSConfig: cfg}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// sendOn sends msg with c and returns the parsed ACK.
func sendOn(t *testing.T, c *mllp.Client, msg []byte) *hl7.Message {
	t.Helper()
	raw, err := c.Send(t.Context(), msg)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	ack, err := hl7.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return ack
}

// wantRefused checks an ACK is a refusal at MSH-4 with the given 0357 code.
func wantRefused(t *testing.T, ack *hl7.Message, code int) {
	t.Helper()
	issues := hl7.ReadIssues(ack)
	if ack.Get("MSA-1") != "AR" || len(issues) != 1 || issues[0].Code != code || issues[0].Location.Segment != "MSH" ||
		issues[0].Location.Field != 4 || issues[0].Text == "" {
		t.Errorf("ACK = %q, want AR with one ERR %d at MSH-4 with a text", ack.Bytes(), code)
	}
}

// storedAs returns the stored record and raw bytes of the message with control ID ctl.
func storedAs(t *testing.T, f *fixture, ctl string) (*store.Message, []byte) {
	t.Helper()
	var m *store.Message
	var raw []byte
	f.View(t, func(tx store.ReadTx) error {
		list, _, err := tx.Messages(store.MessageQuery{ControlID: ctl})
		if err != nil || len(list) != 1 {
			t.Fatalf("messages with control ID %s: %v, %v", ctl, list, err)
		}
		m = list[0]
		raw, err = tx.Raw(m.ID)
		return err
	})
	return m, raw
}

// Over mutual TLS each certificate sends as its own facility; a connection that sends
// as another facility is answered AR, and its message is kept for audit, unprocessed.
func TestMLLPHandler_Senders_MTLS(t *testing.T) {
	ca := testpki.NewCA(t, "Interface CA")
	f := enginetest.New(t, enginetest.Options{Engine: engine.Config{Senders: engine.Senders{
		{Facility: "HOSP_A", CertSubject: "CN=ris.hosp-a,O=Hospital A"},
		{Facility: "HOSP_B", CertSubject: "hosp-b"},
	}}})
	addr := serveEngine(t, f, &tls.Config{Certificates: []tls.Certificate{ca.Server(t).TLS}, ClientCAs: ca.Pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	client := func(subject pkix.Name) *mllp.Client {
		c := &mllp.Client{Addr: addr, TLSConfig: &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{ca.Client(t, subject).TLS}}}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a := client(pkix.Name{CommonName: "ris.hosp-a", Organization: []string{"Hospital A"}})
	b := client(pkix.Name{CommonName: "hosp-b"})

	if got := sendOn(t, a, ormAs("HOSP_A", "A1", "PA1")).Get("MSA-1"); got != "AA" {
		t.Errorf("HOSP_A with its certificate: MSA-1 %s, want AA", got)
	}
	if got := sendOn(t, b, ormAs("HOSP_B", "B1", "PB1")).Get("MSA-1"); got != "AA" {
		t.Errorf("HOSP_B with its certificate: MSA-1 %s, want AA", got)
	}
	spoof := ormAs("HOSP_B", "A2", "PB2")
	ack := sendOn(t, a, spoof)
	wantRefused(t, ack, hl7.CodeTableValue)
	if is := hl7.ReadIssues(ack); len(is) == 1 && !strings.Contains(is[0].Text, "HOSP_B") {
		t.Errorf("ERR text %q does not name the facility", is[0].Text)
	}
	if ack.Get("MSA-2") != "A2" {
		t.Errorf("MSA-2 = %q, want A2", ack.Get("MSA-2"))
	}
	// HOSP_A's own message, resent by HOSP_B's connection, is refused too: the resend
	// index must not hand another facility's acknowledgment to it.
	wantRefused(t, sendOn(t, b, ormAs("HOSP_A", "A1", "PA1")), hl7.CodeTableValue)

	m, raw := storedAs(t, f, "A2")
	if m.AckCode != "AR" || m.Sender != "HOSP_B" || len(m.OrderIDs) != 0 || !bytes.Equal(raw, spoof) {
		t.Errorf("refused message stored as %+v with %d raw bytes, want AR from HOSP_B, no order, the bytes sent", m, len(raw))
	}
	if orders := f.Orders(t, store.OrderQuery{}); len(orders) != 2 {
		t.Errorf("%d orders stored, want 2 (the refused messages made none)", len(orders))
	}
}

// A CIDR rule: a connection from the rule's addresses sends as its facility, one from
// elsewhere is refused; a facility no rule names, and a message without MSH-4, are
// refused on every connection.
func TestMLLPHandler_Senders_CIDR(t *testing.T) {
	f := enginetest.New(t, enginetest.Options{Engine: engine.Config{Senders: engine.Senders{
		{Facility: "HOSP_A", CIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		{Facility: "HOSP_B", CIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}},
	}}})
	addr := serveEngine(t, f, nil)
	from := func(ip string) *rawMLLP { return dialFrom(t, ip, addr) }
	one, two := from("127.0.0.1"), from("127.0.0.2")

	if got := two.send(t, ormAs("HOSP_B", "B1", "PB1")).Get("MSA-1"); got != "AA" {
		t.Errorf("HOSP_B from 127.0.0.2: MSA-1 %s, want AA", got)
	}
	if got := two.send(t, ormAs("HOSP_A", "A1", "PA1")).Get("MSA-1"); got != "AA" {
		t.Errorf("HOSP_A from 127.0.0.2 (in 127.0.0.0/8): MSA-1 %s, want AA", got)
	}
	wantRefused(t, one.send(t, ormAs("HOSP_B", "B2", "PB2")), hl7.CodeTableValue)
	wantRefused(t, one.send(t, ormAs("HOSP_C", "C1", "PC1")), hl7.CodeTableValue)
	wantRefused(t, one.send(t, ormAs("", "E1", "PE1")), hl7.CodeRequiredField)
	for _, ctl := range []string{"B2", "C1", "E1"} {
		if m, _ := storedAs(t, f, ctl); m.AckCode != "AR" {
			t.Errorf("message %s stored with ACK %s, want AR", ctl, m.AckCode)
		}
	}
}

// rawMLLP is an MLLP connection from a chosen local address (mllp.Client dials from
// any).
type rawMLLP struct {
	conn net.Conn
	r    *mllp.Reader
}

func dialFrom(t *testing.T, ip, addr string) *rawMLLP {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c, err := d.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawMLLP{conn: c, r: mllp.NewReader(c, mllp.DefaultMaxMessageSize)}
}

func (c *rawMLLP) send(t *testing.T, msg []byte) *hl7.Message {
	t.Helper()
	c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write(mllp.AppendFrame(nil, msg)); err != nil {
		t.Fatal(err)
	}
	raw, err := c.r.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	ack, err := hl7.Parse(bytes.Clone(raw))
	if err != nil {
		t.Fatal(err)
	}
	return ack
}
