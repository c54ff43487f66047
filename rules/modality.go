package rules

import (
	"strings"

	"github.com/radbridge/radbridge/order"
)

// advancedRange is a range of CPT codes of one advanced-imaging family.
type advancedRange struct {
	lo, hi   string
	modality string // a code-table modality: CT, MRI, PET, SPECT
	what     string
}

// advancedRanges are the CPT code families of advanced imaging in the Radiology section
// of CPT (70010-79999: diagnostic radiology 70010-76499, breast imaging 77046-77067,
// nuclear medicine 78012-79999), as the payers' programmes list them: the ranges the
// code table's advanced rows fall in (their sources are the table's), completed by the
// codes cited here. A code in a range but not in the table, such as 70336 (MRI of the
// temporomandibular joints, genhealth.ai/code/cpt4/70336), is advanced imaging of that
// modality; other radiology codes (X-ray, ultrasound, fluoroscopy, nuclear medicine
// planar studies) are not.
var advancedRanges = [...]advancedRange{
	{"70336", "70336", "MRI", "MRI temporomandibular joint"},
	{"70450", "70498", "CT", "CT/CTA head and neck"},
	{"70540", "70559", "MRI", "MRI/MRA head, neck and brain"},
	{"71250", "71275", "CT", "CT/CTA chest"},
	{"71550", "71555", "MRI", "MRI/MRA chest"},
	{"72125", "72133", "CT", "CT spine"},
	{"72141", "72159", "MRI", "MRI/MRA spine"},
	{"72191", "72194", "CT", "CT/CTA pelvis"},
	{"72195", "72198", "MRI", "MRI/MRA pelvis"},
	{"73200", "73206", "CT", "CT/CTA upper extremity"},
	{"73218", "73225", "MRI", "MRI/MRA upper extremity"},
	{"73700", "73706", "CT", "CT/CTA lower extremity"},
	{"73718", "73725", "MRI", "MRI/MRA lower extremity"},
	{"74150", "74178", "CT", "CT/CTA abdomen and pelvis"},
	{"74181", "74185", "MRI", "MRI/MRA abdomen"},
	{"74261", "74263", "CT", "CT colonography"},
	{"75557", "75565", "MRI", "cardiac MRI"},
	{"75571", "75574", "CT", "cardiac CT/CTA"},
	{"75635", "75635", "CT", "CTA aorta with runoff"},
	{"76497", "76497", "CT", "unlisted CT"},
	{"76498", "76498", "MRI", "unlisted MR"},
	{"77046", "77049", "MRI", "breast MRI"},
	{"78429", "78434", "PET", "cardiac PET"},
	{"78459", "78459", "PET", "cardiac PET"},
	{"78491", "78492", "PET", "cardiac PET"},
	{"78607", "78607", "SPECT", "brain SPECT"},
	{"78608", "78609", "PET", "brain PET"},
	{"78803", "78803", "SPECT", "SPECT"},
	{"78811", "78816", "PET", "PET and PET/CT"},
	{"78830", "78832", "SPECT", "SPECT and SPECT/CT"},
}

// guess is advanced imaging recognised for a code the table does not list.
type guess struct {
	modality string // a code-table modality
	why      string // "CPT range 70540-70559, MRI/MRA head, neck and brain", "modality MR"
}

// guessAdvanced recognises advanced imaging for a code outside the table: by its CPT
// range, else by the order's modality (OBR-24, IPC-5, ServiceRequest.orderDetail or
// category in DICOM): CT, MR and PET, the modalities Kaiser WA names as needing
// authorization. A nuclear medicine (NM) modality alone is not enough: SPECT is told
// from planar studies by its code. ok is false when nothing says advanced imaging.
func guessAdvanced(cpt string, p *order.Procedure) (guess, bool) {
	if validCPT(cpt) {
		for _, r := range advancedRanges {
			if inRange(cpt, r.lo, r.hi) {
				w := "CPT range " + r.lo
				if r.hi != r.lo {
					w += "-" + r.hi
				}
				return guess{modality: r.modality, why: w + ", " + r.what}, true
			}
		}
	}
	switch m := strings.ToUpper(strings.TrimSpace(p.Modality)); m {
	case "CT":
		return guess{modality: "CT", why: "modality CT"}, true
	case "MR", "MRI", "MRA":
		return guess{modality: "MRI", why: "modality " + m}, true
	case "PET", "PT":
		return guess{modality: "PET", why: "modality " + m}, true
	}
	return guess{}, false
}
