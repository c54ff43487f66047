package auth

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// SecurityHeaders sets the browser safety headers on every response:
// X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer, X-Frame-Options: DENY
// with its CSP twin frame-ancestors 'none', and, on a TLS connection,
// Strict-Transport-Security for a year.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// The CORS answers to allowed origins: what they may send, and read.
const (
	corsMethods = "GET, HEAD, POST, PUT, DELETE"
	corsHeaders = "Authorization, Content-Type, Accept, If-None-Exist, If-Match, Prefer"
	corsExpose  = "Location, ETag, Last-Modified, Content-Location, WWW-Authenticate, Retry-After"
)

// CORS answers cross-origin browser requests from the origins of Config.AllowOrigins
// (exact matches): a preflight (OPTIONS with Access-Control-Request-Method) is answered
// 204 with what they may send, and other requests are marked readable by them. Credentials
// are never allowed: tokens go in the Authorization header, which a foreign page cannot
// make a browser send. Requests from other origins get no CORS header at all, and a
// preflight from one goes on to the router like any request, which answers it without
// one. With no origins configured, CORS returns next itself.
func (a *Authenticator) CORS(next http.Handler) http.Handler {
	allowed := a.cfg.AllowOrigins
	if len(allowed) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		if !slices.Contains(allowed, origin) {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", corsMethods)
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", corsExpose)
		next.ServeHTTP(w, r)
	})
}

// checkOrigin reports whether o is an exact origin: scheme://host[:port], nothing more.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Scheme+"://"+u.Host != o {
		return fmt.Errorf("origin %q: want scheme://host[:port] exactly, such as https://app.example.org", o)
	}
	return nil
}
