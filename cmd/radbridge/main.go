// Command radbridge is the radbridge interface engine: one binary that serves MLLP and
// HTTP, checks HL7 v2 and FHIR files, sends messages and converts between the dialects.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errUsage marks a command-line mistake; main exits 2 for it.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	_ = ctx
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "radbridge: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: radbridge <command> [flags]

commands:
  check     parse and check HL7 v2 and FHIR JSON files (check --json FILE...)
  help      this text
`)
}
