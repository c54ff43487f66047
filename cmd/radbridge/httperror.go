package main

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/radbridge/radbridge/fhir"
)

// httpError answers an error in the dialect of r's path: under /fhir an
// OperationOutcome with one issue of type code, elsewhere the engine API's JSON error
// {"error": msg}.
func httpError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if r.URL.Path == "/fhir" || strings.HasPrefix(r.URL.Path, "/fhir/") {
		fhir.WriteError(w, &fhir.Error{Status: status, Issues: []fhir.Issue{{Severity: "error", Code: code, Diagnostics: msg}}})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(map[string]string{"error": msg})
}

// authRefusal writes the auth middleware's refusals: a 401 is a security issue, a 403
// a forbidden one.
func authRefusal(w http.ResponseWriter, r *http.Request, status int, msg string) {
	code := "forbidden"
	if status == http.StatusUnauthorized {
		code = "security"
	}
	httpError(w, r, status, code, msg)
}
