#!/usr/bin/env bash
# Checks the observability assets in charts/gpu-telemetry/files/:
#   - promtool check rules + promtool test rules on the Prometheus rules,
#   - the Loki rules and Grafana dashboards parse and are well-formed,
#   - every alert has severity, summary, a description with {{ $value }} and a
#     runbook_url whose anchor exists in docs/runbook.md,
#   - every alert has a unit test where it fires and one where it does not,
#   - every metric a rule or dashboard uses is catalogued in docs/metrics.md or
#     declared in files/external-metrics.txt,
#   - recording rules are named level:metric:operation, except the other
#     exporter's names a compatibility file records (dcgm-compat.rules.yaml:
#     DCGM_*), each of which must be documented in docs/metrics.md and asserted
#     by a promtool test.
# Needs promtool (Debian: apt-get install prometheus), python3 with PyYAML
# (Debian: python3-yaml) and jq. Exits non-zero on the first failing step.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
files="$root/charts/gpu-telemetry/files"
cd "$root"

need() { command -v "$1" >/dev/null 2>&1 || { echo "check-rules: $1 not found ($2)" >&2; exit 2; }; }
need promtool "apt-get install prometheus"
need jq "apt-get install jq"
# Any python3 with PyYAML: the one on PATH, else Debian's.
python=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import yaml' 2>/dev/null; then python="$p"; break; fi
done
[ -n "$python" ] || { echo "check-rules: no python3 with PyYAML (apt-get install python3-yaml)" >&2; exit 2; }

shopt -s nullglob
rules=("$files"/prometheus/*.rules.yaml)
tests=("$files"/prometheus/tests/*.test.yaml)
dashboards=("$files"/dashboards/*.json)
loki=("$files"/loki/*.yaml)
(( ${#rules[@]} && ${#tests[@]} && ${#dashboards[@]} && ${#loki[@]} )) || { echo "check-rules: missing rule, test, dashboard or Loki files" >&2; exit 1; }

echo "== promtool check rules"
promtool check rules "${rules[@]}"

echo "== promtool test rules"
# promtool resolves rule_files relative to the test file.
promtool test rules "${tests[@]}"

echo "== dashboards are valid JSON"
for d in "${dashboards[@]}"; do
  jq -e . "$d" >/dev/null || { echo "invalid JSON: $d" >&2; exit 1; }
  echo "  ok ${d#"$root"/}"
done

echo "== structure, runbook anchors, test coverage, metric names"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$python" "$root/scripts/check_observability.py" "$root" "$tmp/dashboard-queries.rules.yaml"

echo "== dashboard queries parse as PromQL"
promtool check rules "$tmp/dashboard-queries.rules.yaml" | sed "s|$tmp/||"
echo "check-rules: all checks passed"
