# Build, test and demo targets for the agent-trace toolkit.
BIN       ?= bin
GO        ?= go
FUZZTIME  ?= 60s
CMDS      := trace-extract trace-classify trace-tokenize trace-hash

.PHONY: build install test bench fuzz demo clean

build:
	$(GO) build -buildvcs=auto -o $(BIN)/ ./cmd/...

install:
	$(GO) install -buildvcs=auto ./cmd/...

# The test command CI runs (README: Tests).
test:
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...
	GOOS=windows $(GO) vet ./...
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

# Both seed-compatible converters on the bundled samples, with statistics.
demo: build
	@mkdir -p $(BIN)/demo
	scripts/nat-to-mooncake --input-file testdata/nat/multi.json --output-file $(BIN)/demo/nat_mooncake.jsonl
	scripts/telemetry-to-mooncake --input-file testdata/telemetry/sessions.jsonl --output-file $(BIN)/demo/telemetry_mooncake.jsonl
	@head -n 2 $(BIN)/demo/nat_mooncake.jsonl | cut -c1-160

clean:
	rm -rf $(BIN)
