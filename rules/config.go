package rules

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/radbridge/radbridge/order"
)

// Defaults of [Config].
const (
	// DefaultDueStandard is how long a payer has to decide a routine prior
	// authorization: 7 days.
	DefaultDueStandard = 7 * 24 * time.Hour
	// DefaultDueExpedited is how long a payer has to decide an expedited (urgent, ASAP
	// or stat) prior authorization: 72 hours.
	DefaultDueExpedited = 72 * time.Hour
)

// Config configures a [Checker]. The zero Config is valid: the embedded code table's
// defaults for every payer, 7 days to decide a routine authorization and 72 hours an
// expedited one, no network table, no hospital facility known. It carries json and
// yaml tags (snake_case) so that the command can read it from its configuration file
// (under prior_auth); with YAML, durations are written like "72h".
//
// An example, with a PPO profile (Kaiser WA's "PPO plans differ"):
//
//	prior_auth:
//	  networks_file: /etc/radbridge/networks.csv
//	  facility_npi: "1245319599"          # the imaging centre, when an order names none
//	  hospital_facilities: [HOSP_A, "1234567893"]
//	  setting_codes:
//	    - {field: PV1-18, code: UCH, setting: hospital-urgent-care}
//	    - {field: PV1-10, code: ASU, setting: ambulatory-surgery}
//	  payers:
//	    - id: KPWA-PPO
//	      name: Kaiser Permanente WA PPO
//	      match: {payer_id: KPWA, plan_type: PPO}
//	      rules:
//	        - {modality: CT, prior_auth: not_required, note: "PPO: CT not managed"}
//	        - {cpt_range: 74261-74263, prior_auth: records_required}
//	      exempt_settings:
//	        - {setting: emergency, within: 24h}
//	        - {setting: inpatient, within: 72h}
//	        - {setting: urgent-care, within: 24h}   # freestanding too
//	        - {setting: ambulatory-surgery, within: 24h}
//	      screening_prior_auth: required
//	      behavioral_health_dx: ["R41.81"]
//	      eligibility: {url: "https://payer.example.org/fhir/CoverageEligibilityRequest"}
//	    - id: KPWA
//	      name: Kaiser Permanente WA
//	      match: {payer_id: KPWA}
type Config struct {
	// Payers are the payer profiles whose rules override the code table's prior_auth for
	// their members. Default: none, so every payer gets the table's defaults and is
	// reported unknown (the verdicts' payer_unknown flag).
	Payers []PayerProfile `json:"payers,omitempty" yaml:"payers,omitempty"`
	// NetworksFile is the network participation table: a CSV file with the header
	// payer,plan,network,facility_npi,effective_from,effective_to (ISO dates, an empty
	// effective_to open-ended), read by [New]. Default: none, and network
	// participation is not checked.
	NetworksFile string `json:"networks_file,omitempty" yaml:"networks_file,omitempty"`
	// FacilityNPI is the performing facility's NPI for orders that name none (v2 MSH-6
	// or PV1-3.4, FHIR ServiceRequest.performer). Default: none.
	FacilityNPI string `json:"facility_npi,omitempty" yaml:"facility_npi,omitempty"`
	// HospitalFacilities lists the facilities that are hospitals, by the identifiers
	// orders carry for the encounter's facility (PV1-3.4 namespace or universal ID,
	// Encounter.serviceProvider name or identifier), matched ignoring case: urgent care
	// at one of them is hospital-based. Default: none, so no urgent care is known to
	// be hospital-based unless a setting code says so.
	HospitalFacilities []string `json:"hospital_facilities,omitempty" yaml:"hospital_facilities,omitempty"`
	// SettingCodes are the site's codes for settings in the user-defined fields
	// (PV1-18 patient type, PV1-10 hospital service, PV1-3 point of care, PV1-4
	// admission type, FHIR locationCode); they come before the built-in codes (see the
	// package doc). Default: none.
	SettingCodes []SettingCode `json:"setting_codes,omitempty" yaml:"setting_codes,omitempty"`
	// DueStandard is the time a payer has to decide a routine authorization, counted
	// from the check: Authorization.DueBy is the check time plus DueStandard. Default:
	// 7 days ([DefaultDueStandard]); zero means the default; negative is invalid.
	DueStandard time.Duration `json:"due_standard,omitempty" yaml:"due_standard,omitempty"`
	// DueExpedited is the same for expedited orders (urgent, asap, stat; see
	// order.Priority.Expedited). Default: 72 hours ([DefaultDueExpedited]); zero means
	// the default; negative is invalid.
	DueExpedited time.Duration `json:"due_expedited,omitempty" yaml:"due_expedited,omitempty"`
}

// PayerProfile is one payer's (or one plan's) prior-authorization policy: rules that
// override the code table for its members, the settings that exempt them, and how to
// ask the payer about eligibility. An order uses the profile that matches its primary
// coverage most specifically (see [Match]).
type PayerProfile struct {
	// ID names the profile in verdicts and is the payer argument of
	// [Checker.Preauth]. Without Match it is also what the profile matches: the primary
	// coverage's plan (IN1-2.1 / Coverage.class plan) or, failing that, its payer
	// (IN1-3.1 / Coverage.payor identifier), ignoring case. Required and unique,
	// ignoring case.
	ID string `json:"id" yaml:"id"`
	// Name is the payer's name for people, used in reasons and finding texts. Default:
	// the ID.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Rules are the overrides. When several match a code, the most specific wins: an
	// exact CPT, then a CPT range (the narrowest range first), then a modality (an exact
	// modality before a modality family: CT covers CTA, MRI covers MRA, PET covers
	// PET-CT, SPECT covers SPECT-CT), then a category. Among rules equally specific the
	// first listed wins. Codes no rule matches keep the table's prior_auth.
	Rules []Override `json:"rules,omitempty" yaml:"rules,omitempty"`
	// Match selects the coverages the profile applies to. Default: by ID, as above.
	Match Match `json:"match,omitzero" yaml:"match,omitempty"`
	// ExemptSettings are the settings whose orders need no prior authorization when
	// the exam is ordered and provided there (see [ExemptSetting]). Default: the
	// Kaiser Permanente WA list, emergency (24h), inpatient (72h), hospital-urgent-care
	// (24h) and ambulatory-surgery (24h). Nil (the key left out) means the default; an
	// empty list exempts nothing.
	ExemptSettings []ExemptSetting `json:"exempt_settings,omitempty" yaml:"exempt_settings,omitempty"`
	// ScreeningPriorAuth is the requirement for a screening code (code table category
	// screening) ordered with a screening diagnosis only (ICD-10-CM Z11-Z13). Default:
	// not_required, as the payers' insurance guides treat preventive screening. A
	// CPT or cpt_range rule for the code comes first.
	ScreeningPriorAuth Requirement `json:"screening_prior_auth,omitempty" yaml:"screening_prior_auth,omitempty"`
	// BehavioralHealthDx adds ICD-10-CM codes or ranges (e.g. "R41.81", "G30-G31") to
	// the behavioural-health indications, F01-F99, for which SPECT and MRA need
	// medical records. Default: none.
	BehavioralHealthDx []string `json:"behavioral_health_dx,omitempty" yaml:"behavioral_health_dx,omitempty"`
	// Eligibility is the payer's eligibility service. Default: none, and coverage is
	// not verified with the payer.
	Eligibility EligibilityService `json:"eligibility,omitzero" yaml:"eligibility,omitempty"`
	// PAS is the payer's prior-authorization endpoint (package payer). Default: none:
	// decisions are recorded through the API.
	PAS *PAS `json:"pas,omitempty" yaml:"pas,omitempty"`
	// Decision are the payer's decision windows, counted from the submission. Default:
	// 72 hours expedited, 7 days standard.
	Decision DecisionWindows `json:"decision,omitzero" yaml:"decision,omitempty"`
	// AppealWindow is how long after a denial an appeal may be filed. Default: 180
	// days; negative is invalid.
	AppealWindow time.Duration `json:"appeal_window,omitempty" yaml:"appeal_window,omitempty"`
}

// Match is what a payer profile matches in the primary coverage. Every key set must
// match, ignoring case; the profile matching the most specific keys wins (plan_id
// weighs more than payer_id, which weighs more than plan_type), the first listed among
// equals. An order whose coverage no profile matches gets the default rules, reported
// as an unknown payer.
type Match struct {
	// PayerID is the payer identifier: IN1-3.1, Coverage.payor identifier.
	PayerID string `json:"payer_id,omitempty" yaml:"payer_id,omitempty"`
	// PlanID is the plan identifier: IN1-2.1, Coverage.class (plan) value.
	PlanID string `json:"plan_id,omitempty" yaml:"plan_id,omitempty"`
	// PlanType is the plan type: IN1-15, Coverage.type (PPO, HMO, POS, EPO...).
	PlanType string `json:"plan_type,omitempty" yaml:"plan_type,omitempty"`
}

// ExemptSetting is one setting whose orders are exempt from prior authorization when
// the exam is ordered and provided in it (Kaiser WA: "ordered and provided during"
// emergency room visits, hospital-based urgent care, hospital inpatient services and
// ambulatory surgery).
type ExemptSetting struct {
	// Setting is emergency, inpatient, urgent-care (any urgent care, freestanding
	// included), hospital-urgent-care or ambulatory-surgery. Required.
	Setting order.EncounterClass `json:"setting" yaml:"setting"`
	// Within is how long after the order an exam still counts as provided during the
	// encounter, when the encounter's end (PV1-45, Encounter.period.end) is not known.
	// Default: 24h, 72h for inpatient; negative is invalid.
	Within time.Duration `json:"within,omitempty" yaml:"within,omitempty"`
}

// EligibilityService is where a payer answers CoverageEligibilityRequests.
type EligibilityService struct {
	// URL is the endpoint the CoverageEligibilityRequest (purpose validation) is posted
	// to. Default: none.
	URL string `json:"url,omitempty" yaml:"url,omitempty"`
}

// SettingCode maps a site's code in one field to a setting.
type SettingCode struct {
	// Field is PV1-18 (patient type), PV1-10 (hospital service), PV1-3 (point of care,
	// PV1-3.1), PV1-4 (admission type) or location_code (FHIR
	// ServiceRequest.locationCode). Required.
	Field string `json:"field" yaml:"field"`
	// Code is the value, matched ignoring case and surrounding space. Required.
	Code string `json:"code" yaml:"code"`
	// Setting is emergency, inpatient, outpatient, urgent-care, hospital-urgent-care
	// or ambulatory-surgery. Required.
	Setting order.EncounterClass `json:"setting" yaml:"setting"`
}

// Override sets the prior-authorization requirement of the codes it matches. Exactly
// one of CPT, CPTRange, Modality and Category must be set.
type Override struct {
	// CPT is one CPT code, e.g. "77080". It is the only matcher that also applies to
	// codes that are not in the code table.
	CPT string `json:"cpt,omitempty" yaml:"cpt,omitempty"`
	// CPTRange is an inclusive range of CPT codes of the same shape, e.g.
	// "70450-70498". It applies to the table's codes in the range.
	CPTRange string `json:"cpt_range,omitempty" yaml:"cpt_range,omitempty"`
	// Modality is a code-table modality, case-insensitive: CT, CTA, MRI, MRA, PET,
	// PET-CT, SPECT, SPECT-CT, NM, XR, US, MG, DXA, FL. MR, PT, CR, DX, BMD and RF are
	// read as MRI, PET, XR, XR, DXA and FL. It must match at least one table code.
	Modality string `json:"modality,omitempty" yaml:"modality,omitempty"`
	// Category is a code-table category, case-insensitive: advanced, basic or
	// screening. It must match at least one table code.
	Category string `json:"category,omitempty" yaml:"category,omitempty"`
	// PriorAuth is the requirement for the matched codes: required, records_required
	// or not_required. Required.
	PriorAuth Requirement `json:"prior_auth" yaml:"prior_auth"`
	// Note is an optional reference for people (e.g. the payer document), appended to
	// the reasons this rule produces.
	Note string `json:"note,omitempty" yaml:"note,omitempty"`
}

// Validate reports the first invalid field of c, naming it (e.g.
// "rules: payers[1].rules[0].cpt_range: ..."). It does not read the code table:
// [New] also checks that every modality and category rule matches a table code.
func (c Config) Validate() error {
	if c.DueStandard < 0 {
		return fmt.Errorf("rules: due_standard: %v is negative", c.DueStandard)
	}
	if c.DueExpedited < 0 {
		return fmt.Errorf("rules: due_expedited: %v is negative", c.DueExpedited)
	}
	if s := strings.TrimSpace(c.FacilityNPI); s != "" && !ValidNPI(s) {
		return fmt.Errorf("rules: facility_npi: %q is not a valid NPI", c.FacilityNPI)
	}
	for i, sc := range c.SettingCodes {
		if _, ok := settingField(sc.Field); !ok {
			return fmt.Errorf("rules: setting_codes[%d].field: %q is not PV1-18, PV1-10, PV1-3, PV1-4 or location_code", i, sc.Field)
		}
		if strings.TrimSpace(sc.Code) == "" {
			return fmt.Errorf("rules: setting_codes[%d].code: empty", i)
		}
		if !knownSetting(sc.Setting, true) {
			return fmt.Errorf("rules: setting_codes[%d].setting: %q is not a setting", i, sc.Setting)
		}
	}
	seen := make(map[string]int, len(c.Payers))
	for i, p := range c.Payers {
		id := strings.TrimSpace(p.ID)
		if id == "" {
			return fmt.Errorf("rules: payers[%d].id: empty", i)
		}
		key := strings.ToLower(id)
		if j, ok := seen[key]; ok {
			return fmt.Errorf("rules: payers[%d].id: %q already used by payers[%d]", i, p.ID, j)
		}
		seen[key] = i
		if field, err := p.validateWorkflow(); err != nil {
			return fmt.Errorf("rules: payers[%d]%s: %w", i, field, err)
		}
		for j, o := range p.Rules {
			if field, err := o.validate(); err != nil {
				return fmt.Errorf("rules: payers[%d].rules[%d]%s: %w", i, j, field, err)
			}
		}
		if err := p.validate(); err != nil {
			return fmt.Errorf("rules: payers[%d].%w", i, err)
		}
	}
	return nil
}

// validate checks a profile's fields other than its ID and rules; the error starts
// with the field's name.
func (p PayerProfile) validate() error {
	for j, e := range p.ExemptSettings {
		if !knownSetting(e.Setting, false) || e.Setting == order.ClassOutpatient {
			return fmt.Errorf("exempt_settings[%d].setting: %q is not emergency, inpatient, urgent-care, hospital-urgent-care or ambulatory-surgery", j, e.Setting)
		}
		if e.Within < 0 {
			return fmt.Errorf("exempt_settings[%d].within: %v is negative", j, e.Within)
		}
	}
	if r := p.ScreeningPriorAuth; r != "" && !Requirement(strings.ToLower(string(r))).valid() {
		return fmt.Errorf("screening_prior_auth: %q is not required, records_required or not_required", r)
	}
	for j, d := range p.BehavioralHealthDx {
		if _, err := parseDxRange(d); err != nil {
			return fmt.Errorf("behavioral_health_dx[%d]: %w", j, err)
		}
	}
	if u := strings.TrimSpace(p.Eligibility.URL); u != "" {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return fmt.Errorf("eligibility.url: %q is not an http or https URL", p.Eligibility.URL)
		}
	}
	return nil
}

// knownSetting reports whether c names a setting: a class other than unknown;
// outpatient only when withOutpatient.
func knownSetting(c order.EncounterClass, withOutpatient bool) bool {
	switch c {
	case order.ClassEmergency, order.ClassInpatient, order.ClassUrgentCare, order.ClassHospitalUrgentCare,
		order.ClassAmbulatorySurgery:
		return true
	case order.ClassOutpatient:
		return withOutpatient
	}
	return false
}

// validate checks one override. It returns the bad field as ".name" (or "" when the
// rule as a whole is wrong) and the problem.
func (o Override) validate() (field string, err error) {
	n := 0
	for _, s := range []string{o.CPT, o.CPTRange, o.Modality, o.Category} {
		if strings.TrimSpace(s) != "" {
			n++
		}
	}
	if n != 1 {
		return "", errors.New("exactly one of cpt, cpt_range, modality and category must be set")
	}
	if !Requirement(strings.ToLower(string(o.PriorAuth))).valid() {
		return ".prior_auth", fmt.Errorf("%q is not required, records_required or not_required", o.PriorAuth)
	}
	if s := strings.TrimSpace(o.CPT); s != "" && !validCPT(s) {
		return ".cpt", fmt.Errorf("%q is not a CPT code (5 digits, or 4 digits and F or T)", o.CPT)
	}
	if strings.TrimSpace(o.CPTRange) != "" {
		if _, _, err := parseRange(o.CPTRange); err != nil {
			return ".cpt_range", err
		}
	}
	return "", nil
}

// parseRange reads "70450-70498": two CPT codes of the same shape, low first.
func parseRange(s string) (lo, hi string, err error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
	switch {
	case !ok:
		return "", "", fmt.Errorf("%q is not a range like 70450-70498", s)
	case !validCPT(lo) || !validCPT(hi):
		return "", "", fmt.Errorf("%q: both ends must be CPT codes", s)
	case lo[4] != hi[4] && !(isDigit(lo[4]) && isDigit(hi[4])):
		return "", "", fmt.Errorf("%q: both ends must be the same kind of CPT code", s)
	case lo > hi:
		return "", "", fmt.Errorf("%q: the low end is above the high end", s)
	}
	return lo, hi, nil
}

// inRange reports whether cpt lies in [lo, hi] and has the same shape (all digits, or
// the same letter in the fifth place).
func inRange(cpt, lo, hi string) bool {
	if len(cpt) != 5 || len(lo) != 5 {
		return false
	}
	if isDigit(lo[4]) != isDigit(cpt[4]) || !isDigit(cpt[4]) && cpt[4] != lo[4] {
		return false
	}
	return lo <= cpt && cpt <= hi
}

// rangeWidth is hi - lo, comparing the first four digits when codes end in a letter.
func rangeWidth(lo, hi string) int {
	return atoi4(hi)*10 + int(hi[4]-'0') - atoi4(lo)*10 - int(lo[4]-'0')
}

func atoi4(s string) int {
	return int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
}

func (c Config) dueStandard() time.Duration {
	if c.DueStandard == 0 {
		return DefaultDueStandard
	}
	return c.DueStandard
}

func (c Config) dueExpedited() time.Duration {
	if c.DueExpedited == 0 {
		return DefaultDueExpedited
	}
	return c.DueExpedited
}
