#!/usr/bin/env bash
# Peak memory of IngestDocument: for each input, a fresh hartonomousd, one
# document ingested with the CLI, and the daemon's peak resident set (VmHWM)
# before and after; prints a Markdown table for docs/benchmarks.md with the
# growth as a multiple of the document's size (median of RUNS runs).
# Inputs come from Debian's license texts: prose (16 MiB of them), the
# densest text the part budget allows (distinct 16-byte sentences, 8 MiB),
# and two inputs past the budget (16 MiB of ". ", a 4 MiB PGM in 1 x 1
# patches). Builds nothing.
#
#   client/bench/run_document_memory.sh [BUILD_DIR]      (default: build)
# Environment: RUNS=3  DATA_ROOT=${TMPDIR:-/tmp}
set -euo pipefail

RUNS=${RUNS:-3}
# BUILD, SERVER_BIN, a fresh $WORK, start_server / stop_server and the
# cleanup trap.
source "$(dirname "$0")/bench_server.sh"
CLI_BIN=$BUILD/client/cli/hartonomous
require_built "$CLI_BIN"

/usr/bin/python3 - "$WORK" <<'PY'
import glob, sys
work = sys.argv[1]
texts = b"".join(open(f, "rb").read() for f in sorted(glob.glob("/usr/share/common-licenses/*"))
                 if not f.endswith(".gz"))
prose = texts
while len(prose) < 16 << 20:
    prose += texts
open(work + "/prose16.txt", "wb").write(prose[:16 << 20])
words = bytes(32 if (c in b".!?\n\r" or c >= 0x80) else c for c in texts)
out, size, at = [], 0, 0
while size + 16 <= 8 << 20:
    o = at % (len(words) - 16)
    out.append(words[o:o + 14] + b". ")
    size += 16
    at += 7
open(work + "/dense8.txt", "wb").write(b"".join(out))
open(work + "/dots16.txt", "wb").write(b". " * (8 << 20))
raster = (texts * 40)[:2048 * 2048]
open(work + "/image4.pgm", "wb").write(b"P5\n2048 2048\n255\n" + raster)
PY

hwm() { echo $(( $(awk '/VmHWM/ {print $2}' "/proc/$1/status") * 1024 )); }

# measure FILE ARGS...: prints "growth_bytes status"
measure() {
  local file=$1; shift
  rm -rf "$WORK/data"
  start_server 127.0.0.1:0
  local addr=$SERVER_ADDR stats
  for _ in $(seq 3000); do
    # Serving once GetStats answers and does not say "starting" (a server
    # without the state field answers only when serving).
    stats=$("$CLI_BIN" --server "$addr" server-stats --json 2>/dev/null) &&
      ! grep -q '"state": "starting"' <<<"$stats" && break
    sleep 0.01
  done
  local before after status=ok
  before=$(hwm "$SERVER_PID")
  "$CLI_BIN" --server "$addr" ingest-doc "$@" "$file" >"$WORK/cli" 2>&1 || status=refused
  after=$(hwm "$SERVER_PID")
  stop_server
  echo "$((after - before)) $status"
}

echo "| document | bytes | outcome | peak growth MB (median) | x document size | runs (MB) |"
echo "|---|---|---|---|---|---|"
while read -r name file args; do
  size=$(stat -c %s "$WORK/$file")
  runs=(); status=
  for _ in $(seq "$RUNS"); do
    read -r growth status < <(measure "$WORK/$file" $args)
    runs+=("$growth")
  done
  median=$(printf "%s\n" "${runs[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  mbs=$(printf "%s\n" "${runs[@]}" | awk '{printf "%s%.1f", (NR>1?", ":""), $1/1e6}')
  printf "| %s | %d | %s | %.1f | %.1f | %s |\n" "${name//_/ }" "$size" "$status" \
    "$(echo "$median/1000000" | bc -l)" "$(echo "$median/$size" | bc -l)" "$mbs"
done <<'LIST'
prose:_16_MiB_of_license_texts prose16.txt --modality text
densest_text_the_budget_allows:_distinct_16-byte_sentences dense8.txt --modality text
past_the_budget:_16_MiB_of_dot-space_sentences dots16.txt --modality text
past_the_budget:_4_MiB_PGM_in_1x1_patches image4.pgm --modality image --patch 1
LIST
