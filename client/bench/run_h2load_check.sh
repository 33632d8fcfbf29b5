#!/usr/bin/env bash
# The h2load cross-check: the same unary Search (one prepared query, sent as
# one prepared gRPC frame) driven by h2load (Debian's nghttp2-client, a load
# tool none of our code is in) and by hartonomous-bench at the same load
# (CLIENTS connections x STREAMS concurrent streams each), side by side.
# The frame's answer is checked first with nghttp (grpc-status 0 in the
# trailers), since h2load counts HTTP statuses, not gRPC ones.
#
#   SERVER_ADDR=127.0.0.1:PORT BENCH_BIN=build/client/bench/hartonomous-bench \
#     client/bench/run_h2load_check.sh
#
# Environment (defaults): REQUESTS=20000 CLIENTS=4 STREAMS=4 OUT (a new
#   directory) VECTORS=60000 EF=20 (the collection bench-fmnist is created by
#   hartonomous-bench when missing)
set -euo pipefail
: "${SERVER_ADDR:?SERVER_ADDR=host:port of a running hartonomousd}"
: "${BENCH_BIN:?BENCH_BIN=path of hartonomous-bench}"
command -v h2load >/dev/null || { echo "run_h2load_check: h2load missing (apt install nghttp2-client)" >&2; exit 2; }
REQUESTS=${REQUESTS:-20000}
CLIENTS=${CLIENTS:-4}
STREAMS=${STREAMS:-4}
VECTORS=${VECTORS:-60000}
EF=${EF:-20}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/h2check.XXXXXX")}
PY=/usr/bin/python3
common=(--server "$SERVER_ADDR" --vectors "$VECTORS" --ef "$EF" --nq 1)

method=$("$BENCH_BIN" search "${common[@]}" --frame-out "$OUT/search.frame")
url="http://$SERVER_ADDR$method"
headers=(-H "content-type: application/grpc" -H "te: trailers")
nghttp -v -d "$OUT/search.frame" "${headers[@]}" "$url" >"$OUT/nghttp.txt" 2>&1 || true
grep -q "grpc-status: 0" "$OUT/nghttp.txt" || {
  echo "run_h2load_check: the prepared frame is not answered with grpc-status 0:" >&2
  grep -i "grpc-" "$OUT/nghttp.txt" >&2 || tail -20 "$OUT/nghttp.txt" >&2
  exit 1
}

h2load -n "$REQUESTS" -c "$CLIENTS" -m "$STREAMS" "${headers[@]}" -d "$OUT/search.frame" "$url" \
  >"$OUT/h2load.txt"
"$BENCH_BIN" search "${common[@]}" --requests "$REQUESTS" --channels "$CLIENTS" \
  --concurrency $((CLIENTS * STREAMS)) --json-out "$OUT/h2load-peer.json" >/dev/null

$PY - "$OUT/h2load.txt" "$OUT/h2load-peer.json" "$CLIENTS" "$STREAMS" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
peer = json.load(open(sys.argv[2]))
clients, streams = sys.argv[3], sys.argv[4]
def us(value):
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]
rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text).group(1))
done = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed", text)
t = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)", text)
mn, mx, mean = (us(v) for v in t.groups())
print(f"h2load cross-check, unary Search, {clients} connections x {streams} streams:")
print(f"  h2load            {rps:9.0f} q/s  mean {mean:7.0f} us  min {mn:5.0f} us  max {mx:7.0f} us"
      f"  ({done.group(3)} of {done.group(1)} succeeded)")
l = peer["latency_us"]
print(f"  hartonomous-bench {peer['calls_per_s']:9.0f} q/s  mean {l['mean']:7.0f} us  min {l['min']:5.0f} us"
      f"  max {l['max']:7.0f} us  ({peer['ok']} of {peer['calls']} OK)")
print(f"  ratio hartonomous-bench / h2load: throughput {peer['calls_per_s'] / rps:.3f}, mean latency {l['mean'] / mean:.3f}")
PY
