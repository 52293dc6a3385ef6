# Tongxin — the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
BIN     := bin/tongxin
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X tongxin/internal/app.Version=$(VERSION)
VENDOR  := internal/web/static/vendor/htmx.min.js

.PHONY: run build test test-hours race bench bench-load assets lint openapi-lint clean

## run: build, fill the demo city on first start, serve on http://127.0.0.1:8080
run: build
	./$(BIN) demo
	./$(BIN) serve

## build: the single binary, with front-end assets embedded
build: assets
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/tongxin

## test: vet, the whole suite, then the tests of concurrent code again under the race detector
# The whole suite runs once without -race: SQLite and PostgreSQL, the access
# matrix, the browser tests, the office tools. The race detector multiplies
# the time of everything it watches (five to ten times here, most of it in
# SQLite's translated C), and a data race shows only where goroutines share
# memory, so the second command runs under it the tests of concurrent code:
# those RACE_TESTS names — sweepers, delivery workers, the scan journal's
# group commit, caches and throttles shared by requests, two instances on
# one database, graceful shutdown, the end-to-end server runs, the poll
# pump (internal/pollpump). A test that starts goroutines of its own must
# match the pattern, or be named in internal/shape with the reason it need
# not (internal/shape says so).
# `make race` runs the whole suite under the detector.
# Not done: leaving SQLite's translated C uninstrumented
# (-gcflags='modernc.org/...=-race=false') makes database tests about four times
# cheaper under -race, but mixing instrumented and uninstrumented code is not
# sound — TestTicketSweeperTwoInstances then reported races inside
# encoding/json's sync.Map field cache in 4 runs of 4 (0 of 2 without),
# probably through generic code both compile and the linker shares.
RACE_TESTS := Concurrent|Pump|Instances|GroupCommit|Journal|Shutdown|Sweep|Deliver|Throttling|Idempotenc|EndToEnd|Wakes|AddShift|ImportGate|^TestServe|ThroughServe

test: assets
	$(GO) vet ./...
	@test -n "$$TONGXIN_TEST_POSTGRES" || echo "PostgreSQL runs skipped: TONGXIN_TEST_POSTGRES is not set (SQLite runs only)"
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) test -race -count=1 -timeout 20m -run '$(RACE_TESTS)' ./...

## test-hours: the tests on the real clock (internal/app) as if at seven hours of the day in Shanghai (about 2 minutes each)
test-hours: assets
	scripts/test-at-hours.sh

## race: the whole suite under the race detector, the browser tests too (much the slowest target)
race: assets
	$(GO) test -race -count=1 -timeout 60m ./...

## bench: the performance figures of docs/benchmarks.md
bench: assets
	$(GO) test -run '^$$' -bench . -benchtime 3s -count 3 ./internal/app/

## bench-load: the figures measured from outside (docs/benchmarks.md): both binaries, then the suite writes its table
# LOAD_FLAGS passes options to the suite, e.g. LOAD_FLAGS='-rounds 3 -duration 3s -soak 0' for a short run
# (by default 5 rounds of 10 s, the mass-testing samples included, then 10 minutes of scans with the server's memory read: about 25 minutes).
# wrk (Debian package wrk), where installed, checks the ratios of me and scan.
bench-load: build
	$(GO) build -o bin/tongxin-load ./cmd/tongxin-load
	@if command -v wrk >/dev/null 2>&1; then echo "wrk: $$(command -v wrk) checks the ratios of me and scan"; \
	else echo "wrk: not installed (apt-get install wrk): the suite runs without the independent check"; fi
	./bin/tongxin-load suite -tongxin $(BIN) $(LOAD_FLAGS) -write docs/benchmarks.md

## assets: htmx, ECharts and jsQR from npm into internal/web/static/vendor (git-ignored)
assets: $(VENDOR)

$(VENDOR): web/package.json web/package-lock.json web/copy-assets.mjs
	cd web && npm ci --no-audit --no-fund --loglevel=error && node copy-assets.mjs

## lint: gofmt, go vet, staticcheck, cyclomatic complexity (at most 20) and the code's shape (internal/shape)
# The linters are pinned and run with `go run pkg@version` (checked against
# the Go checksum database; kept in the module cache after the first run),
# so that their dependencies stay out of go.mod.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOCYCLO     := github.com/fzipp/gocyclo/cmd/gocyclo@v0.6.0

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(GOCYCLO) -over 20 -ignore '_test\.go$$' internal cmd
	$(GO) test -count=1 ./internal/shape/

## openapi-lint: a second, independent validator of the API description (npm; `make test` already validates it in Go)
openapi-lint:
	npx --yes @redocly/cli@2.77.0 lint internal/apispec/openapi.json

clean:
	rm -rf bin web/node_modules internal/web/static/vendor
