package cdshooks

import (
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/radbridge/radbridge/internal/jsontext"
)

// ext is a FHIR extension as the coverage information writes it.
type ext struct {
	URL                  string     `json:"url"`
	Extension            []ext      `json:"extension,omitempty"`
	ValueCode            string     `json:"valueCode,omitempty"`
	ValueDate            string     `json:"valueDate,omitempty"`
	ValueString          string     `json:"valueString,omitempty"`
	ValueReference       *extRef    `json:"valueReference,omitempty"`
	ValueCodeableConcept *extConcpt `json:"valueCodeableConcept,omitempty"`
}

type extRef struct {
	Reference string `json:"reference"`
}

type extConcpt struct {
	Text string `json:"text"`
}

// coverageInformation is the CRD 2.2.1 coverage-information extension for a draft's
// verdict: radbridge applies the site's rule table, not the payer's coverage policy,
// so covered is always "conditional" with info-needed OTH (coverage is the payer's to
// say); pa-needed is auth-needed (with doc-needed clinical and doc-purpose withpa when
// records are required), no-auth (not required, or exempt), satisfied (with
// satisfied-pa-id) for a draft carrying an authorization number, or conditional with
// info-needed detail-code when the code cannot be assessed. The reason is the rules'
// reason. No coverage-assertion-id: radbridge is not the payer, and an assertion id
// would let a client present radbridge's verdict as the payer's.
func coverageInformation(ev evaluation, cov *coverageRef, now time.Time) ext {
	a := ev.auth
	x := ext{URL: extCoverageInfo}
	if cov != nil {
		x.Extension = append(x.Extension, ext{URL: "coverage", ValueReference: &extRef{Reference: cov.ref}})
	}
	x.Extension = append(x.Extension, ext{URL: "covered", ValueCode: "conditional"})
	info := []string{"OTH"}
	switch {
	case a.Number != "" && a.Required && !a.Exempt:
		x.Extension = append(x.Extension, ext{URL: "pa-needed", ValueCode: "satisfied"})
	case a.Required && !a.Exempt:
		x.Extension = append(x.Extension, ext{URL: "pa-needed", ValueCode: "auth-needed"})
		if a.RecordsRequired {
			x.Extension = append(x.Extension, ext{URL: "doc-needed", ValueCode: "clinical"}, ext{URL: "doc-purpose", ValueCode: "withpa"})
		}
	case a.Undetermined:
		x.Extension = append(x.Extension, ext{URL: "pa-needed", ValueCode: "conditional"})
		info = append(info, "detail-code")
	default:
		x.Extension = append(x.Extension, ext{URL: "pa-needed", ValueCode: "no-auth"})
	}
	for _, code := range info {
		x.Extension = append(x.Extension, ext{URL: "info-needed", ValueCode: code})
	}
	if a.Reason != "" {
		x.Extension = append(x.Extension, ext{URL: "reason", ValueCodeableConcept: &extConcpt{Text: a.Reason}})
	}
	x.Extension = append(x.Extension, ext{URL: "reason", ValueCodeableConcept: &extConcpt{
		Text: "radbridge applies the site's prior-authorization rules; whether the service is covered is the payer's to say"}})
	if a.Number != "" && a.Required && !a.Exempt {
		x.Extension = append(x.Extension, ext{URL: "satisfied-pa-id", ValueString: a.Number})
	}
	x.Extension = append(x.Extension, ext{URL: "date", ValueDate: now.UTC().Format(time.DateOnly)})
	return x
}

// withCoverageInformation returns the draft resource with its coverage-information
// extensions replaced by info: the other extensions and every other member are kept as
// they were (in compact form).
func withCoverageInformation(resource json.RawMessage, info ext) (json.RawMessage, error) {
	obj, err := jsontext.Compact(resource)
	if err != nil {
		return nil, err
	}
	var kept []json.RawMessage
	if m, ok := obj.Last("extension"); ok {
		var list []json.RawMessage
		if err := json.Unmarshal(m.Value(), &list); err != nil {
			return nil, errors.New("the draft's extension is not an array")
		}
		for _, e := range list {
			var h struct {
				URL string `json:"url"`
			}
			if json.Unmarshal(e, &h) == nil && h.URL == extCoverageInfo {
				continue
			}
			kept = append(kept, e)
		}
	}
	x, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	return obj.AppendSet(nil, "extension", joinArray(append(kept, x))), nil
}

// withCoding returns the draft resource with a coding (system, code) added to its code.
func withCoding(resource json.RawMessage, system, code string) (json.RawMessage, error) {
	obj, err := jsontext.Compact(resource)
	if err != nil {
		return nil, err
	}
	m, ok := obj.Last("code")
	if !ok {
		return nil, errors.New("the draft has no code")
	}
	cc, ok := m.Object()
	if !ok {
		return nil, errors.New("the draft's code is not an object")
	}
	var codings []json.RawMessage
	if cm, ok := cc.Last("coding"); ok {
		if err := json.Unmarshal(cm.Value(), &codings); err != nil {
			return nil, errors.New("the draft's code.coding is not an array")
		}
	}
	c, _ := json.Marshal(struct {
		System string `json:"system"`
		Code   string `json:"code"`
	}{system, code})
	return obj.AppendSet(nil, "code", cc.AppendSet(nil, "coding", joinArray(append(slices.Clip(codings), c)))), nil
}

// joinArray writes a JSON array of the elements as they are (json.Marshal would escape
// the HTML characters of a narrative).
func joinArray(elems []json.RawMessage) []byte {
	b := []byte{'['}
	for i, e := range elems {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	return append(b, ']')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
