#!/usr/bin/env bash
# Installs the Debian 12 packages Hartonomous builds, runs and tests with.
# Idempotent: installs only what is missing. Needs root or sudo for apt.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  liblmdb-dev libzstd-dev libhnswlib-dev libboost-dev nlohmann-json3-dev libspdlog-dev
  catch2 libssl-dev libpng-dev libjpeg62-turbo-dev zlib1g-dev
  clang libclang-rt-dev
  dataset-fashion-mnist
  python3-grpcio python3-protobuf python3-venv python3-pytest sox jq
  libonnx-dev libonnx-testdata python3-onnx python3-numpy
  nghttp2-client
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
