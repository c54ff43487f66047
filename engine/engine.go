// Package engine is radbridge's inbound pipeline: it parses each message, maps it to the
// order model, runs the checks, commits the message and everything derived from it in one
// durable transaction, and only then decides the acknowledgment, following the ACK rules
// of DESIGN.md (HL7 v2.5.1 chapter 2, sections 2.9 and 2.14 for the MSA and ERR segments).
//
// The engine owns the ACK decision. The transports (MLLP, HTTP) only carry bytes.
//
// An HL7 batch received as one unit (an MLLP frame that starts with FHS or BHS, HL7
// v2.5.1 section 2.10.3) is taken message by message, each exactly as if it had come
// alone, and answered with a response batch of their ACKs (HandleBatch).
//
// # Caveats
//
// Enhanced-mode application acknowledgments (MSH-16) are not sent as separate messages:
// the engine answers in the accept acknowledgment (CA/CE/CR) on the same connection,
// honouring MSH-15 (AL, NE, ER, SU).
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// Checker runs the completeness and prior-authorization checks on an order: it sets
// o.Findings and o.Authorization and never changes o.Status.
type Checker interface {
	Check(o *order.Order, now time.Time)
}

// verifier is a Checker that first asks other services about an order (rules.Checker
// asks the payer's eligibility service) and records their answers in it for Check to
// read. The engine calls it before Check, outside any transaction: it does I/O.
type verifier interface {
	Verify(ctx context.Context, o *order.Order, now time.Time)
}

// Config configures an Engine. The zero Config is usable.
type Config struct {
	// ProcessingIDs lists the MSH-11 processing IDs accepted; any other is rejected with
	// AR and ERR 202, and nothing is processed. Default: P (production) only, so that
	// training (T) and debugging (D) messages never reach the orders of a production
	// store; list them to accept them, e.g. P and T on a test system.
	ProcessingIDs []string
	// Location is the time zone of HL7 timestamps that carry no offset. Default: UTC.
	Location *time.Location
	// Routes send the results of matching orders to delivery destinations. Default:
	// none; results are then kept and readable but delivered nowhere.
	Routes []Route
	// Senders restricts which MLLP connections may send as which sending facility
	// (see Senders). Default: none, every connection may send as any facility.
	Senders Senders
	// Subscriptions says which endpoints and headers R4 Subscriptions may use (see
	// SubscriptionPolicy). Default: none; every Subscription is refused.
	Subscriptions SubscriptionPolicy
	// MaxOrdersPerMessage is the most orders one message may carry: ORC or OBR
	// segments of an HL7 v2 order message (and OBR segments of a result message),
	// ServiceRequest entries of a FHIR transaction. A message with more is rejected
	// whole (AR with ERR 100 at the first segment past it; 400 for a transaction).
	// Zero means DefaultMaxOrdersPerMessage (100).
	MaxOrdersPerMessage int
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	for _, p := range c.ProcessingIDs {
		if p != "P" && p != "T" && p != "D" {
			return fmt.Errorf("engine: processing ID %q is not P, T or D", p)
		}
	}
	if err := c.Senders.Validate(); err != nil {
		return err
	}
	if err := c.Subscriptions.Validate(); err != nil {
		return err
	}
	if c.MaxOrdersPerMessage < 0 {
		return fmt.Errorf("engine: MaxOrdersPerMessage %d is negative", c.MaxOrdersPerMessage)
	}
	for i, r := range c.Routes {
		switch {
		case r.Destination == "":
			return fmt.Errorf("engine: Routes[%d].Destination is required", i)
		case r.Kind != "hl7v2" && r.Kind != "fhir":
			return fmt.Errorf("engine: Routes[%d].Kind %q is not hl7v2 or fhir", i, r.Kind)
		case r.SendingFacility == "" && r.FHIRSource == "":
			return fmt.Errorf("engine: Routes[%d] matches nothing: set SendingFacility or FHIRSource", i)
		}
	}
	return nil
}

// Engine is the inbound pipeline. It is safe for concurrent use.
type Engine struct {
	cfg     Config
	store   store.Store
	check   Checker
	log     *slog.Logger
	now     func() time.Time
	metrics *Metrics
	ackSeq  atomic.Uint64
	// deliverer is the results delivery worker, set once at start-up (SetDeliverer).
	deliverer Deliverer
	// quarantine lists the stored records found unreadable.
	quarantine quarantine
	// authorizer follows authorization cases with payers, set once at start-up
	// (SetAuthorizer).
	authorizer Authorizer
}

// New returns an Engine that stores into st and checks orders with check (nil: no
// checks). A nil logger discards.
func New(cfg Config, st store.Store, check Checker, log *slog.Logger, m *Metrics) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.ProcessingIDs) == 0 {
		cfg.ProcessingIDs = []string{"P"}
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.MaxOrdersPerMessage == 0 {
		cfg.MaxOrdersPerMessage = DefaultMaxOrdersPerMessage
	}
	if check == nil {
		check = noChecks{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{cfg: cfg, store: st, check: check, log: log, now: time.Now, metrics: m}, nil
}

// Now is the engine's clock: the time it stamps on what it receives.
func (e *Engine) Now() time.Time { return e.now() }

// Check runs the engine's completeness and prior-authorization checks on o as of at: it
// sets o.Findings and o.Authorization and never changes o.Status.
func (e *Engine) Check(o *order.Order, at time.Time) { e.check.Check(o, at) }

// Verify lets the checker ask other services about o before Check (a payer's
// eligibility service); it does nothing for a checker that asks none. It blocks on
// I/O, bounded by ctx: call it outside transactions.
func (e *Engine) Verify(ctx context.Context, o *order.Order, at time.Time) {
	if v, ok := e.check.(verifier); ok {
		v.Verify(ctx, o, at)
	}
}

// Observe counts one inbound message or request of type typ answered with code (an ACK
// code or an HTTP status), received at start, in the engine's metrics.
func (e *Engine) Observe(typ, code string, start time.Time) {
	e.metrics.observe(typ, code, e.now().Sub(start))
}

// MaxOrdersPerMessage is the most orders one message or transaction may carry
// (Config.MaxOrdersPerMessage).
func (e *Engine) MaxOrdersPerMessage() int { return e.cfg.MaxOrdersPerMessage }

// SetClock replaces the engine's clock; for tests.
func (e *Engine) SetClock(now func() time.Time) { e.now = now }

type noChecks struct{}

func (noChecks) Check(*order.Order, time.Time) {}

// HandleV2 processes one HL7 v2 message and returns the acknowledgment to send back, or
// nil when the sender asked for none (enhanced mode, MSH-15). The acknowledgment is
// decided only after the message and everything derived from it are durably stored. The
// error is for logging: when it is not nil the returned acknowledgment is a rejection
// (AR/CR with ERR 207) and nothing was stored.
func (e *Engine) HandleV2(ctx context.Context, raw []byte) ([]byte, error) {
	res, err := e.handleV2(ctx, raw, "", nil)
	return res.deliver, err
}

// Result is what handling one message produced.
type Result struct {
	MessageID string   `json:"message_id"`
	AckCode   string   `json:"ack_code"`
	Ack       string   `json:"ack"`
	OrderIDs  []string `json:"order_ids"`
	// Findings are the check findings of the orders the message made or changed, each
	// also an ERR of Ack. A resend answered from the store has none.
	Findings []Finding `json:"findings,omitempty"`
	deliver  []byte    // the acknowledgment to send, nil when the sender wants none
}

// Finding is a check finding of an order as an acknowledgment reports it.
type Finding struct {
	OrderID string        `json:"order_id"`
	Finding order.Finding `json:"finding"`
	// At is where the finding points in the message, e.g. OBR(2)-4 for the second
	// order of a message.
	At hl7.Location `json:"-"`
}

// Handle processes one HL7 v2 message as HandleV2 does and returns all it decided: the
// acknowledgment, its code, the stored message and orders, the findings. The error is
// for logging, as with HandleV2; an MLLP connection is then closed without an answer.
func (e *Engine) Handle(ctx context.Context, raw []byte) (Result, error) {
	return e.handleV2(ctx, raw, "", nil)
}

// handleV2 runs the pipeline. reprocessOf names the stored message being processed again
// (POST /api/messages/{id}/reprocess): it is not answered from the resend index. peer is
// the connection the message arrived on, judged by Config.Senders; nil when there is
// none.
func (e *Engine) handleV2(ctx context.Context, raw []byte, reprocessOf string, peer *Peer) (Result, error) {
	start := e.now()
	m, err := hl7.Parse(raw)
	if err != nil {
		var pe *hl7.ParseError
		if !errors.As(err, &pe) {
			pe = &hl7.ParseError{Err: err}
		}
		h, _ := hl7.SalvageHeader(raw)
		is := pe.Issue()
		if errors.Is(err, hl7.ErrSecondMessage) {
			is.Text += ": send each message in a frame of its own, or several as a batch (BHS ... BTS)"
		}
		return e.reject(ctx, raw, len(raw), h, start, is)
	}
	h := m.Header()
	if is, ok := e.checkHeader(h); !ok {
		return e.reject(ctx, raw, len(raw), h, start, is)
	}
	if peer != nil {
		if is, ok := e.checkSender(ctx, h, *peer); !ok {
			return e.reject(ctx, raw, len(raw), h, start, is)
		}
	}
	what := ""
	switch h.Type + "^" + h.Event {
	case "ORM^O01", "OMI^O23", "OML^O21":
		what = "orders"
	case "ORU^R01":
		what = "results"
	}
	if what != "" {
		if issues := e.checkLimits(m, what); len(issues) > 0 {
			return e.reject(ctx, raw, len(raw), h, start, issues...)
		}
		msgID, err := e.store.ReserveID(ctx, store.KindMessage)
		in := &inbound{raw: raw, msg: m, header: h, sender: senderOf(h), digest: digest(m), at: start, reprocessOf: reprocessOf,
			msgID: msgID}
		if err != nil {
			// The message cannot be stored: finish still answers a resend of an accepted
			// one from the store, and anything else with the AR it gives when storing fails.
			return e.finish(ctx, in, func(store.Tx, *inbound, string) (outcome, error) { return outcome{}, err })
		}
		if what == "orders" {
			return e.finish(ctx, in, e.ordersProcessor(ctx, in))
		}
		return e.finish(ctx, in, e.resultsProcessor(in))
	}
	code, text := hl7.CodeUnsupportedType, "message type "+h.Type+" is not supported: radbridge accepts orders (ORM O01, OMI O23, OML O21) and results (ORU R01)"
	if h.Type == "ORM" || h.Type == "OMI" || h.Type == "OML" || h.Type == "ORU" {
		code, text = hl7.CodeUnsupportedEvent, "event "+h.Event+" is not supported for "+h.Type
	}
	return e.reject(ctx, raw, len(raw), h, start, hl7.Issue{Location: hl7.Location{Segment: "MSH", Field: 9}, Code: code, Severity: hl7.SeverityError, Text: text})
}

// Reprocess runs a stored message through the pipeline again, as a new message that a
// later resend does not match, and returns what it produced.
func (e *Engine) Reprocess(ctx context.Context, id string) (Result, error) {
	var raw []byte
	if err := e.store.View(ctx, func(tx store.ReadTx) error {
		var err error
		raw, err = tx.Raw(id)
		return err
	}); err != nil {
		return Result{}, err
	}
	return e.handleV2(ctx, raw, id, nil)
}

// checkHeader applies the rules that make a message unprocessable whatever its type.
func (e *Engine) checkHeader(h hl7.Header) (hl7.Issue, bool) {
	bad := func(field, code int, text string) (hl7.Issue, bool) {
		return hl7.Issue{Location: hl7.Location{Segment: "MSH", Field: field}, Code: code, Severity: hl7.SeverityError, Text: text}, false
	}
	switch {
	case h.Type == "":
		return bad(9, hl7.CodeRequiredField, "MSH-9 (message type) is required")
	case h.ControlID == "":
		return bad(10, hl7.CodeRequiredField, "MSH-10 (message control ID) is required")
	case textTooLong(h.ControlID, hl7.MaxControlIDLength):
		return bad(10, hl7.CodeValueTooLong, "MSH-10 is longer than "+strconv.Itoa(hl7.MaxControlIDLength)+" characters")
	case textTooLong(h.SendingApp, MaxSenderLength):
		return bad(3, hl7.CodeValueTooLong, "MSH-3 is longer than "+strconv.Itoa(MaxSenderLength)+" characters")
	case textTooLong(h.SendingFacility, MaxSenderLength):
		return bad(4, hl7.CodeValueTooLong, "MSH-4 is longer than "+strconv.Itoa(MaxSenderLength)+" characters")
	case h.Version == "":
		return bad(12, hl7.CodeRequiredField, "MSH-12 (version ID) is required")
	case !hl7.KnownVersion(h.Version):
		return bad(12, hl7.CodeUnsupportedVersion, "version "+h.Version+" is not supported: radbridge accepts HL7 v2.1 to v2.8.2")
	}
	pid := h.ProcessingID
	if len(pid) > 1 {
		pid = pid[:1] // MSH-11.1; the processing mode component does not matter here
	}
	if !slices.Contains(e.cfg.ProcessingIDs, pid) {
		return bad(11, hl7.CodeUnsupportedProcID, "processing ID "+strconv.Quote(h.ProcessingID)+" is not accepted here: this engine takes "+
			strings.Join(e.cfg.ProcessingIDs, ", ")+" (MSH-11); its operator accepts more in the configuration, e.g. processing_ids: [P, T] for training messages")
	}
	return hl7.Issue{}, true
}

// senderOf names the sender for deduplication: the sending facility (MSH-4.1), or the
// sending application (MSH-3.1) when MSH-4 is empty.
func senderOf(h hl7.Header) string {
	if s := firstComponent(h.SendingFacility, h.Delims); s != "" {
		return s
	}
	return firstComponent(h.SendingApp, h.Delims)
}

func firstComponent(encoded string, d hl7.Delimiters) string {
	for i := 0; i < len(encoded); i++ {
		if c := encoded[i]; c == d.Component || c == d.Repetition || c == d.Subcomponent {
			return hl7.Unescape(encoded[:i], d)
		}
	}
	return hl7.Unescape(encoded, d)
}
