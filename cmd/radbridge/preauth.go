package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/radbridge/radbridge/order"
)

// preauthOrder is one line of `radbridge preauth --json FILE...`: an order's verdicts
// as serve stores them (the preauth object of `check --json`, and ready_to_schedule).
type preauthOrder struct {
	File   string `json:"file"`
	Index  int    `json:"index"` // the message's, from 1
	Placer string `json:"placer,omitempty"`
	checkPreauth
	ReadyToSchedule checkReady `json:"ready_to_schedule"`
}

func cmdPreauth(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("preauth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cpt := fs.String("cpt", "", "CPT code (the code question; or give order files instead)")
	class := fs.String("class", "outpatient", "encounter class the exam is ordered and provided in: emergency, inpatient, outpatient, urgent-care, hospital-urgent-care, ambulatory-surgery (or E, I, O)")
	payer := fs.String("payer", "", "payer profile ID whose rules apply (profiles come from --config)")
	asJSON := fs.Bool("json", false, `print {"cpt","required","records_required","exempt","reason"}, one object per order for files`)
	configPath := fs.String("config", "", "configuration file with the prior_auth section, as serve reads it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: radbridge preauth --cpt CODE [--class CLASS] [--payer ID] [--json] [--config FILE]
       radbridge preauth [--json] [--config FILE] FILE...

With --cpt, answers for one code in one setting. With files (HL7 v2 or FHIR orders, as
check reads them), runs every order through serve's pipeline on a throwaway store and
prints the verdicts serve stores for it: prior authorization and ready to schedule.`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if (*cpt == "") == (fs.NArg() == 0) {
		fs.Usage()
		return 2
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "radbridge preauth: config: %v\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		return preauthFiles(cfg, fs.Args(), *asJSON, stdout, stderr)
	}
	ec, ok := order.ParseEncounterClass(*class)
	if !ok {
		fmt.Fprintf(stderr, "radbridge preauth: unknown class %q\n", *class)
		return 2
	}
	checker, err := cfg.checker()
	if err != nil {
		fmt.Fprintf(stderr, "radbridge preauth: config: %v\n", err)
		return 2
	}
	v := checker.Preauth(*cpt, ec, *payer)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.Encode(v)
		return 0
	}
	switch {
	case v.Exempt:
		fmt.Fprintf(stdout, "%s: exempt (not required)\n", v.CPT)
	case v.RecordsRequired:
		fmt.Fprintf(stdout, "%s: prior authorization required, with medical records\n", v.CPT)
	case v.Required:
		fmt.Fprintf(stdout, "%s: prior authorization required\n", v.CPT)
	case !v.Known:
		fmt.Fprintf(stdout, "%s: unknown\n", v.CPT)
	default:
		fmt.Fprintf(stdout, "%s: not required\n", v.CPT)
	}
	fmt.Fprintf(stdout, "  %s\n", v.Reason)
	return 0
}

// preauthFiles prints the verdicts serve stores for every order of the files: the
// messages go through check's offline twin of serve, and each stored order is read
// back. Exit 0 when every file was read, 1 otherwise.
func preauthFiles(cfg *config, files []string, asJSON bool, stdout, stderr io.Writer) int {
	ctx := context.Background()
	off, err := newOffline(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "radbridge preauth: %v\n", err)
		return 2
	}
	defer off.close()
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	code := 0
	for _, name := range files {
		results, err := off.checkFile(ctx, name)
		if err != nil {
			fmt.Fprintf(stderr, "radbridge preauth: %v\n", err)
			code = 1
			continue
		}
		for _, r := range results {
			for _, id := range r.orderIDs {
				o, err := off.order(ctx, id)
				if err != nil {
					fmt.Fprintf(stderr, "radbridge preauth: %s: %v\n", name, err)
					return 1
				}
				p, ready := orderVerdict(o)
				line := preauthOrder{File: r.File, Index: r.Index, Placer: o.Placer, checkPreauth: p, ReadyToSchedule: ready}
				if asJSON {
					if err := enc.Encode(line); err != nil {
						fmt.Fprintf(stderr, "radbridge preauth: %v\n", err)
						return 1
					}
					continue
				}
				printPreauthOrder(stdout, line)
			}
		}
	}
	return code
}

func printPreauthOrder(w io.Writer, p preauthOrder) {
	fmt.Fprintf(w, "%s #%d placer %s, CPT %s: prior authorization %s\n", p.File, p.Index, p.Placer, p.CPT, p.Status)
	fmt.Fprintf(w, "  %s\n", p.Reason)
	printReady(w, &p.ReadyToSchedule)
}
