#!/usr/bin/env bash
# Checks the deployment manifests offline:
#   docker-compose.yml          docker-compose config (Debian's docker-compose)
#   deploy/k8s/*.yaml           the Kubernetes API schemas (npm kubernetes-models,
#                               pinned in deploy/k8s/check/package-lock.json)
#   deploy/systemd/*.service    systemd-analyze verify, any warning fails
# Usage: deploy/check-manifests.sh [BUILD_DIR]   (default ./build; the npm
#        packages are installed under BUILD_DIR/k8s-check, and the systemd
#        unit is verified against BUILD_DIR's programs)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=$(realpath "${1:-${BUILD_DIR:-build}}")
fail() { echo "check-manifests: FAILED: $*" >&2; exit 1; }

# The server requires its admin key: without one the file must not resolve.
if env -u HARTONOMOUS_ADMIN_KEY docker-compose -f docker-compose.yml config -q 2>/dev/null; then
  fail "docker-compose.yml resolves without HARTONOMOUS_ADMIN_KEY"
fi
export HARTONOMOUS_ADMIN_KEY=manifest-check-key-0123456789abcdef
docker-compose -f docker-compose.yml config -q || fail "docker-compose.yml"
docker-compose -f docker-compose.yml --profile bench config -q || fail "docker-compose.yml (bench)"
echo "check-manifests: docker-compose.yml valid"

CHECK_DIR="$BUILD_DIR/k8s-check"
mkdir -p "$CHECK_DIR"
cp deploy/k8s/check/package.json deploy/k8s/check/package-lock.json deploy/k8s/check/check.mjs \
  "$CHECK_DIR/"
if ! (cd "$CHECK_DIR" && npm ls --silent >/dev/null 2>&1); then
  (cd "$CHECK_DIR" && npm ci --no-audit --no-fund --silent) || fail "npm ci"
fi
node "$CHECK_DIR/check.mjs" deploy/k8s/*.yaml || fail "deploy/k8s"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for unit in deploy/systemd/*.service; do
  # The unit names the installed programs; verify it against the built ones.
  sed -e "s|/usr/local/bin/hartonomousd|$BUILD_DIR/server/hartonomousd|g" \
      -e "s|/usr/local/bin/hartonomous |$BUILD_DIR/client/cli/hartonomous |g" \
      "$unit" >"$work/$(basename "$unit")"
  out=$(systemd-analyze verify "$work/$(basename "$unit")" 2>&1) || fail "$unit: $out"
  [ -z "$out" ] || fail "$unit: $out"
  echo "check-manifests: $unit valid"
done
# The Grafana dashboard: JSON whose every query promtool can parse.
python3 - deploy/grafana/hartonomous-dashboard.json >"$work/queries" <<'PY' || fail "dashboard JSON"
import json, sys
dash = json.load(open(sys.argv[1]))
for panel in dash["panels"]:
    for target in panel["targets"]:
        print(target["expr"].replace("$__rate_interval", "1m"))
PY
while IFS= read -r query; do
  # promtool parses the expression (the rule file is otherwise empty of
  # series): a syntax error fails.
  printf 'groups:\n- name: q\n  rules:\n  - record: q:check\n    expr: %s\n' "'$query'" >"$work/rules.yml"
  promtool check rules "$work/rules.yml" >/dev/null || fail "dashboard query: $query"
done <"$work/queries"
echo "check-manifests: deploy/grafana/hartonomous-dashboard.json valid"
echo "check-manifests: PASSED"
