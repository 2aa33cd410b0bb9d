# Build, test and demo targets for the agent-trace toolkit.
BIN       ?= bin
GO        ?= go
FUZZTIME  ?= 60s
CMDS      := trace-extract

.PHONY: build install test bench fuzz demo clean

build:
	$(GO) build -o $(BIN)/ ./cmd/...

install:
	$(GO) install ./cmd/...

# The test command CI runs (README: Tests).
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 ./...

# Run every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

demo: build
	$(BIN)/trace-extract testdata/nat/shapes.json | head -c 600; echo
	$(BIN)/trace-extract testdata/telemetry/research.jsonl > /dev/null

clean:
	rm -rf $(BIN)
