package hl7

import "unicode/utf8"

// MaxControlIDLength is the longest control ID, in characters, that this package echoes:
// in MSA-2 (the control ID of the message acknowledged) and in BHS-12 and FHS-12 (the
// control ID of the batch or file a response batch answers). A longer one is cut, so
// that a sender cannot make an acknowledgment carry more than HL7 allows.
//
// HL7 has given MSH-10 and MSA-2 (ST) these lengths: 20 characters from v2.1 through
// v2.5.1, 199 in v2.6, and a conformance length of 199 from v2.7 on. BHS-11/BHS-12 and
// FHS-11/FHS-12 are 20 in every version. The limit is 199 whatever the version: the echo
// exists so that the sender can match the answer with what it sent, and cutting a
// 36-character UUID from a v2.3 or v2.5.1 sender (common, if not conformant) to 20 would
// make every answer unmatchable, so that the sender resends forever. 199 is the most any
// version allows, and it still bounds what a hostile sender can have echoed.
const MaxControlIDLength = 199

// truncateEncoded cuts the encoded value s (escape sequences included, delimiters d) to
// at most limit characters, counted as HL7 v2.7 section 2.7 counts them: every character
// between the escape characters of an escape sequence counts, the escape characters do
// not. The cut never falls inside an escape sequence or a UTF-8 character (when s is
// valid UTF-8; otherwise each byte is a character). When d has a truncation character
// (MSH-2 of five characters), the truncation pattern of v2.7 section 2.5.5.2 is applied:
// the value is cut to limit-1 characters and the truncation character appended, so that
// the receiver can tell. A value within the limit is returned as it is.
func truncateEncoded(s string, d Delimiters, limit int) string {
	if len(s) <= limit {
		return s // every character is at least one byte
	}
	keep := limit
	if d.Truncation != 0 {
		keep--
	}
	text := utf8.ValidString(s)
	n, cut := 0, 0 // characters counted, and the byte offset up to which they fit
	for i := 0; i < len(s); {
		size, chars := 1, 1
		switch {
		case d.Escape != 0 && s[i] == d.Escape:
			if j := indexByteFrom(s, d.Escape, i+1); j > 0 {
				size, chars = j+1-i, j-i-1
			}
		case text:
			_, size = utf8.DecodeRuneInString(s[i:])
		}
		if n+chars > limit {
			break
		}
		n += chars
		i += size
		if n <= keep {
			cut = i
		}
		if i == len(s) {
			return s // all of it fits after all
		}
	}
	if d.Truncation == 0 {
		return s[:cut]
	}
	return s[:cut] + string(d.Truncation)
}

// indexByteFrom returns the index of the first c in s at or after from, or -1.
func indexByteFrom(s string, c byte, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
