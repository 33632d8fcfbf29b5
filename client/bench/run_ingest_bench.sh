#!/usr/bin/env bash
# Atom ingest benchmark: runs hartonomous-bench against a fresh hartonomousd for
# each scenario, plus the in-process LMDB reference, and prints a Markdown
# section (medians of RUNS runs) for docs/benchmarks.md. Builds nothing.
#
#   client/bench/run_ingest_bench.sh [BUILD_DIR]      (default: build)
#
# Environment (defaults): RUNS=3 ATOMS=200000 ATOM_BYTES=1024 BATCH=1000
#   DATA_ROOT=${TMPDIR:-/tmp} (must be a real disk: the commits fsync there)
#   BENCH_TIMEOUT=600 (seconds, per program run)  KEEP_RESULTS=  (a file to
#   copy the raw JSON lines to)
set -euo pipefail

BUILD=${1:-build}
RUNS=${RUNS:-3}
ATOMS=${ATOMS:-200000}
ATOM_BYTES=${ATOM_BYTES:-1024}
BATCH=${BATCH:-1000}
DATA_ROOT=${DATA_ROOT:-${TMPDIR:-/tmp}}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-600}
SCENARIOS=("1 0" "8 0" "1 0.5" "8 0.5")  # clients dup-fraction

SERVER_BIN=$BUILD/server/hartonomousd
BENCH_BIN=$BUILD/client/bench/hartonomous-bench
for bin in "$SERVER_BIN" "$BENCH_BIN"; do
  [[ -x $bin ]] || { echo "run_ingest_bench: $bin not found; build it first" >&2; exit 2; }
done

WORK=$(mktemp -d "$DATA_ROOT/hbench.XXXXXX")
RESULTS=$WORK/results.jsonl
SERVER_PID=
SERVER_DATA=

stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 300); do  # 30 s for a clean shutdown
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "run_ingest_bench: hartonomousd ignored SIGTERM for 30 s; killing it" >&2
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  [[ -z $SERVER_DATA ]] || rm -rf "$SERVER_DATA"
  SERVER_DATA=
}

cleanup() {
  stop_server
  if [[ -n ${KEEP_RESULTS:-} && -f $RESULTS ]]; then cp "$RESULTS" "$KEEP_RESULTS"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts hartonomousd on a fresh data dir; sets SERVER_PID and SERVER_ADDR.
start_server() {
  SERVER_DATA=$(mktemp -d "$WORK/data.XXXXXX")
  local log=$WORK/server.out
  : >"$log"
  stdbuf -oL "$SERVER_BIN" --listen 127.0.0.1:0 --data-dir "$SERVER_DATA" \
    >"$log" 2>>"$WORK/server.err" &
  SERVER_PID=$!
  SERVER_ADDR=
  for _ in $(seq 300); do  # 30 s to print its address
    SERVER_ADDR=$(sed -n 's/.*listening on \([^[:space:]]*\).*/\1/p' "$log" | head -n 1)
    [[ -n $SERVER_ADDR ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "run_ingest_bench: hartonomousd did not report 'listening on HOST:PORT'" >&2
  tail -n 20 "$WORK/server.err" >&2 || true
  return 1
}

# Runs one bench command; appends its JSON line (or a failure record).
run_bench() {
  local label=$1
  shift
  local out rc=0
  out=$(timeout -k 10 "$BENCH_TIMEOUT" "$BENCH_BIN" "$@" --atoms "$ATOMS" \
        --atom-bytes "$ATOM_BYTES" --batch "$BATCH" --json) || rc=$?
  if [[ $rc -ne 0 && $rc -ne 3 ]] || [[ -z $out ]]; then
    echo "run_ingest_bench: $label failed (exit $rc)" >&2
    out="{\"mode\":\"$1\",\"failed\":true,\"exit\":$rc}"
  elif [[ $rc -eq 3 ]]; then
    echo "run_ingest_bench: $label: verification FAILED: $out" >&2
  fi
  echo "$out" >>"$RESULTS"
  echo "  $label: $(/usr/bin/python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("%.0f atoms/s" % r["atoms_per_s"] if "atoms_per_s" in r else "failed")' "$out")" >&2
}

START_DATE=$(date -u +'%Y-%m-%d %H:%M UTC')
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$RUNS"); do
  echo "run $run/$RUNS" >&2
  for scenario in "${SCENARIOS[@]}"; do
    read -r clients dup <<<"$scenario"
    start_server
    run_bench "ingest clients=$clients dup=$dup" ingest --server "$SERVER_ADDR" \
      --server-pid "$SERVER_PID" --clients "$clients" --dup-fraction "$dup"
    stop_server
    ref_dir=$(mktemp -d "$WORK/ref.XXXXXX")
    run_bench "reference clients=$clients dup=$dup" ingest-reference --dir "$ref_dir" \
      --clients "$clients" --dup-fraction "$dup"
    rm -rf "$ref_dir"
  done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

CPU_MODEL=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
CPUS=$(nproc)
RAM=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
KERNEL=$(uname -r)
FS=$(df -T "$DATA_ROOT" | awk 'NR == 2 {print $2}')
REV=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)
COMMAND="RUNS=$RUNS ATOMS=$ATOMS ATOM_BYTES=$ATOM_BYTES BATCH=$BATCH client/bench/run_ingest_bench.sh $BUILD"

/usr/bin/python3 - "$RESULTS" <<EOF
import json, statistics, sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print("## Atom ingest")
print()
print("Streaming ingest of $ATOMS atoms of $ATOM_BYTES bytes, $BATCH atoms per "
      "IngestAtoms stream (one stream = one transaction), durable commits. "
      "Atoms are $ATOM_BYTES-byte windows of the license texts in "
      "/usr/share/common-licenses behind a unique 11-byte prefix; with 50% "
      "duplicates, half of the atoms sent repeat content sent earlier, by the "
      "same or another client, often still in flight. Every run starts a fresh "
      "hartonomousd on an empty data dir. The reference is the same atoms and "
      "batches done in-process by one thread: SHA-256 (OpenSSL) plus one durable "
      "LMDB write transaction per batch (hash lookup, then refcount update or "
      "record + content + hash index puts), without gRPC or group commit.")
print()
print("- Machine: $CPU_MODEL, $CPUS cores, $RAM RAM, Linux $KERNEL, data dir on $FS")
print("- Date: $START_DATE; commit $REV; Release build; load average "
      "$LOAD_START at start, $LOAD_END at end")
print("- Command: \`$COMMAND\`")
print("- Values are medians of $RUNS runs; 'runs' lists every run's atoms/s. "
      "Client and server share the same $CPUS cores; 'others' is the CPU time "
      "other processes on the machine used during the measured interval "
      "(from /proc/stat), a measure of interference. MB = 10^6 content bytes; "
      "'data file' is the LMDB data.mdb size in use after the run. "
      "Batch latency: stream open to Finish returned (reference: one batch's "
      "hashing, puts and commit).")
print()
print("| clients | dup | program | atoms/s | MB/s | batch p50 ms | batch p99 ms "
      "| commits/s | atoms/commit | requests/commit | created | reused "
      "| CPU s client / server / others | data file MB | runs (atoms/s) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
failures = 0
scenarios = []
for r in rows:
    key = (r.get("clients"), r.get("dup_fraction"))
    if None not in key and key not in scenarios:
        scenarios.append(key)
for clients, dup in scenarios:
    for mode, label in (("ingest", "hartonomousd"), ("ingest-reference", "LMDB in-process")):
        group = [r for r in rows if r.get("mode") == mode and r.get("clients") == clients
                 and r.get("dup_fraction") == dup and not r.get("failed")]
        bad = [r for r in group if not r.get("verified")]
        failures += len(bad)
        if not group:
            continue
        med = lambda k: statistics.median(r[k] for r in group)
        fmt = lambda v: "%.1f" % v if v >= 0 else "-"
        cpu = "%s / %s / %s" % (fmt(med("client_cpu_s")), fmt(med("server_cpu_s")), fmt(med("other_cpu_s")))
        if mode == "ingest-reference":
            cpu = "%s (in-process) / - / %s" % (fmt(med("client_cpu_s")), fmt(med("other_cpu_s")))
        sizes = [r["phases"]["data_file_bytes"] for r in group if "data_file_bytes" in r.get("phases", {})]
        size = "%.0f" % (statistics.median(sizes) / 1e6) if sizes else "-"
        print("| %d | %d%% | %s | %.0f | %.1f | %.1f | %.1f | %.1f | %.0f | %.2f | %.0f | %.0f | %s | %s | %s |" % (
            clients, round(dup * 100), label, med("atoms_per_s"), med("mb_per_s"),
            med("batch_p50_ms"), med("batch_p99_ms"), med("commits_per_s"),
            med("atoms_per_commit"), med("requests_per_commit"), med("created"),
            med("reused"), cpu, size,
            ", ".join("%.0f" % r["atoms_per_s"] for r in group) + (" (%d unverified)" % len(bad) if bad else "")))
failed_runs = sum(1 for r in rows if r.get("failed"))
print()
if failures or failed_runs:
    print("**%d runs failed verification and %d failed to run.**" % (failures, failed_runs))
else:
    print("Every run verified: each batch returned one result per atom with the "
          "expected SHA-256, created + reused matched the distinct and duplicate "
          "counts, and equal content always got the same atom_id.")
print()
print("Reference time by phase (s, medians): " + "; ".join(
    "%d client(s) %d%%: %s" % (clients, round(dup * 100), ", ".join(
        "%s %.2f" % (k, statistics.median(r["phases"][k] for r in group))
        for k in sorted(group[0]["phases"]) if k.endswith("_s")))
    for clients, dup in scenarios
    for group in [[r for r in rows if r.get("mode") == "ingest-reference" and not r.get("failed")
                   and r.get("clients") == clients and r.get("dup_fraction") == dup]]
    if group))
EOF
