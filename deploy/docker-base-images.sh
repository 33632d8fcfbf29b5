#!/usr/bin/env bash
# Makes sure the base images deploy/Dockerfile builds from exist locally:
# debian:bookworm and debian:bookworm-slim. Pulls them when a registry is
# reachable; otherwise creates them with debootstrap from the Debian archive
# apt uses, and docker import (the "slim" one without docs, man pages and
# locales, as Docker's own slim image).
# Usage: deploy/docker-base-images.sh   (needs root, docker and debootstrap)
set -euo pipefail

MIRROR=${DEBIAN_MIRROR:-}
if [ -z "$MIRROR" ]; then
  MIRROR=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  if [ -z "$MIRROR" ]; then
    MIRROR=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  fi
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi

have_image() { docker image inspect "$1" >/dev/null 2>&1; }
pulled() { timeout 20 docker pull -q "$1" >/dev/null 2>&1; }

need=()
for tag in debian:bookworm debian:bookworm-slim; do
  have_image "$tag" || pulled "$tag" || need+=("$tag")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "docker-base-images: creating ${need[*]} with debootstrap from $MIRROR"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" >/dev/null
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
  if ! have_image debian:bookworm; then
    tar -C "$root" -c . | docker import - debian:bookworm >/dev/null
  fi
  if ! have_image debian:bookworm-slim; then
    rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
      "$root"/usr/share/locale/*
    tar -C "$root" -c . | docker import - debian:bookworm-slim >/dev/null
  fi
fi
docker image ls debian
