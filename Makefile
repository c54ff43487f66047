# radbridge — see README.md. Every target works from a clean checkout.
GO        ?= go
PKGS      ?= ./...
FUZZTIME  ?= 30s
FUZZJOBS  ?= 2
FUZZPARALLEL ?= 1
SHARED    ?= ../shared
BIN       ?= bin/radbridge
# Listen addresses of make run; empty means serve's defaults (DESIGN.md).
MLLP_ADDR ?=
HTTP_ADDR ?=
DATA      ?=
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.6.1
# The toolchain go.mod names (a minimum): a machine whose go env says GOTOOLCHAIN=local
# would otherwise build and test with whatever Go it has, patched or not.
export GOTOOLCHAIN ?= auto

.PHONY: all build run test tour vet fmt lint bench fuzz conformance tidy clean interop soak vulncheck

all: build

build:
	$(GO) build -o $(BIN) ./cmd/radbridge

## run: the engine with no configuration (MLLP :2575, HTTP 127.0.0.1:8080, data under ./data,
## the admin token in data/admin.token);
## make run MLLP_ADDR=127.0.0.1:12575 HTTP_ADDR=127.0.0.1:18080 DATA=/tmp/rb, or ARGS="..."
run: build
	./$(BIN) serve $(if $(MLLP_ADDR),--mllp-addr $(MLLP_ADDR)) $(if $(HTTP_ADDR),--http-addr $(HTTP_ADDR)) $(if $(DATA),--data $(DATA)) $(ARGS)

## test: vet, a gofmt check that fails on any diff, and the race-enabled test suite
test: vet fmt
	$(GO) test -race -shuffle=on -timeout 8m $(PKGS)

## tour: the README's tour as a newcomer runs it: a fresh clone of the committed tree,
## make run on free ports, the tour's commands as written (build tag tour)
tour:
	$(GO) test -tags tour -run TestTour -count=1 -v -timeout 10m ./cmd/radbridge

vet:
	$(GO) vet $(PKGS)

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## lint: go vet and staticcheck (fetched through the module proxy at a pinned version)
lint: vet
	$(GO) run $(STATICCHECK) $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## soak: the load test (build tag soak, not part of test): radbridge serve under 30
## unterminated 15 MiB MLLP frames and 8 clients creating 2.7 MB ServiceRequests, with a
## good MLLP sender; prints and bounds the server's RSS and the sender's p99 latency
soak:
	$(GO) test -tags soak -run Soak -count=1 -v -timeout 10m ./cmd/radbridge

## fuzz: every fuzz target of every package (found in the test files go list names, so
## that build constraints hold), FUZZTIME each, FUZZJOBS at a time with FUZZPARALLEL
## workers each; a finding fails the run once every target has run, go test having
## written the input under the package's testdata/fuzz
fuzz:
	@for spec in $$($(GO) list -f '{{.ImportPath}}:{{.Dir}}:{{join .TestGoFiles ","}},{{join .XTestGoFiles ","}}' $(PKGS)); do \
	  pkg=$${spec%%:*}; rest=$${spec#*:}; dir=$${rest%%:*}; files=$$(echo $${rest#*:} | tr ',' ' '); \
	  [ -n "$${files# }" ] || continue; \
	  for t in $$(cd $$dir && sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*\*testing\.F).*/\1/p' $$files); do echo "$$pkg $$t"; done; \
	done | xargs -P $(FUZZJOBS) -L 1 sh -c '\
	  out=$$($(GO) test -run "^$$" -fuzz "^$$1$$" -fuzztime $(FUZZTIME) -parallel $(FUZZPARALLEL) "$$0" 2>&1); status=$$?; \
	  printf "== %s %s\n%s\n" "$$0" "$$1" "$$out"; exit $$status' \
	|| { echo "fuzz: a target failed; a finding is under its package's testdata/fuzz"; exit 1; }

## conformance: the samples in testdata, plus ../shared/conformance when it is present
conformance:
	RADBRIDGE_CONFORMANCE_DIR=$(abspath $(SHARED))/conformance $(GO) test -run Conformance -v -count=1 ./... | grep -E '^(=== RUN|--- |ok|FAIL|PASS|\s+conformance)' || true
	@RADBRIDGE_CONFORMANCE_DIR=$(abspath $(SHARED))/conformance $(GO) test -run Conformance -count=1 ./... >/dev/null

tidy:
	$(GO) mod tidy && git diff --exit-code go.mod go.sum

## vulncheck: govulncheck with a vulnerability database built here from the
## golang.org/x/vulndb module (vuln.go.dev is out of reach); fails on any finding, and
## also when the database is missing, incomplete or misses a known-vulnerable canary
vulncheck:
	GO=$(GO) ./.ci/vulncheck

clean:
	rm -rf bin

## interop: MLLP peers nobody here wrote, both ways (README "Interoperability"). Installs
## them when missing: Debian's python3-hl7 (for /usr/bin/python3, which need not be the
## python3 on PATH) and the npm packages locked in cmd/radbridge/testdata/interop. A failed
## install is reported and the tests still run, so that peer's test fails and says why.
interop:
	@sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	if (cd / && /usr/bin/python3 -c 'import hl7.mllp') >/dev/null 2>&1 && command -v mllp_send >/dev/null; then \
	  echo "interop: python3-hl7 is installed"; \
	else \
	  echo "interop: apt-get install python3-hl7"; \
	  { $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-hl7 >/dev/null; } \
	    || echo "interop: WARNING: installing python3-hl7 failed; the python-hl7 tests will fail"; \
	fi
	@cd cmd/radbridge/testdata/interop; \
	if ! command -v npm >/dev/null; then \
	  echo "interop: WARNING: npm is not installed; the node-hl7-client and node-hl7-server tests will fail"; \
	elif node -e 'for (const [p, m] of Object.entries(require("./package-lock.json").packages)) if (p && require("./" + p + "/package.json").version !== m.version) process.exit(1)' >/dev/null 2>&1; then \
	  echo "interop: npm packages are installed"; \
	else \
	  echo "interop: npm ci in cmd/radbridge/testdata/interop"; \
	  npm ci --loglevel=error || echo "interop: WARNING: npm ci failed; the node-hl7-client and node-hl7-server tests will fail"; \
	fi
	$(GO) test -tags interop -run Interop -count=1 -v ./cmd/radbridge
