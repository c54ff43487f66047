package rules

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// networkRow is one row of the networks table: the facility takes part in the payer's
// network (for one plan, or every plan of the payer when plan is empty) from one date
// to another.
type networkRow struct {
	payer, plan, network, npi string
	from, to                  string // ISO dates; to "" is open-ended
}

// parseNetworks reads a networks table in CSV (RFC 4180), as parseTable reads the code
// table: columns found by their header names payer, plan, network, facility_npi,
// effective_from and effective_to; every row needs a payer, a network, a valid NPI and
// an effective_from; dates are ISO (YYYY-MM-DD), effective_to empty for open-ended and
// not before effective_from. An empty table (a header only) is valid.
func parseNetworks(data []byte) ([]networkRow, error) {
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("networks table header: %w", err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, name := range []string{"payer", "plan", "network", "facility_npi", "effective_from", "effective_to"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("networks table: no %q column", name)
		}
	}
	var rows []networkRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("networks table: %w", err)
		}
		line, _ := r.FieldPos(0)
		get := func(name string) string { return strings.TrimSpace(rec[col[name]]) }
		n := networkRow{payer: get("payer"), plan: get("plan"), network: get("network"), npi: get("facility_npi"),
			from: get("effective_from"), to: get("effective_to")}
		switch {
		case n.payer == "" || n.network == "":
			return nil, fmt.Errorf("networks table line %d: empty payer or network", line)
		case !ValidNPI(n.npi):
			return nil, fmt.Errorf("networks table line %d: facility_npi %q is not a valid NPI", line, n.npi)
		case !isoDate(n.from):
			return nil, fmt.Errorf("networks table line %d: effective_from %q is not a date (YYYY-MM-DD)", line, n.from)
		case n.to != "" && !isoDate(n.to):
			return nil, fmt.Errorf("networks table line %d: effective_to %q is not a date (YYYY-MM-DD) or empty", line, n.to)
		case n.to != "" && n.to < n.from:
			return nil, fmt.Errorf("networks table line %d: effective_to %s is before effective_from %s", line, n.to, n.from)
		}
		rows = append(rows, n)
	}
	return rows, nil
}

func isoDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// The outcomes of a network lookup.
const (
	networkNotChecked = iota // no networks table
	networkIn                // a row covers the facility, payer, plan and date
	networkOut               // the payer has rows, none covers the facility on the date
	networkNoPayer           // the table has no row for the payer
	networkNoFacility        // no performing facility NPI is known
)

// networkResult is one lookup: the outcome, the row that decided (in, or the
// facility's nearest row when out), and what was looked up.
type networkResult struct {
	outcome int
	row     networkRow
	npi     string
	date    string
	left    bool // out because the facility's row for the payer ended before the date (or starts after it)
}

// lookupNetwork finds whether the facility is in the payer's network for the plan on
// the date: a row with the payer (ignoring case), the plan or an empty plan, the
// facility's NPI, and effective dates around the date.
func lookupNetwork(rows []networkRow, payer, plan, npi, date string) networkResult {
	res := networkResult{npi: npi, date: date}
	payerRows := false
	for _, n := range rows {
		if !strings.EqualFold(n.payer, payer) {
			continue
		}
		payerRows = true
		if n.npi != npi || (n.plan != "" && !strings.EqualFold(n.plan, plan)) {
			continue
		}
		if n.from <= date && (n.to == "" || date <= n.to) {
			res.outcome, res.row = networkIn, n
			return res
		}
		res.left, res.row = true, n
	}
	if !payerRows {
		res.outcome = networkNoPayer
		return res
	}
	res.outcome = networkOut
	return res
}
