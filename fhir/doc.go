// Package fhir is radbridge's FHIR R4 (4.0.1) protocol layer: the HTTP handlers of
// the REST API under /fhir, the validation gate every inbound resource passes, the
// OperationOutcome and Bundle shapes, the CapabilityStatement, and a small client for
// outbound pushes. Storage and the order pipeline sit behind the Backend interface,
// which package fhirserver implements.
//
// It implements, for JSON only:
//   - the RESTful API, https://hl7.org/fhir/R4/http.html: create (conditional with
//     If-None-Exist), read, vread (every Location reads back), update (version-aware
//     with If-Match), search-type,
//     capabilities, transaction and batch; Prefer return=minimal|representation|
//     OperationOutcome; _format and Accept negotiation (406), Content-Type (415);
//   - search, https://hl7.org/fhir/R4/search.html: the parameters the
//     CapabilityStatement declares; unknown ones are ignored and reported in an
//     OperationOutcome entry (search.mode=outcome) unless Prefer: handling=strict asks
//     for a 400; _count (default 20, at most 100; 0 returns the total only) and
//     offset paging through self/first/previous/next/last links;
//   - Bundles, https://hl7.org/fhir/R4/bundle.html: searchset,
//     transaction/transaction-response (all or nothing, through Backend.Transaction)
//     and batch/batch-response (each entry validated and run on its own through
//     Create, Update, Read, VRead or Search, with its own status and outcome);
//   - OperationOutcome, https://hl7.org/fhir/R4/operationoutcome.html, for every
//     error, with FHIRPath expressions for validation findings;
//   - CapabilityStatement, https://hl7.org/fhir/R4/capabilitystatement.html, built
//     from the same table as the routes;
//   - the JSON representation rules, https://hl7.org/fhir/R4/json.html.
//
// Routes (Handler.Routes): GET /fhir/metadata; POST /fhir (transaction, batch);
// GET /fhir/{type}/{id}/_history/{vid} for every readable type;
// POST|GET /fhir/ServiceRequest, GET|PUT /fhir/ServiceRequest/{id};
// POST|GET /fhir/DiagnosticReport, GET /fhir/DiagnosticReport/{id};
// GET /fhir/Task, GET /fhir/Task/{id}; POST /fhir/Subscription,
// GET /fhir/Subscription/{id}; POST /fhir/{type}/_search for searchable types.
// Other resource types are 404, other methods 405 with an Allow header.
//
// # Status codes
//
// 400: the body is not JSON (the diagnostics give line, column and byte offset), not
// an object, lacks resourceType or names another type than the URL; an update's id
// differs from the URL; a search or If-None-Exist parameter is malformed; a Bundle is
// neither a transaction nor a batch; a transaction entry asks for what no transaction
// here does (a type it does not write, a read, a conditional update, a condition that
// does not apply to its method), which refuses the whole Bundle before anything is
// stored. 422: the body is JSON but not a valid R4
// resource (the gate's findings, each with its expression). 404, 405, 406, 412 (from
// the Backend), 413, 415 and 500 as usual; every one carries an OperationOutcome.
//
// # Caveats
//
//   - XML, PATCH, DELETE, history, operations, _include, _sort and _summary
//     are not supported; the CapabilityStatement says so by omission.
//   - Check findings (Result.Issues) of a create or update are in the response body
//     only with Prefer: return=OperationOutcome; with the default representation the
//     body is the stored resource, and the findings are on the order's Task. In a
//     transaction or batch they are in each entry's response.outcome.
//   - The gate's messages from google/fhir/go carry their own wording; the mapping of
//     its element paths to FHIRPath is tested against v0.7.4.
//   - Without Config.BaseURL, links are built from the request's Host header.
//   - Backend.Observe sees every answer to a write the Handler gives; refusals by
//     middleware in front of it (authentication, a server-wide body cap) are not its.
package fhir
