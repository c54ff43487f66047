package fhir

// Validator is the validation gate of the FHIR API, for use without a server
// (radbridge check). It is safe for concurrent use.
type Validator struct {
	g *gate
}

// NewValidator returns a Validator.
func NewValidator() (*Validator, error) {
	g, err := newGate()
	if err != nil {
		return nil, err
	}
	return &Validator{g: g}, nil
}

// Validate checks data as one FHIR R4 resource of any type, as the API checks a request
// body. It returns the resource type it read and, when the resource is not valid, an
// *Error: Status 400 when the input is not a FHIR resource at all (JSON syntax, no
// resourceType), 422 when it is one but breaks the R4 rules; its issues say where.
func (v *Validator) Validate(data []byte) (string, *Error) {
	f, err := v.g.check(data, "")
	return f.ResourceType, err
}
