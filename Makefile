# Build, test and demo targets for the agent-trace toolkit.
BIN       ?= bin
GO        ?= go
FUZZTIME  ?= 60s
FUZZMINIMIZE ?= 100x
CMDS      := trace-extract trace-classify trace-tokenize trace-hash

.PHONY: build install test bench fuzz demo clean

build:
	$(GO) build -buildvcs=auto -o $(BIN)/ ./cmd/...

# Install the four binaries, the two scripts (made self-contained: lib.sh
# inlined) and the completion scripts under PREFIX (DESTDIR for packaging).
PREFIX    ?= /usr/local
SCRIPTS   := nat-to-mooncake telemetry-to-mooncake
install:
	@set -e; bin=$(DESTDIR)$(PREFIX)/bin; share=$(DESTDIR)$(PREFIX)/share; \
	mkdir -p $$bin $$share/bash-completion/completions $$share/zsh/site-functions $$share/fish/vendor_completions.d $$share/man/man1; \
	$(GO) build -buildvcs=auto -o $$bin/ ./cmd/...; \
	for s in $(SCRIPTS); do \
	  awk 'FNR == NR { lib = lib $$0 "\n"; next } /^\. .*lib\.sh"$$/ { printf "%s", lib; next } { print }' scripts/lib.sh scripts/$$s > $$bin/$$s; \
	  chmod 755 $$bin/$$s; \
	done; \
	for c in $(CMDS); do \
	  $$bin/$$c --completion bash > $$share/bash-completion/completions/$$c; \
	  $$bin/$$c --completion zsh > $$share/zsh/site-functions/_$$c; \
	  $$bin/$$c --completion fish > $$share/fish/vendor_completions.d/$$c.fish; \
	  $$bin/$$c --man > $$share/man/man1/$$c.1; \
	done; \
	echo "installed under $(DESTDIR)$(PREFIX): bin/ ($(CMDS) $(SCRIPTS)), share/ (completions, man pages)"

# The test command CI runs (README: Tests).
test:
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	$(GO) test -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 ./...

# Run every fuzz target for FUZZTIME each. Each new interesting input is
# minimized for at most FUZZMINIMIZE runs: Go's default (up to 60 s an
# input) kept the OTel reader, whose seeds are whole files of kilobytes,
# minimizing for most of the run while reporting 0 execs/s.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) $$pkg; \
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
