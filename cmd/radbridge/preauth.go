package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

func cmdPreauth(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("preauth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cpt := fs.String("cpt", "", "CPT code (required)")
	class := fs.String("class", "outpatient", "encounter class: emergency, inpatient, outpatient, urgent-care, ambulatory-surgery (or E, I, O)")
	payer := fs.String("payer", "", "payer or plan ID whose profile applies (profiles come from --config)")
	asJSON := fs.Bool("json", false, `print {"cpt","required","records_required","exempt","reason"}`)
	configPath := fs.String("config", "", "configuration file with prior_auth payer profiles")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: radbridge preauth --cpt CODE [--class CLASS] [--payer ID] [--json] [--config FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if *cpt == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	ec, ok := order.ParseEncounterClass(*class)
	if !ok {
		fmt.Fprintf(stderr, "radbridge preauth: unknown class %q\n", *class)
		return 2
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "radbridge preauth: config: %v\n", err)
		return 2
	}
	checker, err := rules.New(cfg.PriorAuth)
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
	case !v.Known:
		fmt.Fprintf(stdout, "%s: unknown\n", v.CPT)
	case v.Exempt:
		fmt.Fprintf(stdout, "%s: exempt (not required)\n", v.CPT)
	case v.RecordsRequired:
		fmt.Fprintf(stdout, "%s: prior authorization required, with medical records\n", v.CPT)
	case v.Required:
		fmt.Fprintf(stdout, "%s: prior authorization required\n", v.CPT)
	default:
		fmt.Fprintf(stdout, "%s: not required\n", v.CPT)
	}
	fmt.Fprintf(stdout, "  %s\n", v.Reason)
	return 0
}
