package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/radbridge/radbridge/hl7"
	"github.com/radbridge/radbridge/hl7/mllp"
)

// tlsFlags are the client TLS options shared by send and bench.
type tlsFlags struct {
	enabled           bool
	ca, cert, key     string
	insecure          bool
	serverNameFromDNS string
}

func (t *tlsFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&t.enabled, "tls", false, "use TLS")
	fs.StringVar(&t.ca, "ca", "", "PEM file of the CA that signed the server certificate (implies --tls)")
	fs.StringVar(&t.cert, "cert", "", "client certificate for mutual TLS (implies --tls)")
	fs.StringVar(&t.key, "key", "", "client key for mutual TLS")
	fs.BoolVar(&t.insecure, "insecure", false, "do not verify the server certificate (testing only)")
	fs.StringVar(&t.serverNameFromDNS, "server-name", "", "name to verify the server certificate against (default: the host in --addr)")
}

func (t *tlsFlags) config() (*tls.Config, error) {
	if !t.enabled && t.ca == "" && t.cert == "" && !t.insecure {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.insecure, ServerName: t.serverNameFromDNS}
	if t.ca != "" {
		pem, err := os.ReadFile(t.ca)
		if err != nil {
			return nil, err
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate found", t.ca)
		}
	}
	if t.cert != "" {
		kp, err := tls.LoadX509KeyPair(t.cert, t.key)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{kp}
	}
	return c, nil
}

func cmdSend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "HOST:PORT of the MLLP listener (required)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for each ACK")
	var tf tlsFlags
	tf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: radbridge send --addr HOST:PORT [--tls ...] FILE...  (FILE may be - for standard input)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if *addr == "" || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	tlsConfig, err := tf.config()
	if err != nil {
		fmt.Fprintf(stderr, "radbridge send: %v\n", err)
		return 2
	}
	c := &mllp.Client{Addr: *addr, TLSConfig: tlsConfig, AckTimeout: *timeout, CheckAck: hl7.CheckAck}
	defer c.Close()
	code := 0
	for _, name := range fs.Args() {
		data, err := readInput(name)
		if err != nil {
			fmt.Fprintf(stderr, "radbridge send: %v\n", err)
			code = 1
			continue
		}
		sc := hl7.NewScanner(bytes.NewReader(data))
		i := 1
		for sc.Scan() {
			msg := normalizeTerminators(sc.Bytes())
			if !bytes.HasPrefix(msg, []byte("MSH")) {
				fmt.Fprintf(stderr, "radbridge send: %s: skipped %d bytes that are not an HL7 v2 message (a message starts with MSH)\n", name, len(msg))
				code = 1
				continue
			}
			ack, err := c.Send(ctx, msg)
			ctl := "?"
			if h, ok := hl7.SalvageHeader(msg); ok {
				ctl = h.ControlID
			}
			fmt.Fprintf(stdout, "== %s #%d %s: %s\n", name, i, ctl, verdict(ack, err))
			if len(ack) > 0 {
				fmt.Fprintln(stdout, strings.TrimRight(strings.ReplaceAll(string(ack), "\r", "\n"), "\n"))
			}
			if err != nil {
				code = 1
				if len(ack) == 0 {
					fmt.Fprintf(stderr, "radbridge send: %s #%d: %v\n", name, i, err)
				}
				if errors.Is(err, context.Canceled) {
					return 1
				}
			}
			i++
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintf(stderr, "radbridge send: %s: %v\n", name, err)
			code = 1
		} else if i == 1 {
			fmt.Fprintf(stderr, "radbridge send: %s: no HL7 v2 message found (a message starts with MSH)\n", name)
			code = 1
		}
	}
	return code
}

// verdict summarises an exchange: the ACK code, or why there is none.
func verdict(ack []byte, err error) string {
	var ae *hl7.AckError
	switch {
	case errors.As(err, &ae):
		return string(ae.Code) + " (negative)"
	case errors.Is(err, hl7.ErrAckMismatch):
		return "ACK for another message"
	case err != nil && len(ack) == 0:
		return "no ACK"
	case err != nil:
		return "unreadable ACK"
	}
	if m, perr := hl7.Parse(ack); perr == nil {
		return m.Get("MSA-1")
	}
	return "ok"
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, 1<<30))
	}
	return os.ReadFile(name)
}

// normalizeTerminators turns LF and CRLF segment ends into the CR that MLLP peers expect.
func normalizeTerminators(b []byte) []byte {
	if bytes.IndexByte(b, '\n') < 0 {
		return b
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\r"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r"))
}
