package payer

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/radbridge/radbridge/delivery"
	"github.com/radbridge/radbridge/engine"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
	"github.com/radbridge/radbridge/store"
)

// Outbox item kinds of PAS requests (store.OutboxItem.Kind).
const (
	KindSubmit  = "pas"         // Claim/$submit: a request, an update or a cancellation
	KindInquire = "pas-inquire" // Claim/$inquire
)

// DestinationPrefix starts the delivery destination name of each payer's PAS
// endpoint: "pas:" and the payer profile's ID.
const DestinationPrefix = "pas:"

// maxAnswer bounds a payer's answer (a PAS response Bundle is a few KB).
const maxAnswer = 4 << 20

// Config configures a Service. The zero Config follows no payer: cases are then
// decided through the API (Decide, Appeal) only.
type Config struct {
	// Profiles are the payer profiles (rules.Config.Payers, prior_auth.payers): each
	// with PAS gets the requests of its members' orders; Decision and AppealWindow set
	// its clocks. Default: none.
	Profiles []rules.PayerProfile
	// SweepInterval is how often Run looks for pended requests to inquire about,
	// decisions gone overdue and approvals run out. Default: 1 minute; negative is
	// invalid.
	SweepInterval time.Duration
}

// Validate reports the first field that cannot work, by name.
func (c Config) Validate() error {
	if c.SweepInterval < 0 {
		return fmt.Errorf("payer: SweepInterval %v is negative", c.SweepInterval)
	}
	return rules.Config{Payers: c.Profiles}.Validate()
}

// Deps are a Service's replaceable parts; the zero value means the real ones.
type Deps struct {
	// Now reads the clock the decision clocks run on. Nil means time.Now.
	Now func() time.Time
	// ReadFile reads the PAS token files. Nil means os.ReadFile.
	ReadFile func(name string) ([]byte, error)
	// HTTP sends the PAS requests; it must not follow redirects. Nil means a client of
	// its own, with no timeout (the delivery worker's attempt timeout bounds each).
	HTTP *http.Client
	// Log receives the service's logs; nil discards.
	Log *slog.Logger
}

// ProfileFinder names the payer profile an order's coverage selects (rules.Checker).
type ProfileFinder interface {
	ProfileFor(cov []order.Coverage) string
}

// Notifier wakes the delivery worker of a destination (delivery.Worker.Notify).
type Notifier interface {
	Notify(destination string)
}

// Service follows orders' prior-authorization cases with their payers: it is the
// engine's Authorizer, the PAS senders of the delivery worker, the notification
// endpoint, and the appeal, decision and report operations of the API. It is safe for
// concurrent use.
type Service struct {
	st       store.Store
	finder   ProfileFinder
	profiles map[string]*profile // by ID
	ids      []string            // configured IDs, in order, for the metric labels
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger
	client   *http.Client
	notifier Notifier
}

// profile is a configured payer profile with its token read.
type profile struct {
	rules.PayerProfile
	token string
}

// pas reports whether the profile has a PAS endpoint.
func (p *profile) pas() bool { return p != nil && p.PAS != nil }

func (p *profile) system() string {
	if p.PAS != nil && p.PAS.IdentifierSystem != "" {
		return p.PAS.IdentifierSystem
	}
	return rules.DefaultClaimSystem
}

func (p *profile) inquireAfter() time.Duration {
	if p.PAS == nil || p.PAS.InquireAfter == 0 {
		return rules.DefaultInquireAfter
	}
	return p.PAS.InquireAfter
}

func (p *profile) displayName() string { return firstNonEmpty(p.Name, p.ID) }

var (
	_ engine.Authorizer  = (*Service)(nil)
	_ delivery.Exchanger = (*pasSender)(nil)
)

// New returns a Service that keeps its cases in st and finds each order's payer
// profile with finder. It reads every PAS token file now.
func New(cfg Config, st store.Store, finder ProfileFinder, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if st == nil || finder == nil {
		return nil, errors.New("payer: New needs a store and a profile finder")
	}
	s := &Service{st: st, finder: finder, profiles: map[string]*profile{}, interval: cfg.SweepInterval,
		now: deps.Now, log: deps.Log, client: deps.HTTP}
	if s.interval == 0 {
		s.interval = time.Minute
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.client == nil {
		s.client = &http.Client{
			Transport:     http.DefaultTransport.(*http.Transport).Clone(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	read := deps.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	for i, p := range cfg.Profiles {
		pr := &profile{PayerProfile: p}
		pr.ID = strings.TrimSpace(p.ID)
		if p.PAS != nil && p.PAS.TokenFile != "" {
			b, err := read(p.PAS.TokenFile)
			if err != nil {
				return nil, fmt.Errorf("payer: payers[%d].pas.token_file: %w", i, err)
			}
			pr.token = strings.TrimSpace(string(b))
		}
		s.profiles[pr.ID] = pr
		s.ids = append(s.ids, pr.ID)
	}
	return s, nil
}

// SetNotifier connects the delivery worker, woken when the sweep or an appeal queues a
// request; until then those requests wait for the worker's next scan.
func (s *Service) SetNotifier(n Notifier) { s.notifier = n }

func (s *Service) notify(dests []string) {
	if s.notifier == nil {
		return
	}
	for _, d := range dests {
		s.notifier.Notify(d)
	}
}

// Destinations are the delivery destinations of the payers' PAS endpoints, one per
// profile with PAS, named DestinationPrefix + ID; Senders are their senders. Add both
// to the delivery worker (delivery.Config.Destinations, delivery.Deps.Senders).
func (s *Service) Destinations() []delivery.Destination {
	var out []delivery.Destination
	for _, id := range s.ids {
		if p := s.profiles[id]; p.pas() {
			out = append(out, delivery.Destination{Name: DestinationPrefix + id, FHIR: p.PAS.URL})
		}
	}
	return out
}

// Senders returns the sender of each PAS destination, by destination name.
func (s *Service) Senders() map[string]delivery.Sender {
	out := map[string]delivery.Sender{}
	for _, id := range s.ids {
		if p := s.profiles[id]; p.pas() {
			out[DestinationPrefix+id] = &pasSender{svc: s, p: p}
		}
	}
	return out
}

// Follow implements engine.Authorizer. For an order that waits for an authorization it
// has not asked for (Status pending-authorization, case pending) and whose payer has
// PAS, it starts a new attempt: the next attempt number, a Claim identifier of its own
// (the order ID and the attempt), the previous attempt's identifier as OriginalClaim,
// and the PAS request Bundle queued for the payer with the Claim stored beside it. An
// order update (XO) that leaves the order waiting thus resends, as an update of the
// previous request. For an order cancelled while its case was open it records the case
// cancelled and, when a request was made, queues its cancellation.
func (s *Service) Follow(o *order.Order, was order.Status, had order.Authorization, at time.Time) engine.Writes {
	a := &o.Authorization
	id := s.finder.ProfileFor(o.Coverage)
	if a.Required && !a.Exempt {
		a.Payer = id
	}
	if o.Status == order.StatusCancelled && was != order.StatusCancelled {
		return s.cancel(o, had, at)
	}
	if o.Status != order.StatusPendingAuth || a.Status != order.AuthPending {
		return engine.Writes{}
	}
	p := s.profiles[id]
	if !p.pas() {
		return engine.Writes{}
	}
	a.Payer = id
	return s.submit(o, p, had.Claim, at)
}

// submit starts a new attempt of o's request to p, updating prior when it is set.
func (s *Service) submit(o *order.Order, p *profile, prior string, at time.Time) engine.Writes {
	a := &o.Authorization
	a.Attempt++
	a.Claim = claimID(o.ID, a.Attempt)
	a.OriginalClaim = prior
	a.Expedited = o.Priority.Expedited()
	a.Submitted, a.ReviewAction, a.Response, a.NextInquiry = time.Time{}, "", "", time.Time{}
	a.ValidFrom, a.ValidTo, a.DecisionReason = time.Time{}, time.Time{}, ""
	return s.request(o, p, submitRequest, a.Claim, prior, at)
}

// cancel records the case of a cancelled order cancelled and, when a request was made
// to a payer with PAS, queues a Claim update cancelling it.
func (s *Service) cancel(o *order.Order, had order.Authorization, at time.Time) engine.Writes {
	switch had.Status {
	case order.AuthPending, order.AuthSubmitted, order.AuthPended, order.AuthAppealed, order.AuthExpired,
		order.AuthApproved, order.AuthPartiallyApproved, order.AuthOverturned:
	default:
		return engine.Writes{}
	}
	o.Authorization.Status = order.AuthCancelled
	p := s.profiles[had.Payer]
	if had.Claim == "" || !p.pas() {
		return engine.Writes{}
	}
	return s.request(o, p, cancelRequest, had.Claim+cancelSuffix, had.Claim, at)
}

// cancelSuffix ends the identifier of the request that cancels a request.
const cancelSuffix = "-cancel"

// claimID is the identifier of an order's attempt-th request: the order ID and the
// attempt, "ord-7-2".
func claimID(orderID string, attempt int) string { return orderID + "-" + strconv.Itoa(attempt) }

// request builds one PAS request for o and the records that carry it.
func (s *Service) request(o *order.Order, p *profile, kind requestKind, claim, prior string, at time.Time) engine.Writes {
	bundle, cl, err := buildRequest(claimRequest{kind: kind, o: o, claim: claim, system: p.system(), prior: prior, at: at,
		payer: p.ID, name: p.displayName()})
	if err != nil {
		// The order model always encodes; a failure here is a bug, not the payer's.
		s.log.Error("pas request not built", slog.String("order_id", o.ID), slog.String("err", err.Error()))
		return engine.Writes{}
	}
	itemKind := KindSubmit
	if kind == inquiryRequest {
		itemKind = KindInquire
	}
	// The key is the request's identifier: every attempt to deliver it is the same
	// request at the payer. An inquiry's key is set by its caller, once it has an ID.
	w := engine.Writes{Outbox: []*store.OutboxItem{{Destination: DestinationPrefix + p.ID, Kind: itemKind, OrderID: o.ID,
		Payload: bundle, Key: claim, State: store.OutboxPending, Created: at, NextAttempt: at}}}
	if kind != inquiryRequest {
		w.Resources = []*store.Resource{{Type: "Claim", ID: claim, LastUpdated: at, JSON: cl, OrderID: o.ID,
			Index: map[string][]string{"identifier": {claim}}}}
	}
	return w
}
