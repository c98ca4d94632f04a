# riskmap — `make help` lists the targets.
GO      ?= go
BIN     := bin/riskmap
DB      ?= ./data/riskmap.gpkg
LISTEN  ?= 127.0.0.1:8080
PG_DSN  ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.DEFAULT_GOAL := help
.PHONY: help build frontend run simulate test test-go test-race test-browser test-short vet fuzz bench bench-monitoring deps clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: frontend ## build the front end and bin/riskmap (the front end is embedded)
	$(GO) build -o $(BIN) ./cmd/riskmap

FRONTEND_SRC := $(shell find frontend/src -type f 2>/dev/null) frontend/build.mjs frontend/package-lock.json

frontend: frontend/dist/index.html ## bundle the Leaflet application (npm ci + esbuild)

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

frontend/dist/index.html: frontend/node_modules/.package-lock.json $(FRONTEND_SRC)
	cd frontend && npm run build

run: build ## build, create the GeoPackage store, load the demo city on first start and serve
	$(BIN) serve --demo --db $(DB) --listen $(LISTEN)

simulate: ## stream simulated sensor readings (gas leak, tailings creep) to `make run`'s server (SCENARIO=all)
	$(GO) run ./cmd/riskmap simulate --db $(DB) --url http://$(LISTEN) --scenario $${SCENARIO:-all}

vet: ## gofmt and go vet
	@out=$$(gofmt -l cmd pkg geodata sql scripts frontend/embed.go); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./... github.com/tidwall/rtree

test: test-go test-browser ## run every test: Go (PostGIS, GeoPackage, GDAL) and the browser tests

# The race detector makes the whole suite twelve times slower (2½ minutes become 30 on two
# cores), so make test runs it where concurrency is the subject: the packages below whole,
# and the concurrent tests of the HTTP API, the replicas and the import jobs. make test-race
# runs every test under it.
RACE_PKGS := ./pkg/monitoring ./pkg/mqttfeed ./pkg/spatialindex ./pkg/webauth ./pkg/register \
	./pkg/analysis ./pkg/tiles ./pkg/hazards ./pkg/sites
RACE_RUN  := TestMonitoring$$|TestEventsShutdown|TestNoSelfApprovalRace|TestIdempotencyKey|DatabaseOutage|TestThrottleCountsParallelGuesses|TestLostCommitAnswerOneAuditRow|TestIndexEqualsStore|TestSensorThings|TestReplicas|TestFollowerAppliesOnlyNewerVersions|TestMonitoringRaisesTheGrade|TestLoginFloodMemory|TestCancelCommit

# github.com/tidwall/rtree is riskmap's copy (pkg/thirdparty/rtree, by go.mod's replace):
# its tests of riskmap's changes run with the rest.
test-go: vet frontend
	$(GO) test -count=1 -timeout 20m ./... github.com/tidwall/rtree
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)
	$(GO) test -race -count=1 -timeout 20m -run '$(RACE_RUN)' ./pkg/httpapi ./cmd/riskmap ./pkg/imports

test-race: vet frontend ## every Go test under the race detector (about 30 minutes on two cores)
	$(GO) test -race -count=1 -timeout 60m ./...

test-browser: build ## the front end in headless chromium against a real server
	cd frontend && RISKMAP_BIN=../$(BIN) npm test

test-short: ## run the tests that need no database server
	$(GO) test -short -count=1 ./...

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	bash scripts/fuzz.sh $${FUZZTIME:-30s}

bench: build ## load 1M synthetic units into PostGIS and GeoPackage and time it, then every other bench (bench-monitoring too; minutes)
	PG_DSN='$(PG_DSN)' bash scripts/bench.sh

# Issue 17 alone (make bench runs it too, after the 1M-unit part): the real server on a
# database of its own (riskmap_bench_monitoring, dropped at the end), 20,000 readings/s
# through POST /api/v1/readings for 60 s, alarms timed on GET /api/v1/events, the 30-day
# chart over HTTP, COPY as the limit; then a GeoPackage for 10 s. BENCH_ARGS adds flags
# (go run ./scripts/benchmonitoring -h).
bench-monitoring: ## monitoring over HTTP (issue 17): 20,000 readings/s for 60 s, alarm latency, 30-day chart, COPY (2–3 minutes)
	@mkdir -p $(dir $(BIN))
	$(GO) build -o $(BIN) ./cmd/riskmap
	$(GO) run ./scripts/benchmonitoring --pg '$(PG_DSN)' --bin $(BIN) --duration 60s --gpkg-duration 10s $(BENCH_ARGS)

deps: ## install PostGIS, GDAL, QGIS (python3-qgis), chromium and mosquitto, start PostgreSQL, its hot standby and mosquitto (Debian, as root)
	bash scripts/install-deps.sh
	bash scripts/start-postgres.sh
	bash scripts/start-standby.sh
	bash scripts/start-mosquitto.sh

clean: ## remove build output and the local store
	rm -rf bin data test-artifacts
	find frontend/dist -mindepth 1 ! -name .gitkeep -delete
