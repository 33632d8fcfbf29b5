#!/bin/sh
# Proof that exported models are the real thing: the Silero VAD models
# shipped in the npm package @ricky0123/vad-web (v5, v6 and the legacy
# model) are imported into a fresh hartonomousd, exported back, and run
# with onnxruntime-node (npm) on speech made by espeak-ng; the original
# and the exported file must give the same output for every frame. Also
# prints what the models share in storage.
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
