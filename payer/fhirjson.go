package payer

import "encoding/json"

// The FHIR R4 datatypes the PAS documents use, written and read as JSON. Only the
// elements radbridge writes or reads are declared; unknown elements are ignored when
// reading.

type coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

type concept struct {
	Coding []coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

type identifier struct {
	Type   *concept `json:"type,omitempty"`
	System string   `json:"system,omitempty"`
	Value  string   `json:"value,omitempty"`
}

type reference struct {
	Reference  string      `json:"reference,omitempty"`
	Type       string      `json:"type,omitempty"`
	Identifier *identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

type period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

type extension struct {
	URL                  string      `json:"url"`
	Extension            []extension `json:"extension,omitempty"`
	ValueString          string      `json:"valueString,omitempty"`
	ValueCode            string      `json:"valueCode,omitempty"`
	ValueDate            string      `json:"valueDate,omitempty"`
	ValueBoolean         *bool       `json:"valueBoolean,omitempty"`
	ValueCodeableConcept *concept    `json:"valueCodeableConcept,omitempty"`
	ValuePeriod          *period     `json:"valuePeriod,omitempty"`
	ValueReference       *reference  `json:"valueReference,omitempty"`
}

type humanName struct {
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
}

type meta struct {
	Profile []string `json:"profile,omitempty"`
}

// bundleEntry is an entry of a Bundle radbridge writes.
type bundleEntry struct {
	FullURL  string `json:"fullUrl"`
	Resource any    `json:"resource"`
}

// rawEntry is an entry of a Bundle radbridge reads: the resource's bytes are kept.
type rawEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
}

func codingOf(system, code, display string) *concept {
	return &concept{Coding: []coding{{System: system, Code: code, Display: display}}}
}

// code returns the first code of c in system (any system when system is "").
func (c *concept) code(system string) string {
	if c == nil {
		return ""
	}
	for _, cd := range c.Coding {
		if cd.Code != "" && (system == "" || cd.System == system) {
			return cd.Code
		}
	}
	return ""
}

// words is c for people: its text, else the first coding's display, else its code.
func (c *concept) words() string {
	if c == nil {
		return ""
	}
	if c.Text != "" {
		return c.Text
	}
	for _, cd := range c.Coding {
		if cd.Display != "" {
			return cd.Code + " " + cd.Display
		}
		if cd.Code != "" {
			return cd.Code
		}
	}
	return ""
}
