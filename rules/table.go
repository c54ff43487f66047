package rules

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// imagingCodes is data/imaging-codes.csv; see data/SOURCES.md. It is read, never
// written.
//
//go:embed data/imaging-codes.csv
var imagingCodes []byte

// Requirement is what a payer requires before a procedure: one of [NotRequired],
// [Required] or [RecordsRequired], spelled as in the code table's prior_auth column.
type Requirement string

// The requirements.
const (
	// NotRequired means no prior authorization is needed.
	NotRequired Requirement = "not_required"
	// Required means prior authorization is needed.
	Required Requirement = "required"
	// RecordsRequired means prior authorization is needed and the payer wants the
	// patient's medical records with the request.
	RecordsRequired Requirement = "records_required"
)

func (r Requirement) valid() bool {
	return r == NotRequired || r == Required || r == RecordsRequired
}

// code is one row of the code table.
type code struct {
	cpt, descriptor, modality, bodySite, category string
	auth                                          Requirement
	// orderModality is modality in the order model's vocabulary (see orderModality).
	orderModality string
}

// parseTable reads a code table in CSV (RFC 4180: quoted fields, CRLF or LF). Columns
// are found by their header name. Every row must have a well-formed, unique CPT code, a
// descriptor, a modality, a body site, a category, a valid prior_auth and a source.
func parseTable(data []byte) (map[string]*code, error) {
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("code table header: %w", err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, name := range []string{"cpt", "descriptor", "modality", "body_site", "category", "prior_auth", "source"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("code table: no %q column", name)
		}
	}
	codes := make(map[string]*code)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("code table: %w", err)
		}
		line, _ := r.FieldPos(0)
		get := func(name string) string { return strings.TrimSpace(rec[col[name]]) }
		c := &code{
			cpt:        get("cpt"),
			descriptor: get("descriptor"),
			modality:   strings.ToUpper(get("modality")),
			bodySite:   get("body_site"),
			category:   strings.ToLower(get("category")),
			auth:       Requirement(strings.ToLower(get("prior_auth"))),
		}
		c.orderModality = orderModality(c.modality)
		switch {
		case !validCPT(c.cpt):
			return nil, fmt.Errorf("code table line %d: cpt %q is not a CPT code", line, c.cpt)
		case codes[c.cpt] != nil:
			return nil, fmt.Errorf("code table line %d: cpt %s listed twice", line, c.cpt)
		case c.descriptor == "" || c.modality == "" || c.bodySite == "" || c.category == "":
			return nil, fmt.Errorf("code table line %d: cpt %s: empty descriptor, modality, body_site or category", line, c.cpt)
		case !c.auth.valid():
			return nil, fmt.Errorf("code table line %d: cpt %s: prior_auth %q is not required, records_required or not_required", line, c.cpt, c.auth)
		case get("source") == "":
			return nil, fmt.Errorf("code table line %d: cpt %s: no source", line, c.cpt)
		}
		codes[c.cpt] = c
	}
	if len(codes) == 0 {
		return nil, errors.New("code table: no rows")
	}
	return codes, nil
}

// validCPT reports whether s has the shape of a CPT code: five digits (Category I), or
// four digits followed by F (Category II) or T (Category III).
func validCPT(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i := range 4 {
		if !isDigit(s[i]) {
			return false
		}
	}
	return isDigit(s[4]) || s[4] == 'F' || s[4] == 'T'
}

// orderModality turns a code-table modality into the order model's DICOM-style
// vocabulary ([order.Procedure].Modality): CT angiography is CT, MRI and MRA are MR, PET
// and PET/CT are PET, SPECT, SPECT/CT and nuclear medicine are NM, DXA is BMD (DICOM
// bone densitometry); XR, US, MG and FL are kept, as is anything else.
func orderModality(m string) string {
	switch m {
	case "CT", "CTA":
		return "CT"
	case "MRI", "MRA":
		return "MR"
	case "PET", "PET-CT":
		return "PET"
	case "SPECT", "SPECT-CT", "NM":
		return "NM"
	case "DXA":
		return "BMD"
	}
	return m
}

// modalityAlias reads a modality named in a payer rule: the table's names, plus the
// DICOM-style names MR (MRI), PT (PET), CR and DX (XR), BMD (DXA) and RF (FL).
func modalityAlias(m string) string {
	m = strings.ToUpper(strings.TrimSpace(m))
	switch m {
	case "MR":
		return "MRI"
	case "PT":
		return "PET"
	case "CR", "DX":
		return "XR"
	case "BMD":
		return "DXA"
	case "RF":
		return "FL"
	}
	return m
}

// modalityFamily is the broader modality a table modality belongs to, or "" if none: a
// payer rule for the family (CT) also covers its members (CTA) at a lower precedence.
func modalityFamily(m string) string {
	switch m {
	case "CTA":
		return "CT"
	case "MRA":
		return "MRI"
	case "PET-CT":
		return "PET"
	case "SPECT-CT":
		return "SPECT"
	}
	return ""
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func isLetter(b byte) bool { return 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' }

func isAlnum(b byte) bool { return isDigit(b) || isLetter(b) }
