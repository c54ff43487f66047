package auth

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// realm is the realm of this server's WWW-Authenticate challenges.
const realm = "radbridge"

// Middleware checks every request a gorilla/mux router routes against what its route
// declared (Public, Require, RequireFunc), before the route's handler runs and so
// before the body is read; install it with Router.Use. In order:
//
//   - a Public route on an allowlisted path is served to anyone;
//   - a request without a valid bearer token is answered 401 with a WWW-Authenticate
//     challenge (error="invalid_token" when it carried one);
//   - a route that declared nothing, or declared Public off the allowlist, is answered
//     403 to everyone, and the omission is logged as an error;
//   - a principal that does not meet the route's need is answered 403;
//   - a state-changing request from a browser on a foreign origin (one not in
//     Config.AllowOrigins) is answered 403, also on public routes;
//   - otherwise the request goes on with the principal in its context (FromContext)
//     and Cache-Control: no-store on its answer.
//
// Each refusal is logged once, with the route and the token's name or client's id,
// never the token. With Config.Off every request is served as if by a principal with
// every scope and no name, whatever it carries.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var g *guarded
		if rt := mux.CurrentRoute(r); rt != nil {
			g, _ = rt.GetHandler().(*guarded)
		}
		if g != nil && g.public && publicPath(r) {
			if a.crossOriginOK(w, r, nil) {
				next.ServeHTTP(w, r)
			}
			return
		}
		p, err := a.principal(r)
		if err != nil {
			a.unauthorized(w, r, err)
			return
		}
		if g == nil || g.public {
			a.log.ErrorContext(r.Context(), "http route declares no scope: refused to all", slog.String("route", routeOf(r)))
			a.forbidden(w, r, p, "", "this route declares no scope, so nobody may use it")
			return
		}
		if need := g.need(r); !need.MetBy(p) {
			a.forbidden(w, r, p, need.String(), "this request needs "+need.String())
			return
		}
		if a.crossOriginOK(w, r, p) {
			w.Header().Set("Cache-Control", "no-store")
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
		}
	})
}

// principal authenticates r, or with authentication off grants everything.
func (a *Authenticator) principal(r *http.Request) (*Principal, error) {
	if a.cfg.Off {
		return &Principal{Scopes: NewScopes(AllScopes())}, nil
	}
	return a.authenticate(r)
}

// crossOriginOK refuses a state-changing cross-origin browser request (by its
// Sec-Fetch-Site or Origin header) unless its origin is allowed, and reports whether r
// may go on.
func (a *Authenticator) crossOriginOK(w http.ResponseWriter, r *http.Request, p *Principal) bool {
	if err := a.cop.Check(r); err != nil {
		a.forbidden(w, r, p, "", "cross-origin request refused: its origin is not one this server allows")
		return false
	}
	return true
}

// unauthorized answers 401 with a Bearer challenge (RFC 6750, section 3).
func (a *Authenticator) unauthorized(w http.ResponseWriter, r *http.Request, err error) {
	challenge := `Bearer realm="` + realm + `"`
	level := slog.LevelInfo
	if !errors.Is(err, errNoToken) {
		challenge += `, error="invalid_token", error_description="` + quotable(err.Error()) + `"`
		level = slog.LevelWarn
	}
	w.Header().Set("WWW-Authenticate", challenge)
	w.Header().Set("Cache-Control", "no-store")
	a.log.Log(r.Context(), level, "http request refused", slog.Int("status", http.StatusUnauthorized), slog.String("method", r.Method),
		slog.String("route", routeOf(r)), slog.String("remote_addr", r.RemoteAddr), slog.String("reason", err.Error()))
	a.refuse(w, r, http.StatusUnauthorized, "authentication required: "+err.Error())
}

// forbidden answers 403; scope, when set, is the scope the request lacked.
func (a *Authenticator) forbidden(w http.ResponseWriter, r *http.Request, p *Principal, scope, msg string) {
	if scope != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`", error="insufficient_scope", scope="`+quotable(scope)+`"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	attrs := []slog.Attr{slog.Int("status", http.StatusForbidden), slog.String("method", r.Method), slog.String("route", routeOf(r)),
		slog.String("remote_addr", r.RemoteAddr), slog.String("reason", msg)}
	switch {
	case p == nil:
	case p.Client:
		attrs = append(attrs, slog.String("client_id", p.Name))
	default:
		attrs = append(attrs, slog.String("token_name", p.Name))
	}
	a.log.LogAttrs(r.Context(), slog.LevelWarn, "http request refused", attrs...)
	a.refuse(w, r, http.StatusForbidden, msg)
}

// routeOf names r's route by its path template, or by its path when it has none.
func routeOf(r *http.Request) string {
	if rt := mux.CurrentRoute(r); rt != nil {
		if t, err := rt.GetPathTemplate(); err == nil {
			return t
		}
	}
	return r.URL.Path
}

// quotable makes s safe inside a quoted-string of an HTTP header.
func quotable(s string) string {
	return strings.Map(func(c rune) rune {
		if c == '"' || c == '\\' || c < ' ' || c > '~' {
			return '\''
		}
		return c
	}, s)
}
