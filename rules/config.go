package rules

import (
	"errors"
	"fmt"
	"strings"
	"time"
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
// expedited one. It carries json and yaml tags (snake_case) so that the command can read
// it from its configuration file; with YAML, durations are written like "72h".
type Config struct {
	// Payers are the payer profiles whose rules override the code table's prior_auth for
	// their members. Default: none, so every payer gets the table's defaults.
	Payers []PayerProfile `json:"payers,omitempty" yaml:"payers,omitempty"`
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
// override the code table for its members. An order uses the profile whose ID equals
// the primary coverage's plan or, failing that, its payer (see [Checker.Check]).
type PayerProfile struct {
	// ID is matched, ignoring case, against order.Coverage Plan and Payer (IN1-2 plan,
	// IN1-3 payer / Coverage.class plan, Coverage.payor) and against the payer argument
	// of [Checker.Preauth]. Required and unique, ignoring case.
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
	}
	return nil
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
