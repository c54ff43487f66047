// Package auth authenticates and authorizes radbridge's HTTP requests: bearer tokens
// (RFC 6750) checked before a request's body is read, scopes declared by each route where
// it is registered, and the OAuth 2.0 token endpoint of SMART App Launch 2.2 Backend
// Services (https://hl7.org/fhir/smart-app-launch/STU2.2/backend-services.html), which
// grants client_credentials to clients that authenticate with a JWT (RFC 7523, RFC 7519)
// signed RS384 or ES384 (JWS, RFC 7515) by a key of their registered JSON Web Key Set
// (JWK, RFC 7517).
//
// A request carries a token one of three kinds, all sent as "Authorization: Bearer":
//
//   - a static token from the configuration, known by its SHA-256 only;
//   - the admin token the server creates in its data directory on first start when the
//     configuration names no token with [ScopeAPIAdmin] (admin.token, mode 0600);
//   - an access token from POST /auth/token: a JWT (typ at+jwt) signed ES256 by the
//     server's own key (token-signing.key in the data directory, made on first start),
//     valid for at most 300 seconds, for this server as both issuer and audience.
//
// Scopes are SMART's for FHIR, v1 and v2 syntax alike (system/ServiceRequest.rs,
// system/*.cruds, system/ServiceRequest.read), and radbridge's own for the engine API
// and the metrics page ([ScopeAPIRead], [ScopeAPIOperate], [ScopeAPIAdmin],
// [ScopePHIRead], [ScopeMetricsRead]). user/ and patient/ scopes are never granted: these
// are backend clients.
//
// A route declares what it needs by the handler it is registered with: [Public] (only
// the paths of a fixed allowlist may be public), [Require] (one scope) or [RequireFunc]
// (a [Need] computed from the request, such as the FHIR interaction on a resource type).
// [Authenticator.Middleware], installed on the router with Use, refuses every route
// that declared nothing: a new route is closed until someone says who may use it.
//
// # Caveats
//
// Without Config.Issuer the issuer, and with it the token URL that client assertions
// must name as their audience, is derived from each request's scheme and Host header.
// Behind a proxy, or to pin the audience, set it.
//
// Replayed assertions are caught by their jti in memory: the cache does not survive a
// restart, and several servers do not share it. Assertions live at most five minutes.
package auth
