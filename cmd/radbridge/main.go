// Command radbridge is the radbridge interface engine: one binary that serves MLLP and
// HTTP, checks HL7 v2 and FHIR files, sends messages and converts between the dialects.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// version is the build's version, set with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
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
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "send":
		return cmdSend(ctx, args[1:], stdout, stderr)
	case "bench":
		return cmdBench(ctx, args[1:], stdout, stderr)
	case "preauth":
		return cmdPreauth(args[1:], stdout, stderr)
	case "convert":
		return cmdConvert(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "radbridge %s (%s)\n", version, runtime.Version())
		return 0
	case "recover":
		return cmdRecover(args[1:], stdout, stderr)
	case "verify":
		return cmdVerify(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "radbridge: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: radbridge <command> [flags]

commands:
  serve     run the engine: MLLP on :2575, HTTP on 127.0.0.1:8080, data in ./data
  check     parse and check HL7 v2 and FHIR JSON files (check --json FILE...)
  send      send HL7 v2 messages over MLLP and print each ACK (send --addr HOST:PORT FILE...)
  convert   HL7 v2 message -> FHIR R4 transaction Bundle JSON (convert [--indent] FILE...)
  preauth   does a CPT code need prior authorization? (preauth --cpt CODE [--class CLASS] [--payer ID] [--json])
  bench     load generators: bench mllp --addr HOST:PORT --conns N --count M
            and bench fhir --url http://HOST:PORT/fhir --clients N --count M
  version   print the version
  recover   keep what a damaged write-ahead log still proves (recover --data DIR)
  verify    check a stopped server's store offline (verify --data DIR): exit 0 when intact
  help      this text

Each command takes -h for its flags.
`)
}

// usageExit is the exit code for a flag parsing failure: 0 when the user asked for help
// (-h, --help), 2 for bad usage. The flag package has printed the usage either way.
func usageExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
