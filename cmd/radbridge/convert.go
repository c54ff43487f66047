package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/mapping/fhirmap"
)

// cmdConvert implements `radbridge convert [--indent] FILE...`: each HL7 v2 order
// (ORM^O01, OMI^O23, OML^O21) or result (ORU^R01) message in the files becomes a FHIR R4
// transaction Bundle (fhirmap.V2ToBundle) on stdout.
//
// Output: one Bundle per message, in input order, each a JSON document on one line
// (NDJSON), so that a file of one message gives exactly one JSON document and a file of
// many (concatenated, MLLP-framed or an FHS/BHS batch) gives one line per message. With
// --indent each Bundle is indented instead, the documents separated by a newline (a JSON
// stream, no longer one per line).
//
// The mapping's issues go to stderr, one line each, prefixed by the file, the message's
// index in the file and its MSH-10. Exit status: 0 when every message was converted, 1
// when a file cannot be read, holds no message, or a message cannot be parsed or
// converted (not an order or result message, or no order in it: the other messages are
// still converted), 2 on bad usage. FILE "-" reads standard input.
func cmdConvert(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	indent := fs.Bool("indent", false, "indent each Bundle (the output is then not one document per line)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: radbridge convert [--indent] FILE...  (HL7 v2 ORM/OMI/OML/ORU -> FHIR R4 Bundle JSON; FILE may be -)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	code := 0
	for _, name := range fs.Args() {
		if !convertFile(name, *indent, stdout, stderr) {
			code = 1
		}
	}
	return code
}

// convertFile converts every message of one file; it reports whether all converted.
func convertFile(name string, indent bool, stdout, stderr io.Writer) bool {
	data, err := readInput(name) // send.go: "-" is standard input
	if err != nil {
		fmt.Fprintf(stderr, "radbridge convert: %v\n", err)
		return false
	}
	ok, n := true, 0
	sc := hl7.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		n++
		where := fmt.Sprintf("%s message %d", name, n)
		m, err := hl7.Parse(sc.Bytes())
		if err != nil {
			fmt.Fprintf(stderr, "radbridge convert: %s: %v\n", where, err)
			ok = false
			continue
		}
		if id := m.Header().ControlID; id != "" {
			where += " (" + id + ")"
		}
		doc, issues := fhirmap.V2ToBundle(m)
		for _, is := range issues {
			fmt.Fprintf(stderr, "radbridge convert: %s: %s %d %s: %s\n", where, is.Location, is.Code, is.Severity, is.Text)
		}
		if doc == nil {
			fmt.Fprintf(stderr, "radbridge convert: %s: %s not converted\n", where, m.Header().MessageType())
			ok = false
			continue
		}
		if err := writeDoc(stdout, doc, indent); err != nil {
			fmt.Fprintf(stderr, "radbridge convert: writing output: %v\n", err)
			return false
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(stderr, "radbridge convert: %s: %v\n", name, err)
		return false
	}
	if n == 0 {
		fmt.Fprintf(stderr, "radbridge convert: %s: no HL7 v2 message\n", name)
		return false
	}
	return ok
}

// writeDoc writes one JSON document and a newline.
func writeDoc(w io.Writer, doc []byte, indent bool) error {
	if indent {
		var b bytes.Buffer
		if err := json.Indent(&b, doc, "", "  "); err != nil {
			return err
		}
		doc = b.Bytes()
	}
	if _, err := w.Write(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
