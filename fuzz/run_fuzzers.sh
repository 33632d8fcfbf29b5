#!/usr/bin/env bash
# Builds the decoder, JSON metadata, client-stream, model-file (safetensors,
# GGUF, ONNX) and RPC request fuzz targets with clang
# (libFuzzer + ASan + UBSan) in build-fuzz/ and runs each for a bounded time.
#   fuzz/run_fuzzers.sh                 # every target, 60 s each
#   SECONDS_PER_TARGET=10 fuzz/run_fuzzers.sh png jpeg
# Exit status is non-zero when a target finds a crash; the reproducer is
# left in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on paths relative to this checkout (not to the file system's
# root), so a clone at another path reuses the same cache entries.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-60}
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(text binary chunker wav pnm idx png jpeg y4m json_metadata page_token client_stream
           safetensors gguf onnx rpc)
fi

# Instrument everything the targets link (the decoders, the JSON parser and
# their base library).
export CC=clang CXX=clang++
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B build-fuzz "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHARTONOMOUS_BUILD_FUZZERS=ON \
  -DHARTONOMOUS_BUILD_TESTS=OFF -DHARTONOMOUS_BUILD_BENCHMARKS=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" >/dev/null
cmake --build build-fuzz -j2 --target "${TARGETS[@]/#/fuzz_}"

mkdir -p build-fuzz/artifacts
# Debian's Python (python3-onnx and python3-numpy, from install-deps.sh)
# writes the ONNX seeds, external data included.
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PYTHON" ] || PYTHON=python3
status=0
for t in "${TARGETS[@]}"; do
  corpus=build-fuzz/corpus/$t
  mkdir -p "$corpus"
  # Seeds: small valid inputs of each format (framed streams for client_stream);
  # the rpc target writes its own (valid requests of its method table).
  if [ "$t" = rpc ]; then
    HT_FUZZ_RPC_SEEDS="$corpus" build-fuzz/fuzz/fuzz_rpc 2>build-fuzz/fuzz_rpc_seeds.log
  else
    "$PYTHON" fuzz/make_seeds.py "$t" "$corpus"
  fi
  echo "== fuzz_$t for ${SECONDS_PER_TARGET}s"
  if ! build-fuzz/fuzz/fuzz_$t -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 \
      -timeout=10 -artifact_prefix=build-fuzz/artifacts/"$t"- "$corpus" 2>build-fuzz/fuzz_$t.log; then
    echo "fuzz_$t FAILED; see build-fuzz/fuzz_$t.log and build-fuzz/artifacts/"
    status=1
  else
    grep -E "^Done|#[0-9]+.*DONE" build-fuzz/fuzz_$t.log | tail -1 || true
  fi
done
exit $status
