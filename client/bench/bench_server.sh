# Shared by the benchmark scripts that take [BUILD_DIR] (sourced): BUILD
# (the script's first argument, default build), SERVER_BIN, DATA_ROOT
# (default ${TMPDIR:-/tmp}), a fresh data dir in $WORK, hartonomousd started
# and stopped there, and the report's header and footer. PROBE=1 needs
# BENCH_BIN (hartonomous-bench).

BUILD=${1:-build}
DATA_ROOT=${DATA_ROOT:-${TMPDIR:-/tmp}}
SERVER_BIN=$BUILD/server/hartonomousd
WORK=$(mktemp -d "$DATA_ROOT/hbench.XXXXXX")
SERVER_PID=
cleanup() {
  [[ -z $SERVER_PID ]] || kill -TERM "$SERVER_PID" 2>/dev/null || true
  [[ -z $SERVER_PID ]] || wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Starts hartonomousd on LISTEN (on the CPUs in SERVER_CPUS, a taskset list,
# when set); sets SERVER_PID, SERVER_ADDR and LISTEN_S
# (process start to listening, which comes after every index is loaded).
# With PROBE=1 a probe started with the daemon waits for its first answered
# Search; FIRST_QUERY_S is process start to that answer.
start_server() {
  local listen=$1
  : > "$WORK/out"
  local t0 t0_ns probe_pid=
  t0=$(date +%s.%N); t0_ns=$(date +%s%N)
  local pin=()
  [[ -z ${SERVER_CPUS:-} ]] || pin=(taskset -c "$SERVER_CPUS")
  "${pin[@]}" "$SERVER_BIN" --listen "$listen" --data-dir "$WORK/data" >"$WORK/out" 2>>"$WORK/log" &
  SERVER_PID=$!
  if [[ ${PROBE:-0} == 1 ]]; then
    "$BENCH_BIN" restart-probe --since-ns "$t0_ns" --server "$listen" >"$WORK/probe" &
    probe_pid=$!
  fi
  for _ in $(seq 60000); do
    grep -q listening "$WORK/out" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/log" >&2; exit 1; }
    sleep 0.01
  done
  LISTEN_S=$(printf "%.3f" "$(echo "$(date +%s.%N) - $t0" | bc)")
  SERVER_ADDR=$(awk '/listening/ {print $4}' "$WORK/out")
  if [[ -n $probe_pid ]]; then
    wait "$probe_pid"
    FIRST_QUERY_S=$(cat "$WORK/probe")
  fi
}
stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=
}

# require_built BIN...: exits 2 naming the first of hartonomousd and BIN...
# that is not built.
require_built() {
  for bin in "$SERVER_BIN" "$@"; do
    [[ -x $bin ]] || { echo "$(basename "$0" .sh): $bin not found; build it first" >&2; exit 2; }
  done
}

# start_bench_server: the opening of a suite's run: sets BENCH_BIN to
# BUILD's hartonomous-bench, checks that both are built, prints the machine
# header and starts hartonomousd on a free port.
start_bench_server() {
  BENCH_BIN=$BUILD/client/bench/hartonomous-bench
  require_built "$BENCH_BIN"
  print_machine
  start_server 127.0.0.1:0
}

# The machine header; the whole run's time is measured from here.
print_machine() {
  RUN_START=$(date +%s)
  echo "- Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
}

print_run_time() {
  echo "- Whole run: $(( $(date +%s) - RUN_START )) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}
