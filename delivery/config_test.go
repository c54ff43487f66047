package delivery_test

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/radbridge/radbridge/delivery"
)

func TestConfig_Validate(t *testing.T) {
	ok := []delivery.Destination{{Name: "ehr", MLLP: "ehr.example.org:6661"}, {Name: "app", FHIR: "https://app.example.org/fhir"}}
	for _, tc := range []struct {
		name    string
		cfg     delivery.Config
		wantErr string // a substring; empty means valid
	}{
		{name: "zero"},
		{name: "destinations", cfg: delivery.Config{Destinations: ok}},
		{name: "no name", cfg: delivery.Config{Destinations: []delivery.Destination{{MLLP: "h:1"}}}, wantErr: "Destinations[0].Name"},
		{name: "both", cfg: delivery.Config{Destinations: []delivery.Destination{{Name: "x", MLLP: "h:1", FHIR: "http://h"}}}, wantErr: "exactly one of MLLP and FHIR"},
		{name: "neither", cfg: delivery.Config{Destinations: []delivery.Destination{{Name: "x"}}}, wantErr: "exactly one of MLLP and FHIR"},
		{name: "twice", cfg: delivery.Config{Destinations: append(ok, ok[0])}, wantErr: `Destinations[2].Name "ehr" is used twice`},
		{name: "mllp without port", cfg: delivery.Config{Destinations: []delivery.Destination{{Name: "x", MLLP: "ehr.example.org"}}}, wantErr: "Destinations[0].MLLP"},
		{name: "fhir not http", cfg: delivery.Config{Destinations: []delivery.Destination{{Name: "x", FHIR: "ftp://h/fhir"}}}, wantErr: "Destinations[0].FHIR"},
		{name: "fhir with query", cfg: delivery.Config{Destinations: []delivery.Destination{{Name: "x", FHIR: "http://h/fhir?a=b"}}}, wantErr: "Destinations[0].FHIR"},
		{name: "tls for https", cfg: delivery.Config{Destinations: []delivery.Destination{{Name: "x", FHIR: "https://h/fhir", TLS: &tls.Config{}}}}},
		{name: "tls for http", cfg: delivery.Config{Destinations: []delivery.Destination{{Name: "x", FHIR: "http://h/fhir", TLS: &tls.Config{}}}}, wantErr: "Destinations[0].TLS"},
		{name: "tls unverified", cfg: delivery.Config{Destinations: []delivery.Destination{{Name: "x", MLLP: "h:1", TLS: &tls.Config{InsecureSkipVerify: true}}}}, wantErr: "InsecureSkipVerify"},
		{name: "negative initial", cfg: delivery.Config{Backoff: delivery.Backoff{Initial: -1}}, wantErr: "Backoff.Initial"},
		{name: "max below initial", cfg: delivery.Config{Backoff: delivery.Backoff{Initial: time.Minute, Max: time.Second}}, wantErr: "Backoff.Max"},
		{name: "initial above default max", cfg: delivery.Config{Backoff: delivery.Backoff{Initial: time.Hour}}, wantErr: "Backoff.Initial"},
		{name: "multiplier below one", cfg: delivery.Config{Backoff: delivery.Backoff{Multiplier: 0.5}}, wantErr: "Backoff.Multiplier"},
		{name: "jitter one", cfg: delivery.Config{Backoff: delivery.Backoff{Jitter: 1}}, wantErr: "Backoff.Jitter"},
		{name: "no jitter", cfg: delivery.Config{Backoff: delivery.Backoff{Jitter: -1}}},
		{name: "negative attempts", cfg: delivery.Config{MaxAttempts: -1}, wantErr: "MaxAttempts"},
		{name: "negative cap", cfg: delivery.Config{RetryAfterCap: -1}, wantErr: "RetryAfterCap"},
		{name: "negative poll", cfg: delivery.Config{PollInterval: -1}, wantErr: "PollInterval"},
		{name: "negative timeout", cfg: delivery.Config{Timeout: -1}, wantErr: "Timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate() = %v, want an error naming %q", err, tc.wantErr)
			}
		})
	}
}
