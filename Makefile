# radbridge — see README.md. Every target works from a clean checkout.
GO        ?= go
PKGS      ?= ./...
FUZZTIME  ?= 30s
SHARED    ?= ../shared
BIN       ?= bin/radbridge

.PHONY: all build run test vet fmt bench fuzz conformance tidy clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/radbridge

## run: the engine with no configuration (MLLP :2575, HTTP :8080, data under ./data)
run: build
	./$(BIN) serve

## test: vet, a gofmt check that fails on any diff, and the race-enabled test suite
test: vet fmt
	$(GO) test -race -shuffle=on -timeout 8m $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## fuzz: a short run of every fuzz target (FUZZTIME each)
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## conformance: the samples in testdata, plus ../shared/conformance when it is present
conformance:
	RADBRIDGE_CONFORMANCE_DIR=$(abspath $(SHARED))/conformance $(GO) test -run Conformance -v -count=1 ./... | grep -E '^(=== RUN|--- |ok|FAIL|PASS|\s+conformance)' || true
	@RADBRIDGE_CONFORMANCE_DIR=$(abspath $(SHARED))/conformance $(GO) test -run Conformance -count=1 ./... >/dev/null

tidy:
	$(GO) mod tidy && git diff --exit-code go.mod go.sum

clean:
	rm -rf bin
