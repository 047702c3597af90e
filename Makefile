# otelfusion: every routine step is one target.
GO        ?= go
BIN       := bin/otelcol-fusion
CONFIG    ?= distro/config.yaml
FUZZTIME  ?= 60s

.PHONY: all build run test unit e2e bench fuzz lint generate check-generate tidy clean

all: build

## build: compile otelcol-fusion from the ocb output in distro/
build:
	$(GO) build -trimpath -o $(BIN) ./distro

## run: build and start otelcol-fusion on the embedded default config
run: build
	./$(BIN) --config $(CONFIG)

## generate: regenerate distro/ from builder-config.yaml with ocb
generate:
	$(GO) tool builder --config builder-config.yaml --skip-get-modules --skip-compilation

## check-generate: fail when regenerating would change distro/
check-generate:
	./scripts/check-generate.sh

## lint: gofmt and go vet
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' | grep -v '^distro/'))"; \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## test: lint, the distro check, and go test -race over the module (unit and end-to-end)
test: lint check-generate
	$(GO) test -race -count=1 -timeout 30m ./...

## unit: the tests without the end-to-end ones
unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e)

## e2e: only the end-to-end tests against the built distribution
e2e:
	$(GO) test -race -count=1 -timeout 20m -v ./e2e/...

## bench: the codec table (otlpgo beside pdata's proto codec) and the Go benchmarks (otlpgo, fusion processor)
bench:
	$(GO) run ./pkg/otlpgo/internal/benchtable
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=200x ./pkg/otlpgo/...
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=2000x ./processor/fusionprocessor/

## fuzz: run every fuzz target for $(FUZZTIME)
fuzz:
	@set -e; for pkgdir in $$(grep -rl --include='*_test.go' '^func Fuzz' pkg receiver exporter | xargs -n1 dirname | sort -u); do \
	  for target in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkgdir/*_test.go | sed 's/func //'); do \
	    echo "== $$pkgdir $$target ($(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) ./$$pkgdir; \
	  done; \
	done

clean:
	rm -rf bin

## tidy: go mod tidy; -e because contrib's fileexporter tests import a module the proxy does not serve
tidy:
	$(GO) mod tidy -e
