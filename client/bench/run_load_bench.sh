#!/usr/bin/env bash
# Load benchmark (docs/benchmarks.md, "Load"): one fresh hartonomousd with
# Fashion-MNIST's 60,000 training images, then with hartonomous-bench:
#   1. per-call cost: health Check (the bare round trip), Search and
#      BatchSearch of 100 queries (whose per-query time is the index search)
#      at concurrency 1 on one channel, and Search of a collection of the
#      first 10 images (k = 10: the same request and response, ten hits
#      looked up, an index search of ten distances), in ROUNDS interleaved
#      rounds;
#   2. Search at concurrency 1, 8, 64, 256 (closed loop), the peak QPS;
#   3. Search at concurrency 64 open loop at 80% of the peak (p99);
#   4. peak atom ingest (1 KiB atoms, 100 per stream, 8 in flight);
#   5. the h2load cross-check of the same unary Search (run_h2load_check.sh).
# Prints a summary and leaves every JSON report in $OUT (default: a new
# directory under DATA_ROOT, printed).
#
# SPLIT_CPUS=1 runs the server on CPU 0 and the load tools (hartonomous-bench,
# h2load) on the other CPUs, as remote clients would be; by default both
# share every CPU (docs/benchmarks.md, "Load", compares the two).
#
#   client/bench/run_load_bench.sh [BUILD_DIR]      (default: build)
#
# Environment (defaults): VECTORS=60000 EF=20 (recall@10 >= 0.95, see
#   "Vector search") SECONDS_PER_POINT=10 CONCURRENCY="1 8 64 256" ROUNDS=5
#   ROUND_SECS=3 (step 1) SPLIT_CPUS=0 (1: needs at least 2 CPUs)
#   DATA_ROOT=${TMPDIR:-/tmp}
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/bench_server.sh"
BENCH_BIN=$BUILD/client/bench/hartonomous-bench
require_built "$BENCH_BIN"
VECTORS=${VECTORS:-60000}
EF=${EF:-20}
SECS=${SECONDS_PER_POINT:-10}
CONCURRENCY=${CONCURRENCY:-1 8 64 256}
ROUNDS=${ROUNDS:-5}
ROUND_SECS=${ROUND_SECS:-3}
OUT=${OUT:-$(mktemp -d "$DATA_ROOT/hload.XXXXXX")}
PY=/usr/bin/python3
CPUS=$(nproc)
CLIENT_PIN=()
if [[ ${SPLIT_CPUS:-0} == 1 && $CPUS -ge 2 ]]; then
  SERVER_CPUS=0
  CLIENT_PIN=(taskset -c "1-$((CPUS - 1))")
fi

start_server 127.0.0.1:0
echo "load bench: hartonomousd $SERVER_ADDR (pid $SERVER_PID), reports in $OUT"
if [[ -n ${SERVER_CPUS:-} ]]; then
  echo "CPUs: server on $SERVER_CPUS, load tools on ${CLIENT_PIN[2]}"
else
  echo "CPUs: server and load tools share all $CPUS"
fi
bench() {  # bench NAME WORKLOAD FLAGS...: one run, its report in $OUT/NAME.json
  local name=$1; shift
  local workload=$1; shift
  "${CLIENT_PIN[@]}" "$BENCH_BIN" "$workload" --server "$SERVER_ADDR" --vectors "$VECTORS" --ef "$EF" \
    --server-pid "$SERVER_PID" --json-out "$OUT/$name.json" "$@" >"$OUT/$name.txt"
}
field() { $PY -c "import json,sys; d=json.load(open('$OUT/$1.json')); print(eval('d'+sys.argv[1]))" "$2"; }

# Loads the collection (untimed here: see "Vector search" for load times).
bench prepare search --requests 1
bench prepare-small search --collection bench-fmnist-10 --vectors 10 --requests 1

# Interleaved rounds, so that the three see the same machine (it is shared).
for r in $(seq "$ROUNDS"); do
  bench "health-r$r" health --duration-s "$ROUND_SECS" --warmup-s 0.5
  bench "search-r$r" search --duration-s "$ROUND_SECS" --warmup-s 0.5
  bench "batch-r$r" batch-search --queries-per-call 100 --duration-s "$ROUND_SECS" --warmup-s 0.5
  bench "small-r$r" search --collection bench-fmnist-10 --vectors 10 --duration-s "$ROUND_SECS" \
    --warmup-s 0.5
done
$PY - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def p50s(name):
    return [json.load(open(f"{out}/{name}-r{r}.json"))["latency_us"]["p50"] for r in range(1, rounds + 1)]
health, search, batch, small = (statistics.median(p50s(n))
                                for n in ("health", "search", "batch", "small"))
index = batch / 100
overhead = search - index
print(f"per-call cost (median of {rounds} interleaved rounds of p50, concurrency 1): health {health:.0f} us,"
      f" Search {search:.0f} us, index search {index:.0f} us (BatchSearch of 100 / 100),"
      f" Search of 10 vectors {small:.0f} us")
print(f"  Search beyond the index (Search - BatchSearch/100): {overhead:.0f} us ="
      f" {overhead / health:.2f}x the bare round trip (target <= 1.5x)")
print(f"  Search of 10 vectors (all but the index search): {small:.0f} us ="
      f" {small / health:.2f}x the bare round trip (target <= 1.5x)")
PY

peak=0
for c in $CONCURRENCY; do
  channels=$(( c < 8 ? c : 8 ))
  bench "search-c$c" search --concurrency "$c" --channels "$channels" --duration-s "$SECS" \
    --warmup-s 1
  qps=$(field "search-c$c" "['calls_per_s']")
  echo "Search concurrency $c: $(printf %.0f "$qps") q/s, p50 $(field "search-c$c" "['latency_us']['p50']") us," \
       "p99 $(field "search-c$c" "['latency_us']['p99']") us, errors $(field "search-c$c" "['errors']")"
  peak=$($PY -c "print(max($peak, $qps))")
done
rate=$($PY -c "print(round($peak * 0.8))")
bench search-open64 search --concurrency 64 --channels 8 --rate "$rate" --duration-s "$SECS" \
  --warmup-s 1
echo "Search open loop at 80% of the peak ($rate/s), concurrency 64:" \
     "$(printf %.0f "$(field search-open64 "['calls_per_s']")") q/s," \
     "p99 $(field search-open64 "['latency_us']['p99']") us (target < 10000 us)"
last=${CONCURRENCY##* }
echo "Search at concurrency $last: $($PY -c "print(f'{$(field "search-c$last" "['calls_per_s']") / $peak:.3f}')")x the peak (target >= 0.9)"

bench ingest-c8 ingest-atoms --concurrency 8 --channels 8 --atoms-per-call 100 \
  --duration-s "$SECS" --warmup-s 1
echo "IngestAtoms, 8 in flight, 100 x 1 KiB per stream:" \
     "$(printf %.0f "$(field ingest-c8 "['items_per_s']")") atoms/s," \
     "p99 $(field ingest-c8 "['latency_us']['p99']") us"

SERVER_ADDR=$SERVER_ADDR BENCH_BIN=$BENCH_BIN OUT=$OUT VECTORS=$VECTORS EF=$EF \
  "${CLIENT_PIN[@]}" "$HERE/run_h2load_check.sh"
