package hl7

import (
	"bytes"
	"unicode/utf8"
)

// charset is how a message's text bytes become UTF-8.
type charset uint8

const (
	charsetUTF8    charset = iota // ASCII, UTF-8, or undeclared: bytes as is
	charsetLatin1                 // ISO 8859-1
	charsetWin1252                // Windows-1252 (a superset of ISO 8859-1's printable range)
	charsetUnknown                // another single-byte set: bytes >= 0x80 become U+FFFD
)

// detectCharset reads MSH-18. A message that declares a single-byte character set but is
// entirely valid UTF-8 with non-ASCII text was re-encoded on its way here (a common
// integration fault); it is read as UTF-8, since Latin text in a single-byte set is almost
// never valid UTF-8 by accident.
func detectCharset(m *Message) charset {
	var buf [24]byte
	declared := upperASCII(buf[:0], bytes.TrimSpace(m.segs[0].Field(18).Rep(1).Bytes()))
	var cs charset
	switch string(declared) {
	case "", "ASCII", "UNICODE UTF-8", "UTF-8", "UTF8", "ISO IR6", "ISO IR192", "UNICODE":
		return charsetUTF8
	case "8859/1", "ISO IR100", "ISO-8859-1", "ISO8859-1", "LATIN1":
		cs = charsetLatin1
	case "CP1252", "WINDOWS-1252", "WIN1252":
		cs = charsetWin1252
	default:
		cs = charsetUnknown
	}
	if utf8.Valid(m.raw) {
		return charsetUTF8
	}
	return cs
}

// decode appends b converted to UTF-8 to dst. When no conversion is needed and dst is
// nil it returns b itself.
func (c charset) decode(dst, b []byte) []byte {
	if c == charsetUTF8 || isASCII(b) {
		if dst == nil {
			return b
		}
		return append(dst, b...)
	}
	dst = make([]byte, 0, len(b)+len(b)/2)
	for _, x := range b {
		switch {
		case x < 0x80:
			dst = append(dst, x)
		case c == charsetLatin1 || (c == charsetWin1252 && (x < 0x80 || x > 0x9f)):
			dst = utf8.AppendRune(dst, rune(x))
		case c == charsetWin1252:
			dst = utf8.AppendRune(dst, win1252[x-0x80])
		default:
			dst = utf8.AppendRune(dst, utf8.RuneError)
		}
	}
	return dst
}

// upperASCII appends b upper-cased (ASCII letters only) to dst.
func upperASCII(dst, b []byte) []byte {
	for _, c := range b {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func isASCII(b []byte) bool {
	for _, x := range b {
		if x >= 0x80 {
			return false
		}
	}
	return true
}

// win1252 maps Windows-1252 bytes 0x80..0x9F to Unicode; undefined bytes map to U+FFFD.
var win1252 = [32]rune{
	0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
	0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
}
