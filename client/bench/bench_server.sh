# Shared by the search benchmark scripts (sourced): a fresh data dir in
# $WORK, hartonomousd started and stopped there, and the machine header.
# Needs SERVER_BIN and DATA_ROOT; PROBE=1 also needs BENCH_BIN.

WORK=$(mktemp -d "$DATA_ROOT/hbench.XXXXXX")
SERVER_PID=
cleanup() {
  [[ -z $SERVER_PID ]] || kill -TERM "$SERVER_PID" 2>/dev/null || true
  [[ -z $SERVER_PID ]] || wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Starts hartonomousd on LISTEN; sets SERVER_PID, SERVER_ADDR and LISTEN_S
# (process start to listening, which comes after every index is loaded).
# With PROBE=1 a probe started with the daemon waits for its first answered
# Search; FIRST_QUERY_S is process start to that answer.
start_server() {
  local listen=$1
  : > "$WORK/out"
  local t0 t0_ns probe_pid=
  t0=$(date +%s.%N); t0_ns=$(date +%s%N)
  "$SERVER_BIN" --listen "$listen" --data-dir "$WORK/data" >"$WORK/out" 2>>"$WORK/log" &
  SERVER_PID=$!
  if [[ ${PROBE:-0} == 1 ]]; then
    "$BENCH_BIN" --probe-since-ns "$t0_ns" --server "$listen" >"$WORK/probe" &
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

print_machine() {
  echo "- Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
}
