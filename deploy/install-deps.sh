#!/usr/bin/env bash
# Installs the Debian 12 packages Hartonomous builds, runs and tests with.
# Idempotent: installs only what is missing. Needs root or sudo for apt.
# Usage: deploy/install-deps.sh          build and test packages (CI, README)
#        deploy/install-deps.sh --build  only what building the server and
#                                        the CLI needs (the Docker image)
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake pkg-config git ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  liblmdb-dev libzstd-dev libhnswlib-dev libboost-dev nlohmann-json3-dev libspdlog-dev
  libssl-dev libpng-dev libjpeg62-turbo-dev zlib1g-dev
  libonnx-dev
  # The metrics and status HTTP port.
  libcpp-httplib-dev
)
TEST_PACKAGES=(
  catch2
  clang libclang-rt-dev
  dataset-fashion-mnist
  python3-grpcio python3-protobuf python3-venv python3-pytest sox jq openssl
  libonnx-testdata python3-onnx python3-numpy
  nghttp2-client
  # mdb_stat: the storage benchmarks' pages per table.
  lmdb-utils
  # /metrics checked by promtool and scraped by a real Prometheus server.
  prometheus
  # The status page rendered and screenshotted by a real browser.
  chromium
  # The Docker image built and run end to end (deploy/docker-test.sh); base
  # images made with debootstrap when no registry is reachable.
  docker.io debootstrap
  # The manifests' offline checks (deploy/check-manifests.sh); node and npm
  # are added below when the machine has none.
  docker-compose
)

PACKAGES=("${BUILD_PACKAGES[@]}")
if [ "${1:-}" != "--build" ]; then
  PACKAGES+=("${TEST_PACKAGES[@]}")
  # Kubernetes manifests are checked with an npm package.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then PACKAGES+=(nodejs npm); fi
fi

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
