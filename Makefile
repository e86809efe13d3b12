# Sportello — make run starts the whole office, make test checks everything.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN     := bin/sportello
PKGS    := ./...

.PHONY: help run build test deps fmt-check vet unit fuzz bench bench-go sim-bench sim-speed sim-doc clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

run: build ## the whole office on this machine (sportello demo)
	./$(BIN) demo

build: ## build bin/sportello
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sportello

# What the tests need beyond Go. Debian packages are installed with apt-get
# when missing (CI runs as root on a fresh Debian machine).
APT_PACKAGES := chromium zbar-tools poppler-utils

deps: ## install what the tests need
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	$(GO) mod download

fmt-check: ## fail if gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: ## go vet
	$(GO) vet $(PKGS)

unit: ## the tests, with the race detector
	$(GO) test -race -count=1 -timeout 12m $(PKGS)

test: deps fmt-check vet unit fuzz ## everything CI checks

# Each target runs a count of inputs (about 8 s of work on this machine),
# not a duration: with a duration, Go 1.26's fuzz coordinator can report a
# spurious "context deadline exceeded" failure as the time runs out
# (golang/go#75804, fixed in Go 1.27). FUZZTIME=30s (or 1000x) overrides
# every target's budget.
FUZZTIME ?=
fuzz: ## a short run of every fuzz target
	$(GO) test ./hub/ -run '^$$' -fuzz '^FuzzParseSite$$' -fuzztime $(or $(FUZZTIME),3000x)
	$(GO) test ./hub/httpapi/ -run '^$$' -fuzz '^FuzzDecodeIssue$$' -fuzztime $(or $(FUZZTIME),50000x)
	$(GO) test ./hub/httpapi/ -run '^$$' -fuzz '^FuzzDecodeFinish$$' -fuzztime $(or $(FUZZTIME),40000x)
	$(GO) test ./kiosk/ -run '^$$' -fuzz '^FuzzParseScan$$' -fuzztime $(or $(FUZZTIME),25000x)
	$(GO) test ./printer/ -run '^$$' -fuzz '^FuzzParseStatus$$' -fuzztime $(or $(FUZZTIME),200000x)
	$(GO) test ./printer/ -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(or $(FUZZTIME),50000x) -fuzzminimizetime 1s
	$(GO) test ./printer/ -run '^$$' -fuzz '^FuzzLayout$$' -fuzztime $(or $(FUZZTIME),12000x) -fuzzminimizetime 1s
	$(GO) test ./crmsync/peer/ -run '^$$' -fuzz '^FuzzParseFiscalCode$$' -fuzztime $(or $(FUZZTIME),90000x)
	$(GO) test ./crmsync/peer/ -run '^$$' -fuzz '^FuzzParseRequestForm$$' -fuzztime $(or $(FUZZTIME),90000x)
	$(GO) test ./sim/ -run '^$$' -fuzz '^FuzzParseScenario$$' -fuzztime $(or $(FUZZTIME),20000x)

bench: bench-go sim-speed sim-bench sim-doc ## the benchmarks of BENCHMARKS.md, its simulator tables regenerated

bench-go: ## the hub's Go benchmarks (BENCHMARKS.md, Results)
	$(GO) test ./hub/ -run '^$$' -bench . -benchtime 2000x -count 1 -timeout 20m
	$(GO) test ./hub/httpapi/ -run '^$$' -bench LiveFanout -benchtime 200x -count 1 -timeout 20m

# The office-day simulator on the public scenarios, the file's 200 days each
# (one at a time: the machine is shared). Reports, CSV, JSON and plots go to
# bench/results; sim-doc splices the reports' tables and plot links into
# BENCHMARKS.md between its sim:NAME:begin / sim:NAME:end markers.
SIM_SCENARIOS ?= S1-light S2-busy S3-overload
SIM_OUT       ?= bench/results
sim-bench: build ## the office-day simulator on S1–S3 → bench/results
	@mkdir -p $(SIM_OUT)
	@for s in $(SIM_SCENARIOS); do \
		./$(BIN) sim --scenario bench/scenarios/$$s.yaml --out $(SIM_OUT) > /dev/null || exit 1; \
	done

# Issue 7's speed requirement: 200 days of S2 for every policy (wall and CPU
# time of the whole run) → bench/results/sim-speed.txt.
SIM_SPEED_DAYS ?= 200
sim-speed: ## 200 days of S2, every policy, timed (BenchmarkS2FullRun)
	@mkdir -p $(SIM_OUT)
	@$(GO) test ./sim/ -run '^$$' -bench '^BenchmarkS2FullRun$$' -benchtime 1x -count 1 -timeout 30m -sim.days $(SIM_SPEED_DAYS) > $(SIM_OUT)/sim-speed.txt; \
		status=$$?; cat $(SIM_OUT)/sim-speed.txt; exit $$status

sim-doc: build ## BENCHMARKS.md's simulator tables from bench/results
	./$(BIN) sim --doc BENCHMARKS.md --out $(SIM_OUT) --sections $$(echo $(SIM_SCENARIOS) sim-speed | tr ' ' ',')

clean:
	rm -rf bin

# Display voice clips and latency benchmark.
include display.mk
