package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/radbridge/radbridge/store/bolt"
)

// cmdRecover runs bolt.Recover on a data directory whose store does not open because
// its write-ahead log is damaged, and reports what it kept and what it could not.
func cmdRecover(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("recover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", "", "data directory of the stopped server (required)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: radbridge recover --data DIR

Recovers a store that does not open because its write-ahead log lost records that had
been acknowledged. Stop the server first. recover keeps every log record it can prove:
each intact record the B+tree file needs, before the damage and after it, applied whole
in order; it then rebuilds the indexes and counts from the records, so that the store is
consistent, and keeps ID sequences past every ID handed out before. It prints the
records it could not keep (their writes are gone: resend those messages), saves the
damaged log beside the store, and leaves the store ready to open.
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	rep, err := bolt.Recover(bolt.Config{Dir: *dir})
	if err != nil {
		fmt.Fprintf(stderr, "radbridge recover: %v\n", err)
		return 1
	}
	if rep.Fallback != "" {
		fmt.Fprintf(stdout, "B+tree file: %s: taken as of the commit before it\n", rep.Fallback)
	}
	fmt.Fprintf(stdout, "the B+tree file held the log up to record %d\n", rep.Applied)
	fmt.Fprintf(stdout, "kept: %d records (%s)\n", rep.KeptCount(), ranges(rep.Kept))
	if n := rep.LostCount(); n > 0 {
		fmt.Fprintf(stdout, "lost: %d records (%s): what they alone wrote is gone\n", n, ranges(rep.Lost))
	} else {
		fmt.Fprintln(stdout, "lost: none")
	}
	if rep.Rebuilt {
		fmt.Fprintln(stdout, "indexes and counts rebuilt from the records")
	}
	if rep.IDsJumped {
		fmt.Fprintf(stdout, "the ids file was unreadable: every ID sequence skipped %d IDs\n", bolt.IDJump)
	}
	if rep.SavedLog != "" {
		fmt.Fprintf(stdout, "damaged log saved as %s\n", rep.SavedLog)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	db, err := bolt.Open(bolt.Config{Dir: *dir})
	if err != nil {
		fmt.Fprintf(stderr, "radbridge recover: the store still does not open: %v\n", err)
		return 1
	}
	if err := db.Close(); err != nil {
		fmt.Fprintf(stderr, "radbridge recover: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "the store opens")
	return 0
}

func ranges(rs []bolt.SeqRange) string {
	if len(rs) == 0 {
		return "none"
	}
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

// cmdVerify runs bolt.Verify on a data directory: exit 0 when the store is intact, 1
// with what is wrong.
func cmdVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", "", "data directory of the stopped server (required)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: radbridge verify --data DIR

Checks a stopped server's store offline and changes nothing: the whole structure of the
B+tree file and the checksum of every value in it, the indexes and counts against the
records, the write-ahead log as the next start would judge it, and the ID high-water
marks. Exit 0 when it is intact, 1 with every problem found. (At start the server checks
the structure of the B+tree file only; every read checks the value it reads.)
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	rep, err := bolt.Verify(bolt.Config{Dir: *dir})
	if err != nil {
		fmt.Fprintf(stderr, "radbridge verify: %v\n", err)
		return 1
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "problem: %s\n", p)
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(stdout, "%d problems: the store is damaged (see radbridge recover --help for a damaged log; restore a backup for a damaged B+tree file)\n", len(rep.Problems))
		return 1
	}
	fmt.Fprintln(stdout, "intact")
	return 0
}
