#!/usr/bin/env bash
# make bench: loads 1M synthetic units into PostGIS and into a GeoPackage file, reads them back,
# and prints the timings. Takes a few minutes; it is not part of make test.
set -euo pipefail
cd "$(dirname "$0")/.."
# The cached-tile throughput rows need wrk (issue 18: they always run): make deps installs it.
command -v wrk >/dev/null || { echo "make bench 需要 wrk（缓存瓦片吞吐量的对比）：请先运行 make deps" >&2; exit 1; }
N=${N:-1000000}
PG_DSN=${PG_DSN:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
BENCH_DB=riskmap_bench
# Issue 18 asks for the serving figures at every size: the comparison runs again on a city
# of SMALL_N units (a database of its own, dropped at the end).
SMALL_N=${SMALL_N:-200000}
SMALL_DB=riskmap_bench_small
work=$(mktemp -d)
# The bench database goes whatever happens (a failed step stops the script at once, except
# the load test, whose failure fails make bench at the end).
cleanup() {
  rm -rf "$work"
  psql "$PG_DSN" -q -c "DROP DATABASE IF EXISTS ${BENCH_DB:-riskmap_bench} WITH (FORCE)" >/dev/null 2>&1 || true
  psql "$PG_DSN" -q -c "DROP DATABASE IF EXISTS ${SMALL_DB:-riskmap_bench_small} WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
failed=0
bin=bin/riskmap
go build -o "$work/benchscan" ./scripts/benchscan
go build -o "$work/benchserve" ./scripts/benchserve
go build -o "$work/benchhazards" ./scripts/benchhazards
go build -o "$work/benchanalysis" ./scripts/benchanalysis
go build -o "$work/benchmonitoring" ./scripts/benchmonitoring
go build -o "$work/benchload" ./scripts/benchload

base=${PG_DSN%%\?*}; base=${base%/*}
pg="$base/$BENCH_DB?sslmode=disable"
psql "$PG_DSN" -q -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB"
psql "$pg" -q -c "CREATE EXTENSION postgis"

results=()
timeit() { # label, command...
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
  results+=("$(printf '| %-44s | %8.2f s | %s |' "$label" "$secs" "$(tail -n 1 "$work/out")")")
}

echo "== $N synthetic units into PostGIS (COPY)"
timeit "seed --synthetic $N into PostGIS" $bin seed --db "$pg" --synthetic "$N" --seed 1
timeit "read all units back from PostGIS" "$work/benchscan" --db "$pg"
echo "== $N synthetic units into GeoPackage (one transaction)"
timeit "seed --synthetic $N into GeoPackage" $bin seed --db "$work/bench.gpkg" --synthetic "$N" --seed 1
timeit "read all units back from GeoPackage" "$work/benchscan" --db "$work/bench.gpkg"
size=$(du -h "$work/bench.gpkg" | cut -f1)

echo
echo "### Loading and reading $N units"
echo
echo "| step | time | output |"
echo "|---|---|---|"
printf '%s\n' "${results[@]}"
echo
echo "GeoPackage file: $size. Targets: PostGIS load ≤ 60 s, GeoPackage load ≤ 120 s, read-back ≥ 100k units/s."
echo "== serving: index vs PostGIS on the same $N units"
"$work/benchserve" --db "$pg"
# Issue 18: the densest z16 tile of the synthetic 1M city that the cells let through (at
# most 3,000 units counted before drawing; more make clusters), in process: target ≤ 2 ms.
echo "== the densest z16 tile of 1M units, counted before drawing (issue 18: ≤ 2 ms)"
go test ./pkg/tiles -run '^$' -bench 'BenchmarkRenderUnits/1M/z16detail$' -benchtime 200x -benchmem | grep -E '^Benchmark|FAIL|panic|^---|_test.go'
if [ "$SMALL_N" -gt 0 ] && [ "$SMALL_N" != "$N" ]; then
  echo "== serving at $SMALL_N units: index vs PostGIS (issue 18: uncached tiles and small boxes at every size)"
  small="$base/$SMALL_DB?sslmode=disable"
  psql "$PG_DSN" -q -c "DROP DATABASE IF EXISTS $SMALL_DB WITH (FORCE)" -c "CREATE DATABASE $SMALL_DB"
  psql "$small" -q -c "CREATE EXTENSION postgis"
  $bin seed --db "$small" --synthetic "$SMALL_N" --seed 1 >/dev/null
  "$work/benchserve" --db "$small" --wrk 0
  psql "$PG_DSN" -q -c "DROP DATABASE IF EXISTS $SMALL_DB WITH (FORCE)"
fi
echo "== hidden dangers: 200k of them on the same $N units"
"$work/benchhazards" --db "$pg"
echo "== spatial analyses: 1M units and 100k protective targets (issue 16)"
"$work/benchanalysis" --db "$pg"
# Issue 18: incremental publication. The first publication copies the register; the next
# ones write only what changed (target ≤ 1 s for nothing or 1 % changed). The 1 % are real
# new versions: the unit and its approved row move on together.
echo "== publishing $N units: the first, nothing changed, 1 % changed (issue 18)"
results=()
timeit "riskmap publish (the first: the whole register)" $bin publish --db "$pg" --note bench-1
timeit "riskmap publish (nothing changed)" $bin publish --db "$pg" --note bench-2
# change_percent R: a new approved version, with another grade, of the approved units whose
# id is R modulo 100 (1 % of them).
change_percent() {
  psql "$pg" -q -c "UPDATE risk_units SET version = version + 1, grade = CASE grade WHEN 'red' THEN 'orange' ELSE 'red' END
    WHERE id % 100 = $1 AND status = 'approved'" \
    -c "UPDATE approved_units a SET version = r.version, grade = r.grade FROM risk_units r WHERE r.id = a.unit_id AND r.id % 100 = $1"
}
change_percent 0
timeit "riskmap publish (1 % changed)" $bin publish --db "$pg" --note bench-3
# Again with another 1 %, the two tables vacuumed first as autovacuum leaves them (016 asks
# for it after 1 % of change; a cluster with autovacuum off, as CI's, never does).
change_percent 1
psql "$pg" -q -c "VACUUM approved_units" -c "VACUUM published_units"
timeit "riskmap publish (1 % changed, tables vacuumed)" $bin publish --db "$pg" --note bench-4
echo
echo "| step | time | output |"
echo "|---|---|---|"
printf '%s\n' "${results[@]}"
echo
# Issue 18: the load test, last on this database because its writes add units (and it
# publishes the register first if nothing is published). The real server in a process of
# its own, 64 clients for 60 s per pool size; fails if a request fails or an acknowledged
# write is missing from the store or the index.
echo "== load: 64 clients, 60 s, pool 4 and 16 (issue 18)"
"$work/benchload" --db "$pg" --bin "$bin" --clients 64 --duration 60s --pool 4,16 || {
  echo "benchload failed (see above); the other measurements go on" >&2
  failed=1
}
psql "$PG_DSN" -q -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)"

# Issue 17: monitoring (make bench-monitoring runs it alone). The real server on a database
# of its own (riskmap_bench_monitoring, dropped at the end): 10,000 points, 20,000 readings/s
# for 60 s through POST /api/v1/readings, alarm latency on GET /api/v1/events, the 30-day
# chart over HTTP, COPY as the limit; then a GeoPackage for 10 s. Fails if a reading is lost
# or an alarm never reaches the stream; the other measurements go on.
echo "== monitoring over HTTP: 10,000 points, 20,000 readings/s (issue 17)"
"$work/benchmonitoring" --pg "$PG_DSN" --bin "$bin" --duration 60s --gpkg-duration 10s || {
  echo "benchmonitoring failed (see above); the other measurements go on" >&2
  failed=1
}

# The Excel 风险清单 (issue 15, pkg/workbook): export 100k units (≤ 10 s) and read them back.
echo "== Excel export of 100k units"
RISKMAP_BENCH=1 go test ./pkg/workbook -run 'TestExport100k$' -count=1 -v | grep -E 'export of|read back|FAIL|ok'
# Issue 15: the assessment report and the map image of the demo city (target: report ≤ 5 s).
echo "== the demo city's report (PDF, DOCX) and map images"
go test ./pkg/httpapi -run '^TestDemoReport$' -count=1 -v | grep 'demo report:' | sed 's/^ *reports_demo_test.go:[0-9]*: //'
# Issue 15: import 100k rows, checked and written, on the GeoPackage and on PostGIS (≤ 60 s,
# memory under 1 GB).
echo "== Excel import of 100k rows"
RISKMAP_BENCH=1 RISKMAP_REQUIRE_PG=1 PG_DSN="$PG_DSN" go test ./pkg/imports -run 'TestImport100k' -count=1 -v | grep -E 'import|peak|FAIL|ok'
# Issue 18: the plan for national scale in figures — one city of 300,000 synthetic units
# measured here (both indexes' RSS after a forced GC, every non-empty public tile), spread
# over 300 cities and 100M units (scripts/nationalplan; no database).
echo "== national scale: 100M units across 300 cities, from one city measured here"
go run ./scripts/nationalplan --sample 300000
exit $failed
