package mapping

import (
	"bytes"
	"strings"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/order"
)

// npiOID is the OID of the US National Provider Identifier (HL7 table 0363 "NPI").
const npiOID = "2.16.840.1.113883.4.6"

// provider reads the first repetition of an XCN. The ID is an NPI when XCN.13 (identifier
// type) is NPI, or the assigning authority XCN.9 is NPI by namespace or by OID; otherwise
// it is kept as ID with the assigning authority as IDSystem. Suffix is XCN.5 and the
// degree XCN.7 joined by a space (both are HumanName.suffix in the v2-to-FHIR IG). It
// reports false when the XCN holds neither an ID nor a family or given name.
func (mp *mapper) provider(v hl7.Value) (order.Provider, bool) {
	id := mp.comp(v, 1)
	p := order.Provider{
		Family: mp.comp(v, 2), // FN.1 surname
		Given:  mp.compText(v, 3),
		Suffix: joinNonEmpty(mp.compText(v, 5), mp.compText(v, 7)),
		Prefix: mp.compText(v, 6),
	}
	if id == "" && p.Family == "" && p.Given == "" {
		return order.Provider{}, false
	}
	switch {
	case mp.isNPI(v):
		p.NPI = id
	case id != "":
		p.ID, p.IDSystem = id, mp.authority(v, 9)
	}
	return p, true
}

// isNPI reports whether an XCN's identifier type (XCN.13) or assigning authority (XCN.9)
// names the NPI.
func (mp *mapper) isNPI(v hl7.Value) bool {
	return bytes.EqualFold(mp.raw(v, 13), []byte("NPI")) ||
		bytes.EqualFold(bytes.TrimSpace(mp.piece(v, 9, 1)), []byte("NPI")) ||
		string(bytes.TrimSpace(mp.piece(v, 9, 2))) == npiOID
}

// interpreter reads OBR-32 (NDL): its first component is a CNN written as subcomponents
// (id&family&given&middle&suffix&prefix&degree&source table&authority namespace&
// authority universal ID&type). Senders that write an XCN there instead (the
// components hold the name and OBR-32.2 is not a timestamp) are read as XCN.
func (mp *mapper) interpreter(v hl7.Value) (order.Provider, bool) {
	cnn := mp.piece(v, 1, 0)
	if mp.d.Subcomponent == 0 || bytes.IndexByte(cnn, mp.d.Subcomponent) < 0 {
		if _, _, isTime := mp.readTime(v.Component(2)); !isTime && mp.comp(v, 2) != "" {
			return mp.provider(v)
		}
	}
	sub := func(n int) string { return mp.get(v, 1, n) }
	id := sub(1)
	p := order.Provider{
		Family: sub(2),
		Given:  sub(3),
		Suffix: joinNonEmpty(sub(5), sub(7)),
		Prefix: sub(6),
	}
	if id == "" && p.Family == "" && p.Given == "" {
		return order.Provider{}, false
	}
	ns, uid := sub(9), sub(10)
	switch {
	case strings.EqualFold(ns, "NPI") || uid == npiOID:
		p.NPI = id
	case id != "":
		p.ID, p.IDSystem = id, ns
		if ns == "" {
			p.IDSystem = uid
		}
	}
	return p, true
}

// SignerName is the display form of a signer, which both mappings write into
// order.Signature.Signer: "Family, Given", or whichever of the two is present, else the
// NPI, else the ID.
func SignerName(p order.Provider) string {
	switch {
	case p.Family != "" && p.Given != "":
		return p.Family + ", " + p.Given
	case p.Family != "":
		return p.Family
	case p.Given != "":
		return p.Given
	case p.NPI != "":
		return p.NPI
	}
	return p.ID
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}
