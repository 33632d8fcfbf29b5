#!/bin/sh
# Proof that exported models are the real thing: the Silero VAD models
# shipped in the npm package @ricky0123/vad-web (v5, v6 and the legacy
# model) are imported into a fresh hartonomousd, exported back, and run
# with onnxruntime-node (npm) on speech made by espeak-ng; the original
# and the exported file must give the same output for every frame. Also
# prints what the models share in storage. Then each model is quantized
# (QuantizeModel int8 and q8_0, every layer that suits the type), exported
# as ONNX with the quantized initializers dequantized in place (ExportModel
# format=onnx), and run on the same speech: prints the largest and mean
# deviation of the speech probability from the original's next to the
# quantized layers' SNR (min / median / max over the layers).
#   client/bench/vad/silero_vad_check.sh BUILD_DIR [WORK_DIR]
# Needs node/npm (installs the two packages into WORK_DIR/npm with
# --ignore-scripts: onnxruntime-node's CPU binaries ship in its package),
# espeak-ng and sox.
set -eu
BUILD=$(cd "$1" && pwd)
WORK=${2:-${TMPDIR:-$(dirname "$(mktemp -u)")}/hartonomous-vad}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORK/npm"
cd "$WORK/npm"
[ -f package.json ] || echo '{}' > package.json
[ -d node_modules/onnxruntime-node ] && [ -d node_modules/@ricky0123/vad-web ] ||
  npm install --no-audit --no-fund --ignore-scripts @ricky0123/vad-web onnxruntime-node >/dev/null
DIST=$WORK/npm/node_modules/@ricky0123/vad-web/dist
espeak-ng -v en-us -s 150 -w "$WORK/speech.raw.wav" \
  "Hartonomous stores every model once. Silence follows this sentence." 
# espeak-ng speaks at 22050 Hz; the models want 16 kHz (sox resamples).
sox "$WORK/speech.raw.wav" -r 16000 -c 1 -b 16 "$WORK/speech.wav"

"$BUILD/server/hartonomousd" --listen 127.0.0.1:0 --data-dir "$WORK/data.$$" >"$WORK/daemon.out" 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK/data.$$"' EXIT
while ! grep -q "listening on" "$WORK/daemon.out"; do
  kill -0 $PID || { echo "hartonomousd did not start" >&2; exit 1; }
  sleep 0.1
done
ADDR=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$WORK/daemon.out")
H="$BUILD/client/cli/hartonomous --server $ADDR"
for m in silero_vad_v5 silero_vad_v6 silero_vad_legacy; do
  $H --json model import --name "$m" "$DIST/$m.onnx" >"$WORK/$m.import.json"
  /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('%-18s %8d bytes, %8d new, layers %d (shared %d)' % (sys.argv[2], r['bytes_received'], r['new_bytes_stored'], len(r['layers']), sum(1 for l in r['layers'] if l['sharing']=='shared')))" "$WORK/$m.import.json" "$m"
  $H model export "$m" -o "$WORK/$m.exported.onnx" >/dev/null
  cmp "$DIST/$m.onnx" "$WORK/$m.exported.onnx"
  NODE_PATH="$WORK/npm/node_modules" node "$HERE/run_vad.js" "$DIST/$m.onnx" "$WORK/speech.wav" >"$WORK/$m.original.out"
  NODE_PATH="$WORK/npm/node_modules" node "$HERE/run_vad.js" "$WORK/$m.exported.onnx" "$WORK/speech.wav" >"$WORK/$m.exported.out"
  cmp "$WORK/$m.original.out" "$WORK/$m.exported.out"
  echo "$m: $(wc -l <"$WORK/$m.original.out") frames, outputs equal; max speech probability $(sort -g "$WORK/$m.original.out" | tail -1)"
done

for m in silero_vad_v5 silero_vad_v6 silero_vad_legacy; do
  for t in int8 q8_0; do
    q="$m-$t"
    if ! $H --json model quantize "$m" --type $t --name "$q" >"$WORK/$q.quantize.json" 2>"$WORK/$q.err"; then
      echo "$q: not quantized: $(cat "$WORK/$q.err")"
      continue
    fi
    $H model export "$q" --format onnx -o "$WORK/$q.onnx" >/dev/null
    cmp -s "$DIST/$m.onnx" "$WORK/$q.onnx" && { echo "$q: the export equals the original" >&2; exit 1; }
    [ "$(wc -c <"$WORK/$q.onnx")" -eq "$(wc -c <"$DIST/$m.onnx")" ]
    NODE_PATH="$WORK/npm/node_modules" node "$HERE/run_vad.js" "$WORK/$q.onnx" "$WORK/speech.wav" >"$WORK/$q.out"
    /usr/bin/python3 - "$WORK/$m.original.out" "$WORK/$q.out" "$WORK/$q.quantize.json" "$q" <<'PY'
import json, statistics, sys
a = [float(x) for x in open(sys.argv[1])]
b = [float(x) for x in open(sys.argv[2])]
assert len(a) == len(b) and a, "frame counts differ"
d = [abs(x - y) for x, y in zip(a, b)]
r = json.load(open(sys.argv[3]))
q = [l for l in r["layers"] if l["quantized"]]
# An exact layer's SNR is +inf (JSON null).
snr = sorted(float("inf") if l["snr_db"] is None else l["snr_db"] for l in q)
before = sum(l["bytes_before"] for l in q)
after = sum(l["bytes_after"] for l in q)
flips = sum((x > 0.5) != (y > 0.5) for x, y in zip(a, b))
print("%-24s %3d of %3d layers quantized (%d -> %d bytes), SNR dB min %.1f median %.1f max %.1f; "
      "speech probability deviation max %.2e mean %.2e over %d frames, %d decisions (p > 0.5) changed"
      % (sys.argv[4], len(q), len(r["layers"]), before, after, snr[0], statistics.median(snr),
         snr[-1], max(d), sum(d) / len(d), len(d), flips))
PY
  done
done
