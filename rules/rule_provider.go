package rules

import (
	"strconv"
	"strings"

	"github.com/radbridge/radbridge/order"
)

// The v2 location and FHIR path of the ordering provider.
const (
	locProvider  = "ORC-12"
	fhirProvider = "ServiceRequest.requester"
)

// checkProvider requires an ordering provider with a valid NPI.
func checkProvider(fs []order.Finding, p *order.Provider) []order.Finding {
	npi := strings.TrimSpace(p.NPI)
	switch {
	case npi == "" && strings.TrimSpace(p.ID) == "" && strings.TrimSpace(p.Family) == "" &&
		strings.TrimSpace(p.Given) == "":
		return append(fs, finding(CodeProviderMissing, order.SeverityError, locProvider, fhirProvider,
			"The order names no ordering provider: send the ordering provider with their NPI."))
	case npi == "":
		return append(fs, finding(CodeNPIMissing, order.SeverityError, locProvider, fhirProvider,
			"The ordering provider"+providerName(p)+" has no NPI: send their 10-digit National Provider Identifier."))
	}
	if problem := npiProblem(npi); problem != "" {
		return append(fs, finding(CodeNPIInvalid, order.SeverityError, locProvider, fhirProvider,
			"The ordering provider's NPI "+quote(npi)+" is not valid ("+problem+"): correct it."))
	}
	return fs
}

// ValidNPI reports whether s is a well-formed National Provider Identifier: 10 digits
// whose last is the Luhn (ISO/IEC 7812, mod 10 "double-add-double") check digit of the
// first nine, computed as if prefixed by 80840 (CMS, "Requirements for NPI Check
// Digit": the constant 24 stands for the prefix). It does not check that the NPI was
// ever issued.
func ValidNPI(s string) bool { return npiProblem(s) == "" }

// npiProblem says what is wrong with an NPI, or "" if nothing.
func npiProblem(s string) string {
	if len(s) != 10 {
		for i := 0; i < len(s); i++ {
			if !isDigit(s[i]) {
				return "it must be 10 digits and has other characters"
			}
		}
		return "it must be 10 digits and has " + strconv.Itoa(len(s))
	}
	sum := 24 // the 80840 prefix
	for i := range 9 {
		b := s[i]
		if !isDigit(b) {
			return "it must be 10 digits and has other characters"
		}
		d := int(b - '0')
		if i%2 == 0 { // every other digit, starting with the rightmost of the nine
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	if !isDigit(s[9]) {
		return "it must be 10 digits and has other characters"
	}
	if check := (10 - sum%10) % 10; int(s[9]-'0') != check {
		return "the check digit does not match"
	}
	return ""
}

// providerName is ` "Family, Given"` (quoted) or "" when the provider has no name.
func providerName(p *order.Provider) string {
	family, given := strings.TrimSpace(p.Family), strings.TrimSpace(p.Given)
	switch {
	case family != "" && given != "":
		return " " + quote(family+", "+given)
	case family != "" || given != "":
		return " " + quote(family+given)
	}
	return ""
}
