package fhirserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/radbridge/radbridge/fhir"
	"github.com/radbridge/radbridge/internal/jsontext"
	"github.com/radbridge/radbridge/mapping/fhirmap"
	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// notInTransaction are the types a transaction cannot write: those the engine derives
// from orders or takes through their own interactions.
var notInTransaction = map[string]bool{"Bundle": true, "DiagnosticReport": true, "Subscription": true, "OperationOutcome": true}

// entryKind is what a transaction entry does.
type entryKind int

const (
	createOrder entryKind = iota // POST ServiceRequest: a new order
	putOrder                     // PUT ServiceRequest/{id}: a change to order {id}, or a new one
	keepAsSent                   // any other type: kept as the client sent it
)

// plannedEntry is what a transaction does with one entry, decided before anything is
// stored.
type plannedEntry struct {
	typ, id string // the resource the entry writes: the URL's id for a PUT, a new one for a POST
	kind    entryKind
	// match is the resource an ifNoneExist matched: the entry's result, with nothing
	// written; "" when the entry has no condition or it matched nothing.
	match string
}

// target is the Type/id the entry's fullUrl and references resolve to.
func (p plannedEntry) target() string {
	if p.match != "" {
		return p.typ + "/" + p.match
	}
	return p.typ + "/" + p.id
}

// errConditionsChanged means a conditional entry matches otherwise inside the write
// transaction than it did when the transaction was planned: a concurrent write created
// (or changed) what it looks for.
var errConditionsChanged = errors.New("transaction conditions changed while it was applied")

// maxTransactionAttempts bounds how often a transaction whose conditions changed under
// it is planned again.
const maxTransactionAttempts = 3

// Transaction implements fhir.Backend: every entry in one store transaction, all or
// nothing. What each entry does is decided before anything is stored:
//   - POST ServiceRequest creates an order, with an order id from the engine; an
//     ifNoneExist (by identifier) that matches makes the match the entry's result, and
//     nothing is created.
//   - PUT ServiceRequest/{id} changes the order whose ServiceRequest is {id}, as an
//     update does alone (only the client that created it; ifMatch honoured); when there
//     is none and {id} is a UUID, it creates the order, its ServiceRequest keeping the
//     client's id; any other unknown id refuses the transaction (400).
//   - any other type is kept as sent: a POST gets a new id (ifNoneExist by identifier
//     honoured), a PUT keeps the id of its URL and stores a new version when the
//     resource exists (ifMatch honoured). A Task's id must not end in -task, the ids of
//     the engine's Tasks.
//
// Conditions are matched in a read before the write and again inside it; when a
// concurrent write changed a match, the transaction is planned again. Every fullUrl is
// replaced in the references of every entry by the id its entry writes (or matched), in
// the JSON text, and the ServiceRequests are mapped with the other entries as their
// context. Each result carries its entry's findings and mapping issues at
// Bundle.entry[i].resource.
func (b *Server) Transaction(ctx context.Context, entries []fhir.Entry) ([]fhir.Result, error) {
	plan, err := b.planEntries(ctx, entries)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		if err := b.matchConditions(ctx, entries, plan); err != nil {
			return nil, err
		}
		prep, err := b.prepareTransaction(ctx, entries, plan)
		if err != nil {
			return nil, err
		}
		results, err := b.commitTransaction(ctx, entries, plan, prep)
		switch {
		case errors.Is(err, errConditionsChanged) && attempt < maxTransactionAttempts:
			continue
		case errors.Is(err, errConditionsChanged):
			return nil, &fhir.Error{Status: http.StatusConflict, Issues: []fhir.Issue{{Severity: "error", Code: "transient",
				Diagnostics: "the resources this transaction's conditions look for kept changing while it was applied; nothing was stored: send it again"}}}
		case err != nil:
			return nil, err
		}
		return results, nil
	}
}

// planEntries decides each entry's kind and the id it writes.
func (b *Server) planEntries(ctx context.Context, entries []fhir.Entry) ([]plannedEntry, error) {
	plan := make([]plannedEntry, len(entries))
	orders := 0
	for i, en := range entries {
		typ, urlID, _ := strings.Cut(strings.Trim(en.URL, "/"), "/")
		p := plannedEntry{typ: typ, id: urlID}
		put := en.Method == http.MethodPut
		switch {
		case en.Method != http.MethodPost && !put:
			return nil, entryError(i, "request.method", "entry.request.method "+en.Method+" is not supported in a transaction: use POST or PUT")
		case put && !validID(urlID):
			return nil, entryError(i, "request.url", "entry.request.url "+strconv.Quote(en.URL)+" must be Type/id for a PUT")
		case !put && urlID != "":
			return nil, entryError(i, "request.url", "entry.request.url "+strconv.Quote(en.URL)+" must be a type for a POST")
		case typ == typeServiceRequest && put:
			if orders++; orders > b.eng.MaxOrdersPerMessage() {
				return nil, tooManyOrders(b.eng.MaxOrdersPerMessage())
			}
			p.kind = putOrder
		case typ == typeServiceRequest:
			if orders++; orders > b.eng.MaxOrdersPerMessage() {
				return nil, tooManyOrders(b.eng.MaxOrdersPerMessage())
			}
			id, err := b.store.ReserveID(ctx, store.KindOrder)
			if err != nil {
				return nil, err
			}
			p.kind, p.id = createOrder, id
		case notInTransaction[typ] || !validID(typ):
			return nil, entryError(i, "request.url", typ+" cannot be written in a transaction here")
		case typ == typeTask && strings.HasSuffix(urlID, taskSuffix):
			return nil, entryError(i, "request.url", "Task ids ending in "+taskSuffix+" are those of the engine's fulfillment Tasks (ServiceRequest/[id] has Task/[id]"+
				taskSuffix+"): give the Task another id, or POST it")
		case put:
			p.kind = keepAsSent
		default:
			p.kind, p.id = keepAsSent, newResourceID()
		}
		plan[i] = p
	}
	return plan, nil
}

// matchConditions sets the match of every conditional entry, from a read of the
// store; commitTransaction checks them again inside the write.
func (b *Server) matchConditions(ctx context.Context, entries []fhir.Entry, plan []plannedEntry) error {
	conditional := false
	for _, en := range entries {
		conditional = conditional || en.IfNoneExist != nil
	}
	if !conditional {
		return nil
	}
	return b.store.View(ctx, func(tx store.ReadTx) error {
		for i, en := range entries {
			if en.IfNoneExist == nil {
				continue
			}
			m, err := b.conditionMatch(tx, i, plan[i].typ, en.IfNoneExist)
			if err != nil {
				return err
			}
			plan[i].match = m
		}
		return nil
	})
}

// conditionMatch returns the id of the one resource of typ that cond matches, "" when
// none does, and a 412 when several do. Only indexes are read (identifier: the placer
// number and identifier indexes of orders, the identifier index of kept resources), as
// this also runs inside the serialized write.
func (b *Server) conditionMatch(tx store.ReadTx, i int, typ string, cond url.Values) (string, error) {
	var ids []string
	n := 0
	if typ == typeServiceRequest {
		var err error
		if ids, n, _, err = b.search(tx, typ, fhir.Query{Params: cond, Count: 2}); err != nil {
			return "", err
		}
	} else {
		var err error
		if ids, err = keptMatches(tx, typ, cond); err != nil {
			return "", err
		}
		n = len(ids)
	}
	switch n {
	case 0:
		return "", nil
	case 1:
		return ids[0], nil
	}
	return "", &fhir.Error{Status: http.StatusPreconditionFailed, Issues: []fhir.Issue{{Severity: "error", Code: "duplicate",
		Expression:  entryPath(i) + ".request.ifNoneExist",
		Diagnostics: "ifNoneExist matches " + strconv.Itoa(n) + " " + typ + " resources: the condition must identify one"}}}
}

// keptMatches returns the ids of the kept resources of typ whose identifiers match
// every identifier parameter of cond ([system|]value, a comma between alternatives).
// Candidates come from the identifier index; their systems are read from the JSON.
func keptMatches(tx store.ReadTx, typ string, cond url.Values) ([]string, error) {
	params := cond["identifier"]
	if len(params) == 0 || len(cond) != 1 {
		return nil, &fhir.Error{Status: http.StatusBadRequest, Issues: []fhir.Issue{{Severity: "error", Code: "not-supported",
			Diagnostics: "ifNoneExist for " + typ + " takes identifier only"}}}
	}
	seen := map[string]bool{}
	var out []string
	for _, alt := range strings.Split(params[0], ",") {
		_, value := splitToken(alt)
		ids, err := tx.FindResources(typ, "identifier", value)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			r, err := tx.Resource(typ, id)
			if err != nil {
				return nil, notFound(err)
			}
			if identifiersMatch(r.JSON, params) {
				out = append(out, id)
			}
		}
	}
	return out, nil
}

// identifiersMatch reports whether a resource's identifiers match every parameter.
func identifiersMatch(resource []byte, params []string) bool {
	var r struct {
		Identifier []struct{ System, Value string } `json:"identifier"`
	}
	if json.Unmarshal(resource, &r) != nil {
		return false
	}
	for _, param := range params {
		matched := false
		for _, alt := range strings.Split(param, ",") {
			system, value := splitToken(alt)
			for _, id := range r.Identifier {
				matched = matched || id.Value == value && (system == nil || *system == id.System)
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

// preparedTransaction is a transaction made ready outside the write: references
// resolved, ServiceRequests mapped and checked, new orders prepared.
type preparedTransaction struct {
	at       time.Time
	msgID    string
	resolved [][]byte             // each entry's resource, references rewritten
	bundle   []byte               // the entries as one Bundle, as the mapping read them
	creates  map[int]*newRequest  // createOrder entries, and the putOrder entries whose id may create an order
	updates  map[int]*orderUpdate // putOrder entries
	issues   [][]fhir.Issue       // each entry's mapping issues, at Bundle.entry[i]
}

func (b *Server) prepareTransaction(ctx context.Context, entries []fhir.Entry, plan []plannedEntry) (*preparedTransaction, error) {
	at := b.eng.Now()
	msgID, err := b.store.ReserveID(ctx, store.KindMessage)
	if err != nil {
		return nil, err
	}
	pt := &preparedTransaction{at: at, msgID: msgID, resolved: make([][]byte, len(entries)),
		creates: map[int]*newRequest{}, updates: map[int]*orderUpdate{},
		issues: make([][]fhir.Issue, len(entries))}
	refs := map[string]string{}
	for i, en := range entries {
		if en.FullURL != "" {
			refs[en.FullURL] = plan[i].target()
		}
	}
	// The resources with their ids, meta and rewritten references, as one Bundle for
	// the mapping, which resolves a ServiceRequest's references within it.
	var bundle bytes.Buffer
	bundle.WriteString(`{"resourceType":"Bundle","type":"transaction","entry":[`)
	for i, en := range entries {
		data, err := jsontext.RewriteReferences(en.Resource, refs)
		var withMeta []byte
		if err == nil {
			withMeta, err = fhirmap.WithMeta(data, strings.TrimPrefix(plan[i].target(), plan[i].typ+"/"), 1, at)
		}
		if err != nil {
			return nil, entryError(i, "resource", "resource is not a JSON object")
		}
		pt.resolved[i] = data
		if i > 0 {
			bundle.WriteByte(',')
		}
		bundle.WriteString(`{"fullUrl":` + strconv.Quote(plan[i].target()) + `,"resource":`)
		bundle.Write(withMeta)
		bundle.WriteString(`,"request":{"method":"POST","url":` + strconv.Quote(plan[i].typ) + `}}`)
	}
	bundle.WriteString(`]}`)
	pt.bundle = bundle.Bytes()
	orders := 0
	for _, p := range plan {
		if p.kind != keepAsSent && p.match == "" {
			orders++
		}
	}
	if orders == 0 {
		return pt, nil
	}
	fos, mapIssues := fhirmap.FromFHIR(pt.bundle)
	b.assignIssues(pt, plan, fhirIssues(mapIssues))
	mapped := map[int]bool{}
	for _, fo := range fos {
		i, p := fo.Entry, plan[fo.Entry]
		if p.kind == keepAsSent || p.match != "" {
			continue
		}
		mapped[i] = true
		if e := keyLimitError("Bundle.entry["+strconv.Itoa(i)+"].resource", identifierValues(pt.resolved[i]), fo.Order.Source.FHIRSource); e != nil {
			return nil, e
		}
		o := fo.Order
		o.Source.Kind, o.Source.ClientID = order.SourceFHIR, entries[i].Client
		index := identifierIndex(pt.resolved[i])
		if p.kind == putOrder {
			if isClientID(p.id) {
				nr, err := b.prepareRequest(ctx, o.Clone(), fo.Control, pt.resolved[i], p.id, index, at, pt.msgID)
				if err != nil {
					return nil, err
				}
				pt.creates[i] = nr
			}
			b.eng.Check(o, at)
			pt.updates[i] = &orderUpdate{id: p.id, client: entries[i].Client, ifMatch: entries[i].IfMatch, raw: pt.resolved[i],
				inc: o, ctl: fo.Control, index: index}
			continue
		}
		o.ID = p.id
		nr, err := b.prepareRequest(ctx, o, fo.Control, pt.resolved[i], "", index, at, pt.msgID)
		if err != nil {
			return nil, err
		}
		pt.creates[i] = nr
	}
	for i, p := range plan {
		if p.kind != keepAsSent && p.match == "" && !mapped[i] {
			return nil, &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: append(pt.issues[i], fhir.Issue{Severity: "error", Code: "processing",
				Expression: entryPath(i) + ".resource", Diagnostics: "this ServiceRequest cannot be read as an order"})}
		}
	}
	return pt, nil
}

// assignIssues gives each mapping issue to the entry its expression names; one that
// names none goes to the first order entry.
func (b *Server) assignIssues(pt *preparedTransaction, plan []plannedEntry, list []fhir.Issue) {
	first := -1
	for i, p := range plan {
		if p.kind != keepAsSent && p.match == "" {
			first = i
			break
		}
	}
	for _, is := range list {
		i, ok := entryOf(is.Expression)
		if !ok || i >= len(plan) {
			i = first
		}
		if i < 0 || plan[i].match != "" {
			continue // a matched entry is not mapped into an order
		}
		pt.issues[i] = append(pt.issues[i], is)
	}
}

// entryOf reads the entry index of an expression "Bundle.entry[i]...".
func entryOf(expr string) (int, bool) {
	rest, ok := strings.CutPrefix(expr, "Bundle.entry[")
	if !ok {
		return 0, false
	}
	n, _, ok := strings.Cut(rest, "]")
	i, err := strconv.Atoi(n)
	return i, ok && err == nil && i >= 0
}

func entryPath(i int) string { return "Bundle.entry[" + strconv.Itoa(i) + "]" }

// commitTransaction applies the prepared entries in one write, after checking that the
// conditions still match what they matched when the transaction was planned.
func (b *Server) commitTransaction(ctx context.Context, entries []fhir.Entry, plan []plannedEntry, pt *preparedTransaction) ([]fhir.Result, error) {
	results := make([]fhir.Result, len(entries))
	err := b.store.Update(ctx, func(tx store.Tx) error {
		for i, en := range entries {
			if en.IfNoneExist == nil {
				continue
			}
			m, err := b.conditionMatch(tx, i, plan[i].typ, en.IfNoneExist)
			if err != nil {
				return err
			}
			if m != plan[i].match {
				return errConditionsChanged
			}
		}
		var orderIDs []string
		for i, p := range plan {
			res, err := b.commitEntry(tx, i, entries[i], p, pt)
			if err != nil {
				return err
			}
			if res.orderID != "" {
				orderIDs = append(orderIDs, res.orderID)
			}
			results[i] = res.Result
		}
		return putFHIRMessage(tx, pt.msgID, entriesClient(entries), "Bundle", pt.bundle, pt.at, "200", orderIDs...)
	})
	if err != nil {
		return nil, err
	}
	// Wake the delivery of what the orders queued (the payer workflow's requests).
	for i, p := range plan {
		switch {
		case p.match != "":
		case p.kind == createOrder:
			b.eng.Notify(pt.creates[i].nw.Queued())
		case p.kind == putOrder:
			b.eng.Notify(pt.updates[i].notify)
		}
	}
	return results, nil
}

// entryResult is one entry's result and the order it created or changed.
type entryResult struct {
	fhir.Result
	orderID string
}

func (b *Server) commitEntry(tx store.Tx, i int, en fhir.Entry, p plannedEntry, pt *preparedTransaction) (entryResult, error) {
	at, resource := pt.at, entryPath(i)+".resource"
	switch {
	case p.match != "":
		res, err := b.read(tx, p.typ, p.match)
		return entryResult{Result: res}, err
	case p.kind == createOrder:
		res, err := pt.creates[i].admit(tx, resource+".identifier")
		if err != nil {
			return entryResult{}, err
		}
		res.Issues = append(rebaseIssues(res.Issues, typeServiceRequest, resource), pt.issues[i]...)
		return entryResult{Result: res, orderID: pt.creates[i].nw.Order.ID}, nil
	case p.kind == putOrder:
		res, o, err := b.putRequest(tx, pt.updates[i], pt.creates[i], at, pt.msgID, resource+".identifier")
		if errors.Is(err, errNoOrder) {
			return entryResult{}, &fhir.Error{Status: http.StatusBadRequest, Issues: []fhir.Issue{{Severity: "error", Code: "not-supported",
				Expression: entryPath(i) + ".request.url", Diagnostics: "ServiceRequest/" + p.id + " names no order. " + clientIDRule +
					" (in a transaction, refer to it by the entry's fullUrl)"}}}
		}
		if err != nil {
			return entryResult{}, atEntry(err, i)
		}
		res.Issues = append(rebaseIssues(res.Issues, typeServiceRequest, resource), pt.issues[i]...)
		return entryResult{Result: res, orderID: o.ID}, nil
	}
	res, err := putKept(tx, p.typ, p.id, pt.resolved[i], en.IfMatch, at)
	return entryResult{Result: res}, atEntry(err, i)
}

// putKept stores a new version of a resource kept as sent: version 1 for a new one, and
// with ifMatch set, only when it names the current version.
func putKept(tx store.Tx, typ, id string, data []byte, ifMatch string, at time.Time) (fhir.Result, error) {
	version := 1
	prev, err := tx.Resource(typ, id)
	switch {
	case err == nil:
		version = prev.Version + 1
	case !errors.Is(err, store.ErrNotFound):
		return fhir.Result{}, err
	}
	if want := ifMatchVersion(ifMatch); want != "" && (prev == nil || want != strconv.Itoa(prev.Version)) {
		have := "it does not exist"
		if prev != nil {
			have = "the current version is " + strconv.Itoa(prev.Version)
		}
		return fhir.Result{}, &fhir.Error{Status: http.StatusPreconditionFailed, Issues: []fhir.Issue{{Severity: "error", Code: "conflict",
			Diagnostics: "ifMatch names version " + want + " of " + typ + "/" + id + " but " + have}}}
	}
	stamped, err := fhirmap.WithMeta(data, id, version, at)
	if err != nil {
		return fhir.Result{}, err
	}
	r := &store.Resource{Type: typ, ID: id, LastUpdated: at, JSON: stamped, Index: keptIndex(typ, stamped)}
	if err := tx.PutResource(r); err != nil {
		return fhir.Result{}, err
	}
	res := storedResult(r)
	res.Created = r.Version == 1
	return res, nil
}

// keptIndex lists what a kept resource is found by: its identifier values (conditional
// creates) and, for a Task, the references of its basedOn (Task searches).
func keptIndex(typ string, resource []byte) map[string][]string {
	index := identifierIndex(resource)
	if typ != typeTask {
		return index
	}
	var t struct {
		BasedOn []struct {
			Reference string `json:"reference"`
		} `json:"basedOn"`
	}
	if json.Unmarshal(resource, &t) != nil {
		return index
	}
	for _, ref := range t.BasedOn {
		if ref.Reference != "" {
			if index == nil {
				index = map[string][]string{}
			}
			index["based-on"] = append(index["based-on"], ref.Reference)
		}
	}
	return index
}

// ifMatchVersion is the version an If-Match names: `W/"3"` and "3" name 3.
func ifMatchVersion(ifMatch string) string {
	return strings.Trim(strings.TrimPrefix(ifMatch, "W/"), `"`)
}

// rebaseIssues moves issues from the resource root ("ServiceRequest.reasonCode") to
// its place in the Bundle ("Bundle.entry[2].resource.reasonCode").
func rebaseIssues(list []fhir.Issue, root, to string) []fhir.Issue {
	out := make([]fhir.Issue, len(list))
	for i, is := range list {
		if rest, ok := strings.CutPrefix(is.Expression, root); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			is.Expression = to + rest
		}
		out[i] = is
	}
	return out
}

// atEntry points the issues of a *fhir.Error at entry i: those that name no element at
// the entry, those that name one of its resource ("ServiceRequest.status") at it in the
// Bundle.
func atEntry(err error, i int) error {
	var fe *fhir.Error
	if !errors.As(err, &fe) {
		return err
	}
	for k, is := range fe.Issues {
		switch {
		case is.Expression == "":
			fe.Issues[k].Expression = entryPath(i)
		case !strings.HasPrefix(is.Expression, "Bundle."):
			root, _, _ := strings.Cut(is.Expression, ".")
			fe.Issues[k] = rebaseIssues(fe.Issues[k:k+1], root, entryPath(i)+".resource")[0]
		}
	}
	return fe
}

// newResourceID is a new id for a resource a transaction keeps: a random (version 4)
// UUID, so that it never meets an id a client gives in a PUT by chance.
func newResourceID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read does not fail
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

func entriesClient(entries []fhir.Entry) string {
	if len(entries) == 0 {
		return ""
	}
	return entries[0].Client
}

func entryError(i int, element, text string) error {
	return &fhir.Error{Status: http.StatusBadRequest, Issues: []fhir.Issue{{Severity: "error", Code: "not-supported",
		Expression: entryPath(i) + "." + element, Diagnostics: text}}}
}
