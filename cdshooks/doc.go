// Package cdshooks is radbridge's CDS Hooks 2.0 service (https://cds-hooks.hl7.org/2.0/)
// as Da Vinci Coverage Requirements Discovery (CRD 2.2.1) uses it: the EHR calls it when
// imaging orders are selected (order-select) or signed (order-sign), and radbridge
// answers with what its rules say of each draft order, before any order exists.
//
// GET /cds-services is the discovery document: radbridge-order-select and
// radbridge-order-sign, with prefetch templates for the patient, the patient's active
// coverage, the encounter and the user. POST /cds-services/{id} is a hook call.
//
// The draft ServiceRequests of context.draftOrders go through the same mapping as FHIR
// orders (mapping/fhirmap, their references resolved against the prefetched resources
// and the other drafts; the prefetched Coverage stands in for ServiceRequest.insurance)
// and the same checks as every order (the engine's Checker): one rules engine, three
// doors. Nothing is stored: a draft is not an order. Each finding of the checks is a
// card (indicator critical, warning or info by severity; a summary under 140
// characters; source.label naming the rule table and its version; the finding in
// extension radbridge.finding; a suggestion where the fix is plain, such as choosing one
// of the order's CRD billing options as its CPT code). Each draft's prior-authorization
// verdict is a CRD coverage-information extension on the draft, returned as a
// systemActions update whose resource is the draft as sent with only that extension
// replaced. radbridge is not the payer: covered is always conditional, and no
// coverage-assertion-id is made up. Drafts of other kinds (a CommunicationRequest) get
// one card saying they were not checked.
//
// # Security
//
// A hook call must carry a JWT from an allowed client (CDS Hooks 2.0, "Trusting CDS
// Clients"): its iss is a configured client, it is signed with an asymmetric algorithm
// (RS*, PS*, ES*, EdDSA; never none or HS*) by a key of that client's JWKS, its aud is
// the called service's URL, its exp is at most five minutes ahead, and its jti has not
// been seen (a replay cache keeps each until its exp). The token is checked before the
// body is read; a failure is 401 with WWW-Authenticate. Discovery is public. The route
// takes no bearer token of the engine's own: the JWT is its authentication.
//
// # Caveats
//
//   - Resources contained in a draft are not read; prefetched ones are. radbridge does not
//     query the EHR's FHIR server (fhirServer, fhirAuthorization) for what prefetch lacks.
//   - Without a prefetched Coverage there is no coverage information (its coverage
//     element is required): a card gives the verdict instead.
//   - The replay cache lives in the process: with several nodes a token could be replayed
//     once per node within its lifetime.
package cdshooks
