# otelfusion: every routine step is one target.
GO        ?= go
BIN       := bin/otelcol-fusion
CONFIG    ?= distro/config.yaml
FUZZTIME  ?= 60s

.PHONY: all build run demo test unit e2e e2e-isolation e2e-store-memory e2e-durability e2e-kafka testbed testbed-fused testbed-fleet testbed-fleet-kafka testbed-store testbed-stock testbed-smoke bench bench-red bench-codecs bench-store bench-raftwal bench-sdk bench-diagnose diagnose-eval fuzz lint generate check-generate tidy clean

all: build

## build: compile otelcol-fusion from the ocb output in distro/ (cgo: the fusionstore extension embeds DuckDB), and the fusionql CLI
build:
	CGO_ENABLED=1 $(GO) build -trimpath -o $(BIN) ./distro
	$(GO) build -trimpath -o bin/fusionql ./cmd/fusionql

## run: build and start otelcol-fusion on the embedded default config
run: build
	./$(BIN) --config $(CONFIG)

## demo: start the collector on scripts/demo-config.yaml (default pipelines, ports of its own) with a fresh store, send a demo shop's traffic (a healthy baseline, then a slow dependency), run the seed queries with bin/fusionql, end with `fusionql diagnose` of the injected fault, stop
demo: build
	$(GO) build -trimpath -o bin/fusiondemo ./cmd/fusiondemo
	./scripts/demo.sh

## generate: regenerate distro/ from builder-config.yaml with ocb
generate:
	$(GO) tool builder --config builder-config.yaml --skip-get-modules --skip-compilation

## check-generate: fail when regenerating would change distro/
check-generate:
	./scripts/check-generate.sh

## lint: gofmt and go vet (the testbed, sdk, sdk/benchmarks and the spanmetrics benchmark are modules of their own: vetted on their own)
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' | grep -v '^distro/'))"; \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	cd testbed && $(GO) vet ./...
	cd sdk && $(GO) vet ./...
	cd sdk/benchmarks && $(GO) vet ./...
	cd connector/fusionmetricsconnector/spanmetricsbench && $(GO) vet ./...

## test: lint, the distro check, then go test -race over the module: unit tests, then the end-to-end
## tests on their own, so the latency and failover checks do not share the cores with unit tests;
## last the testbed's smoke scenario
test: lint check-generate unit e2e testbed-smoke

## unit: the tests without the end-to-end ones, then the sdk module's (the application side, a module of its own)
unit:
	$(GO) test -race -count=1 -timeout 20m $$($(GO) list ./... | grep -v /e2e)
	cd sdk && $(GO) test -race -count=1 -timeout 10m ./...

## e2e: only the end-to-end tests against the built distribution
e2e:
	$(GO) test -race -count=1 -timeout 30m -v ./e2e/...

## testbed: build otelcol-fusion and the stock collector, run the load scenarios (standard, fused,
## saturation with the store rows, every pipeline at one load in alternated rounds) against both, write
## results.md, chart.png and results.json into testbed/$(TESTBED_OUT) (results; results/run-2 for a second run) (~22 min on 2 cores)
TESTBED_OUT ?= results
testbed: build testbed-stock
	cd testbed && TESTBED=1 TESTBED_RESULTS=../$(TESTBED_OUT) TESTBED_WORKDIR=../results/tmp \
	  $(GO) test -count=1 -v -timeout 60m -run '^(TestCollectorConfigs|TestStandard|TestFused|TestSaturation|TestPairedLoad)$$' ./scenarios

## testbed-fused: only the fused scenario (stateless and stream-mode rows, fusion processor with each) against both binaries; writes testbed/results/stream/ (~2 min)
testbed-fused: build testbed-stock
	cd testbed && TESTBED=1 TESTBED_RESULTS=../results/stream TESTBED_WORKDIR=../results/tmp \
	  $(GO) test -count=1 -v -timeout 20m -run '^TestFused$$' ./scenarios

## testbed-fleet: build otelcol-fusion and run the routing fleet scenario (2 agents -> 3 gateways with the fusion processor and the store; routing beside direct sending, 3 interleaved repetitions), write testbed/results/fleet/ (~6 min on 2 cores)
testbed-fleet: build
	cd testbed && TESTBED=1 TESTBED_RESULTS=../results TESTBED_WORKDIR=../results/tmp \
	  $(GO) test -count=1 -v -timeout 30m -run '^TestFleetRouting$$' ./scenarios

## testbed-store: in one run, the saturation ramp (traces over OTLP/gRPC) of the stock and otelcol-fusion pass-through
## and of otelcol-fusion writing every span into its store, queue in memory and on raftwal (the default config's way),
## and both store pipelines alternated 3 times at one fixed load (the cost of durability); writes
## testbed/results/store-saturation.md and .json (~6 min on 2 cores)
testbed-store: build testbed-stock
	cd testbed && TESTBED=1 TESTBED_REPORT=store TESTBED_RESULTS=../results TESTBED_WORKDIR=../results/tmp \
	  $(GO) test -count=1 -v -timeout 30m \
	  -run '^(TestCollectorConfigs|TestStoreDurability|TestSaturation)$$/^(stock|fusion)$$/^(pass-through|store,_memory_queue|store,_raftwal_queue)$$/^otlp-grpc$$' ./scenarios

## testbed-stock: build the baseline, a stock collector from testbed/stock/builder-config.yaml, into testbed/bin/
testbed-stock:
	mkdir -p testbed/bin
	$(GO) tool builder --config testbed/stock/builder-config.yaml
	cp testbed/bin/stock-build/otelcol-stock testbed/bin/otelcol-stock

## testbed-smoke: compile the testbed and run its one short scenario (traces at 10k/s into otelcol-fusion, counts checked)
testbed-smoke: build
	cd testbed && TESTBED=1 TESTBED_WORKDIR=../results/tmp $(GO) test -count=1 -v -timeout 5m -run '^TestSmoke$$' ./scenarios

## testbed-fleet-kafka: the Kafka fleet (2 agents -> kfake, 6 partitions -> 3 gateways with the fusion processor and the
## store), 3 runs of 20 s at 8k spans/s, exact counts, medians; writes testbed/results/fleet/kafka.md, kafka.png,
## kafka.json (~3 min)
testbed-fleet-kafka: build
	cd testbed && TESTBED=1 TESTBED_RESULTS=../results TESTBED_WORKDIR=../results/tmp \
	  $(GO) test -count=1 -v -timeout 10m -run '^TestFleetKafka$$' ./scenarios

## e2e-kafka: only the Kafka exactly-once test (agent killed -9 mid-transaction, gateway killed -9 at an offset commit, 3 rounds): acknowledged spans lost and duplicated
e2e-kafka:
	$(GO) test -race -count=1 -timeout 10m -v -run TestKafkaExactlyOnce ./e2e/

## e2e-isolation: only the tenant quota isolation test (A floods at 10x its quota; B loses nothing, B's p99 within 20% of B alone);
## the p99 bound is asserted only here (make test runs the test for its exact counts and logs the ratio); wants a quiet machine
e2e-isolation:
	OTELFUSION_E2E_ISOLATION=1 $(GO) test -race -count=1 -timeout 10m -v -run TestTenantQuotaIsolation ./e2e/

## e2e-durability: only the kill -9 tests (default config, 3 rounds; the same with dedup_spans, 2 rounds; agent -> gateway with the gateway killed, 3 rounds): acknowledged spans lost and duplicated
e2e-durability:
	$(GO) test -race -count=1 -timeout 10m -v -run TestKill9 ./e2e/

## e2e-store-memory: the store memory tests (4 concurrent heavy queries under store::memory_limit; a large answer under max_response_bytes), RSS measured; wants a quiet machine
e2e-store-memory:
	OTELFUSION_E2E_STORE_MEMORY=1 $(GO) test -race -count=1 -timeout 15m -v -run TestStoreMemory ./e2e/

## bench: the codec table (otlpgo beside pdata's proto codec) and the Go benchmarks (otlpgo, fusion processor, tenant_quota, store ingest)
bench:
	$(GO) run ./pkg/otlpgo/internal/benchtable
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=200x ./pkg/otlpgo/...
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=2000x ./processor/fusionprocessor/
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=20000x -count=5 ./processor/tenantquota/
	$(GO) test -run='^$$' -bench=BenchmarkStoreIngest -benchtime=20x ./pkg/fusionstore/

## bench-red: the fusionmetrics connector beside contrib's spanmetrics connector v0.165.1 on the same spans (same dimensions, buckets, exemplars), 5 interleaved repetitions: medians of ns/span and allocs/span and their ratio (~1 min)
bench-red:
	./scripts/bench-red.sh

## bench-codecs: otlpgo (stateless and stream) beside OTLP proto (+zstd), OTel Arrow (4 variants) and STEF on three data shapes, batches 100/1000/10000, medians of 5 interleaved repetitions; writes cmd/otlpgobench/results.md (~20 min on 2 cores)
bench-codecs:
	$(GO) run ./cmd/otlpgobench -reps 5 -out cmd/otlpgobench/results.md

## bench-store: ingest rows/s per core for spans, logs and points at batch 1000 beside the main before columnar
## ingest (BENCH_BASE), dedup_spans' cost, and the seed join over 100M spans + 100M logs + 10M points
## (data built once into data/bench, ~25 GB; the first run takes 10-20 min)
bench-store:
	./scripts/bench-store.sh

## bench-raftwal: enqueue throughput and p50/p99 of raftwal (1 and 3 nodes) beside file_storage (fsync on/off), 1 and 16 writers; then the CPU per queued item (enqueue, read, delete; 1 KiB and 1 MiB), 5 runs
bench-raftwal:
	$(GO) test -run='^$$' -bench=BenchmarkEnqueue -benchtime=5000x ./extension/raftwal/
	$(GO) test -run='^$$' -bench=BenchmarkQueuePath -benchmem -benchtime=200x -count=5 ./extension/raftwal/

## bench-sdk: the sdk module beside the alternatives, in one run (sdk/benchmarks: logs vs slog JSON, zap, zerolog; metrics vs the OTel SDK and client_golang, 16 goroutines over 1M series; fused vs the three OTLP/HTTP exporters), then the fusedslog caller-side benchmark (~5 min on 2 cores)
bench-sdk:
	cd sdk/benchmarks && $(GO) run . -rounds 3
	cd sdk && $(GO) test -run='^$$' -bench=BenchmarkHandle -benchmem -benchtime=2000000x -count=5 ./fusedslog/

## bench-diagnose: one diagnosis (docs/diagnose.md) on a store of 10M spans beside one plain query of the same windows; fills the store first (minutes) and keeps it in $$TMPDIR for the next run
bench-diagnose:
	$(GO) test -run='^$$' -bench=BenchmarkDiagnose -benchtime=5x -count=3 -timeout=90m ./pkg/diagnose/

## diagnose-eval: the seeded incident suite, 50 instances of each of its 6 kinds diagnosed one by one: top-1 and top-3 accuracy per kind (make test runs 3 of each)
diagnose-eval:
	DIAGNOSE_SUITE_INSTANCES=50 $(GO) test -count=1 -timeout=30m -v -run='^TestIncidentSuite$$' ./pkg/diagnose/

## fuzz: run every fuzz target for $(FUZZTIME)
fuzz:
	@set -e; for pkgdir in $$(grep -l '^func Fuzz' $$(find . -name '*_test.go' -not -path './distro/*') | xargs -n1 dirname | sort -u); do \
	  for target in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkgdir/*_test.go | sed 's/func //'); do \
	    echo "== $$pkgdir $$target ($(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) ./$$pkgdir; \
	  done; \
	done

clean:
	rm -rf bin

## tidy: go mod tidy of every module; -e because contrib's fileexporter tests import a module the proxy does not serve
tidy:
	$(GO) mod tidy -e
	cd sdk && $(GO) mod tidy
	cd sdk/benchmarks && $(GO) mod tidy
	cd connector/fusionmetricsconnector/spanmetricsbench && $(GO) mod tidy
