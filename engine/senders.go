package engine

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
)

// Peer is what the engine knows of the connection a message arrived on: what the
// sender rules (Config.Senders) judge it by.
type Peer struct {
	// Addr is the remote IP address, IPv4 addresses unmapped; the zero Addr when the
	// connection has none.
	Addr netip.Addr
	// Cert is the client certificate, set only when TLS verified it against the
	// listener's client CAs (mllp.ConnInfo.PeerCertificate); nil otherwise.
	Cert *x509.Certificate
}

// peerOf is the Peer of an MLLP connection.
func peerOf(info mllp.ConnInfo) Peer {
	p := Peer{Cert: info.PeerCertificate}
	switch a := info.RemoteAddr.(type) {
	case *net.TCPAddr:
		p.Addr = a.AddrPort().Addr().Unmap()
	case nil:
	default:
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			p.Addr = ap.Addr().Unmap()
		}
	}
	return p
}

// String describes the peer for an acknowledgment's text and the logs: its address and
// certificate subject, which identify a connection and carry no patient data.
func (p Peer) String() string {
	addr := "an unknown address"
	if p.Addr.IsValid() {
		addr = p.Addr.String()
	}
	if p.Cert == nil {
		return "from " + addr + ", without a client certificate"
	}
	return "from " + addr + ", certificate " + p.Cert.Subject.String()
}

// SenderRule lets a connection that meets every condition the rule sets send messages
// as Facility. At least one of CIDRs and CertSubject must be set.
type SenderRule struct {
	// Facility is the sending facility (MSH-4.1, the HD namespace ID) the rule admits,
	// compared exactly, case included. Required.
	Facility string
	// CIDRs, when not empty, requires the connection's remote address to lie in one
	// of these prefixes (IPv4-mapped IPv6 addresses count as IPv4). Default: any
	// address.
	CIDRs []netip.Prefix
	// CertSubject, when set, requires a verified client certificate whose subject
	// matches: a value holding "=" is a distinguished name and must equal the subject
	// in RFC 2253 form as crypto/x509 writes it, most specific attribute first
	// ("CN=ris.hosp-a.example,O=Hospital A,C=US", as `openssl x509 -noout -subject
	// -nameopt RFC2253` prints it for the common attributes); a value without "=" must
	// equal the subject's common name. Subject alternative names are not consulted.
	// Default: no certificate needed.
	CertSubject string
}

// admits reports whether the rule's conditions hold for p.
func (r SenderRule) admits(p Peer) bool {
	if len(r.CIDRs) > 0 {
		in := false
		for _, c := range r.CIDRs {
			in = in || (p.Addr.IsValid() && c.Contains(p.Addr))
		}
		if !in {
			return false
		}
	}
	if r.CertSubject != "" {
		if p.Cert == nil {
			return false
		}
		if strings.Contains(r.CertSubject, "=") {
			return p.Cert.Subject.String() == r.CertSubject
		}
		return p.Cert.Subject.CommonName == r.CertSubject
	}
	return true
}

// Senders says which connections may send as which sending facility (the mllp.senders
// configuration). An empty list lets every connection send as any facility. Once it
// has a rule, a message is processed only when its MSH-4.1 is not empty and some rule
// for that facility admits the connection (every condition of that one rule holds);
// rules are alternatives, so a facility reached both from a network and with a
// certificate has two. A facility no rule names is refused. The engine answers a
// refused message AR (CR in enhanced mode) with an ERR at MSH-4 and keeps it for audit.
//
// Messages handed to the engine without a connection (Engine.HandleV2, Engine.Handle,
// Engine.Reprocess) are not judged: those callers are radbridge itself or an operator.
type Senders []SenderRule

// Validate names the first rule that cannot work.
func (s Senders) Validate() error {
	for i, r := range s {
		switch {
		case r.Facility == "":
			return fmt.Errorf("engine: Senders[%d].Facility is required", i)
		case len(r.CIDRs) == 0 && r.CertSubject == "":
			return fmt.Errorf("engine: Senders[%d] (%s) admits every connection: set CIDRs or CertSubject", i, r.Facility)
		}
		for j, c := range r.CIDRs {
			if !c.IsValid() || c.Addr().Is4In6() {
				return fmt.Errorf("engine: Senders[%d] (%s).CIDRs[%d] %v is not an IP prefix (write IPv4 prefixes as IPv4)", i, r.Facility, j, c)
			}
		}
	}
	return nil
}

// ErrSenderNotAllowed is wrapped by Senders.Allow's error: the connection may not send
// as the message's sending facility.
var ErrSenderNotAllowed = errors.New("sender not allowed on this connection")

// Allow returns nil when a connection p may send as facility (an MSH-4.1 value), and
// otherwise an error wrapping ErrSenderNotAllowed. It is safe for concurrent use.
func (s Senders) Allow(facility string, p Peer) error {
	if len(s) == 0 {
		return nil
	}
	if facility != "" {
		for _, r := range s {
			if r.Facility == facility && r.admits(p) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: sending facility %q, connection %s", ErrSenderNotAllowed, facility, p)
}

// checkSender applies Config.Senders to a message that arrived from p. A refusal is an
// error at MSH-4: 101 when MSH-4 is empty, otherwise 103 (table value not found): MSH-4
// is an HD whose namespace ID comes from the user-defined table 0362 (Facility), and
// the rules are that table as it stands for this connection. 207 (internal error) would
// tell the sender the fault is radbridge's and passing; it is the sender's.
func (e *Engine) checkSender(ctx context.Context, h hl7.Header, p Peer) (hl7.Issue, bool) {
	facility := firstComponent(h.SendingFacility, h.Delims)
	err := e.cfg.Senders.Allow(facility, p)
	if err == nil {
		return hl7.Issue{}, true
	}
	e.log.LogAttrs(ctx, slog.LevelWarn, "message refused: sender not allowed on this connection",
		slog.String("sender", facility), slog.String("msg_control_id", h.ControlID), slog.String("remote_addr", p.Addr.String()),
		slog.String("peer_subject", peerSubject(p)))
	is := hl7.Issue{Location: hl7.Location{Segment: "MSH", Field: 4}, Code: hl7.CodeTableValue, Severity: hl7.SeverityError,
		Text: "sending facility " + facility + " may not send on this connection (" + p.String() + "): no mllp.senders rule for it admits this connection; the message was not processed"}
	if facility == "" {
		is.Code = hl7.CodeRequiredField
		is.Text = "MSH-4 (sending facility) is required here: this listener admits messages by facility (mllp.senders); the message was not processed"
	}
	return is, false
}

func peerSubject(p Peer) string {
	if p.Cert == nil {
		return ""
	}
	return p.Cert.Subject.String()
}
