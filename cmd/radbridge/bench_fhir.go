package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// benchServiceRequest is the resource bench fhir posts: the FHIR twin of benchOrder, a
// complete MRI order (contained patient, NPI requester, coverage, CPT code, ICD-10
// reason, an authorization number) of about 2 KB. The verbs are the patient MRN and the
// placer number, unique per request, so that each creates one order.
const benchServiceRequest = `{"resourceType":"ServiceRequest","status":"active","intent":"order","priority":"routine",
 "meta":{"source":"urn:radbridge:bench"},
 "contained":[{"resourceType":"Patient","id":"p","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"urn:radbridge:bench:mrn","value":"%s"}],
   "name":[{"family":"Doe","given":["Jane","Q"]}],"birthDate":"1980-01-02","gender":"female",
   "address":[{"line":["1 Main St"],"city":"Springfield","state":"IL","postalCode":"62701"}]},
  {"resourceType":"Practitioner","id":"dr","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}],"name":[{"family":"Smith","given":["John"],"prefix":["Dr"]}]},
  {"resourceType":"Organization","id":"payer","identifier":[{"value":"AETNA01"}],"name":"AETNA"},
  {"resourceType":"Coverage","id":"cov","status":"active","subscriberId":"W123456789","beneficiary":{"reference":"#p"},"payor":[{"reference":"#payer"}],
   "class":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/coverage-class","code":"plan"}]},"value":"PPO1"}]}],
 "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"PLAC"}]},"system":"` + benchPlacerSystem + `","value":"%s"}],
 "code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"70553","display":"MRI brain without then with contrast"}],"text":"MRI brain without then with contrast"},
 "orderDetail":[{"coding":[{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"MR","display":"Magnetic Resonance"}]}],
 "subject":{"reference":"#p"},"requester":{"reference":"#dr"},"authoredOn":"2026-11-01T08:00:00Z",
 "reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R51.9","display":"Headache, unspecified"}],"text":"Headache"}],
 "insurance":[{"reference":"#cov"}],
 "supportingInfo":[{"type":"ClaimResponse","identifier":{"value":"AUTH778899"},"display":"Prior authorization AUTH778899"}]}`

// benchPlacerSystem is the identifier system of bench fhir's placer numbers.
const benchPlacerSystem = "urn:radbridge:bench:orders"

// benchPrefixOK limits --prefix to characters that need no escaping in JSON or a URL.
var benchPrefixOK = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func benchResource(prefix string, i int) []byte {
	id := prefix + strconv.Itoa(i)
	return fmt.Appendf(nil, benchServiceRequest, "MRN"+id, id)
}

func benchFHIR(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench fhir", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "", "FHIR base URL, http://HOST:PORT/fhir (required)")
	clients := fs.Int("clients", 1, "HTTP clients, each a kept connection with one request in flight")
	count := fs.Int("count", 1000, "ServiceRequests to create in all")
	prefix := fs.String("prefix", "F"+strconv.FormatInt(time.Now().Unix(), 36), "placer number prefix (reuse it to resend the same resources)")
	conditional := fs.Bool("conditional", false, "send If-None-Exist: identifier=SYSTEM|PLACER (conditional create); 200 for an existing match counts as success")
	pause := fs.Duration("pause", 0, "wait this long after each request (a paced client, as load beside another bench)")
	ifNoneExist := fs.String("if-none-exist", "", "send this If-None-Exist header (search parameters) with every create instead; 412 counts as a failure")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for each response")
	tokenFile := fs.String("token-file", "", "file holding the bearer token to send, such as DATA_DIR/admin.token (default: none)")
	usage := "usage: radbridge bench fhir --url http://HOST:PORT/fhir [--token-file FILE] [--clients N] [--count M] [--prefix P] [--conditional | --if-none-exist QUERY]"
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	u, err := url.Parse(strings.TrimRight(*base, "/"))
	if *base == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" ||
		*clients < 1 || *count < 1 || !benchPrefixOK.MatchString(*prefix) || fs.NArg() > 0 || (*conditional && *ifNoneExist != "") {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var token string
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "radbridge bench fhir: %v\n", err)
			return 2
		}
		token = strings.TrimSpace(string(b))
	}
	endpoint := u.String() + "/ServiceRequest"
	res := runLoad(ctx, *clients, *count, *pause, stderr, func() (func(i int) error, func()) {
		// A transport of its own per client: exactly one kept connection each.
		tr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true, ResponseHeaderTimeout: *timeout}
		cl := &http.Client{Transport: tr, Timeout: *timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		create := func(i int) error {
			placer := *prefix + strconv.Itoa(i)
			cond := ""
			if *conditional {
				cond = "identifier=" + url.QueryEscape(benchPlacerSystem+"|"+placer)
			} else if *ifNoneExist != "" {
				cond = *ifNoneExist
			}
			if err := benchCreate(ctx, cl, endpoint, token, benchResource(*prefix, i), placer, cond); err != nil {
				return fmt.Errorf("ServiceRequest %s: %w", placer, err)
			}
			return nil
		}
		return create, tr.CloseIdleConnections
	})
	return res.report(stdout, "requests", "req/s", "clients", *count)
}

// benchCreate posts one ServiceRequest and checks the answer: 201 Created (or, for a
// conditional create that matched, 200 OK) in application/fhir+json, with an ETag, and
// a ServiceRequest body whose id the Location names and whose identifiers include
// placer. A non-empty ifNoneExist makes the create conditional; a non-empty token is
// sent as the bearer token.
func benchCreate(ctx context.Context, cl *http.Client, endpoint, token string, body []byte, placer, ifNoneExist string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Accept", "application/fhir+json")
	if ifNoneExist != "" {
		req.Header.Set("If-None-Exist", ifNoneExist)
	}
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading response: %w", err)
	}
	return checkCreated(resp, raw, placer, ifNoneExist != "")
}

// benchCreated is the part of a created ServiceRequest that bench checks.
type benchCreated struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Identifier   []benchIdentifier `json:"identifier"`
	Issue        []struct {
		Diagnostics string `json:"diagnostics"`
	} `json:"issue"`
}

type benchIdentifier struct {
	Value string `json:"value"`
}

func checkCreated(resp *http.Response, raw []byte, placer string, conditional bool) error {
	var got benchCreated
	jsonErr := json.Unmarshal(raw, &got)
	if resp.StatusCode != http.StatusCreated && (!conditional || resp.StatusCode != http.StatusOK) {
		if len(got.Issue) > 0 {
			return fmt.Errorf("%s: %s", resp.Status, got.Issue[0].Diagnostics)
		}
		return errors.New(resp.Status)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/fhir+json" {
		return fmt.Errorf("%s with Content-Type %q, want application/fhir+json", resp.Status, resp.Header.Get("Content-Type"))
	}
	if jsonErr != nil {
		return fmt.Errorf("%s with a body that is not JSON: %w", resp.Status, jsonErr)
	}
	if got.ResourceType != "ServiceRequest" || got.ID == "" {
		return fmt.Errorf("%s with resourceType %q id %q, want a ServiceRequest with an id", resp.Status, got.ResourceType, got.ID)
	}
	if !slices.Contains(got.Identifier, benchIdentifier{Value: placer}) {
		return fmt.Errorf("%s: ServiceRequest/%s does not carry placer number %s", resp.Status, got.ID, placer)
	}
	if loc := resp.Header.Get("Location"); !strings.Contains(loc+"/", "/ServiceRequest/"+got.ID+"/") {
		return fmt.Errorf("%s with Location %q, want one naming ServiceRequest/%s", resp.Status, loc, got.ID)
	}
	if resp.Header.Get("ETag") == "" {
		return fmt.Errorf("%s without an ETag", resp.Status)
	}
	return nil
}
