# riskmap — `make help` lists the targets.
GO      ?= go
BIN     := bin/riskmap
DB      ?= ./data/riskmap.gpkg
LISTEN  ?= 127.0.0.1:8080
PG_DSN  ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.DEFAULT_GOAL := help
.PHONY: help build run test test-short vet fuzz bench deps clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/riskmap
	$(GO) build -o $(BIN) ./cmd/riskmap

run: build ## build, create the GeoPackage store, load the demo city on first start and serve
	$(BIN) serve --demo --db $(DB) --listen $(LISTEN)

vet: ## gofmt and go vet
	@out=$$(gofmt -l cmd pkg geodata sql scripts); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: vet ## run every test (PostGIS tests need a server: see README)
	$(GO) test -race -count=1 -timeout 20m ./...

test-short: ## run the tests that need no database server
	$(GO) test -short -count=1 ./...

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	bash scripts/fuzz.sh $${FUZZTIME:-30s}

bench: build ## load 1M synthetic units into PostGIS and GeoPackage and time it (minutes)
	PG_DSN='$(PG_DSN)' bash scripts/bench.sh

deps: ## install PostGIS, GDAL and chromium (Debian, as root)
	bash scripts/install-deps.sh
	bash scripts/start-postgres.sh

clean: ## remove build output and the local store
	rm -rf bin data test-artifacts
