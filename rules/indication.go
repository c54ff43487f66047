package rules

import (
	"fmt"
	"strings"

	"github.com/radbridge/radbridge/order"
)

// dxRange is a range of ICD-10-CM codes compared on their leading characters, dots
// removed: "F01-F99" covers every code of categories F01 to F99, "R41.81" the code and
// its subcodes.
type dxRange struct{ lo, hi string }

// parseDxRange reads "F01-F99", "G30-G31" or "R41.81".
func parseDxRange(s string) (dxRange, error) {
	lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
	r := dxRange{lo: normalDx(lo), hi: normalDx(hi)}
	if !isRange {
		r.hi = r.lo
	}
	switch {
	case r.lo == "" || r.hi == "":
		return r, fmt.Errorf("%q is not an ICD-10-CM code or range like F01-F99", s)
	case !ValidICD10CM(r.lo) || !ValidICD10CM(r.hi):
		return r, fmt.Errorf("%q: both ends must be ICD-10-CM codes or categories", s)
	case len(r.lo) != len(r.hi):
		return r, fmt.Errorf("%q: both ends must have as many characters", s)
	case r.lo > r.hi:
		return r, fmt.Errorf("%q: the low end is above the high end", s)
	}
	return r, nil
}

// normalDx is a code upper-cased with its dot and spaces removed.
func normalDx(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), ".", ""))
}

func (r dxRange) contains(code string) bool {
	if len(code) < len(r.lo) {
		return false
	}
	p := code[:len(r.lo)]
	return r.lo <= p && p <= r.hi
}

// behavioralHealth is ICD-10-CM chapter 5, Mental, Behavioral and Neurodevelopmental
// disorders (F01-F99): Kaiser WA's "behavioural health indications".
var behavioralHealth = dxRange{lo: "F01", hi: "F99"}

// icdCodes calls f with each ICD-10-CM diagnosis code of the order (system ICD-10-CM
// or none), normalised, in order, until f returns false.
func icdCodes(ds []order.Diagnosis, f func(code, asSent string) bool) {
	var buf [8]byte
	for i := range ds {
		d := &ds[i]
		c := strings.TrimSpace(d.Code)
		if c == "" || (strings.TrimSpace(d.System) != "" && !isICD10CMSystem(d.System)) {
			continue
		}
		n := buf[:0]
		for j := 0; j < len(c) && len(n) < len(buf); j++ {
			b := c[j]
			switch {
			case b == '.':
				continue
			case 'a' <= b && b <= 'z':
				b -= 'a' - 'A'
			}
			n = append(n, b)
		}
		if len(n) == 0 {
			continue // only dots: nothing to read
		}
		if !f(string(n), c) {
			return
		}
	}
}

// behavioralHealthDx is the first diagnosis that is a behavioural-health indication
// (F01-F99, or one of extra), as sent, or "".
func behavioralHealthDx(ds []order.Diagnosis, extra []dxRange) string {
	found := ""
	icdCodes(ds, func(code, asSent string) bool {
		if behavioralHealth.contains(code) {
			found = asSent
			return false
		}
		for _, r := range extra {
			if r.contains(code) {
				found = asSent
				return false
			}
		}
		return true
	})
	return found
}

// The indications of a screening code (code table category screening).
const (
	indicationNone       = iota // no ICD-10-CM diagnosis: nothing says screening
	indicationScreening         // screening codes only (with history and risk factors)
	indicationDiagnostic        // a diagnosis, sign or symptom: the diagnostic rule applies
)

// screeningIndication classifies the diagnoses of an order for a screening exam
// (ICD-10-CM Official Guidelines, section I.C.21.c.5, and the Tabular List notes of
// categories Z11-Z13: screening is testing for disease in those without its signs or
// symptoms; an encounter for a diagnostic examination is coded to the sign or symptom):
//
//   - screening when at least one diagnosis is a screening code (Z11-Z13, e.g. Z12.31
//     screening mammogram, Z12.2 lung cancer screening, Z12.11/Z12.12 colorectal
//     screening, Z13.6 cardiovascular screening) and every other diagnosis is a factor
//     influencing health status (Z00-Z99: history, family history, risk) or nicotine
//     dependence (F17.2, the smoking history lung screening is ordered for);
//   - diagnostic when any other diagnosis is given (a disease, a sign or symptom,
//     R00-R99, an injury...): the exam evaluates it, so the diagnostic rule applies;
//   - none when no ICD-10-CM diagnosis is given.
//
// which is the first diagnosis that decided, as sent.
func screeningIndication(ds []order.Diagnosis) (kind int, which string) {
	screen, other := "", ""
	icdCodes(ds, func(code, asSent string) bool {
		switch {
		case len(code) >= 3 && code[0] == 'Z' && "Z11" <= code[:3] && code[:3] <= "Z13":
			if screen == "" {
				screen = asSent
			}
		case code[0] == 'Z' || strings.HasPrefix(code, "F172"):
		default:
			other = asSent
			return false
		}
		return true
	})
	switch {
	case other != "":
		return indicationDiagnostic, other
	case screen != "":
		return indicationScreening, screen
	}
	return indicationNone, ""
}

// wholeBody reports whether the procedure's body site or text names the whole body.
func wholeBody(p *order.Procedure) bool {
	for _, s := range [...]string{p.BodySite, p.Text} {
		for _, w := range [...]string{"whole body", "whole-body", "total body", "wholebody"} {
			if containsFold(s, w) {
				return true
			}
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case ASCII sub, ignoring case,
// without allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
