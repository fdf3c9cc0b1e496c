#!/usr/bin/env bash
# Checks a rendered release (helm template output on stdin) against the cluster before
# `helm upgrade --wait` would wait its whole timeout on pods that cannot start:
#   - every Secret (and key) the manifests reference exists in the namespace;
#   - every Kafka bootstrap address that is a bare name (e.g. the chart's placeholder "kafka:9092")
#     is a Service of the namespace.
# Usage: helm template ... | scripts/deploy-preflight.sh NAMESPACE
set -euo pipefail
ns=${1:?usage: deploy-preflight.sh NAMESPACE}
manifests=$(cat)
problems=0

fail() {
  echo "error: $*" >&2
  problems=$((problems + 1))
}

# "name key" per secretKeyRef, "name -" per secret volume (secretName).
refs=$(awk '
  /secretKeyRef:/ { inref = 1; name = ""; next }
  inref && /^[[:space:]]*name:/ { name = $2 }
  inref && /^[[:space:]]*key:/ { print name, $2; inref = 0 }
  /^[[:space:]]*secretName:/ { print $2, "-" }
' <<<"$manifests" | tr -d '"' | sort -u)

while read -r name key; do
  [ -n "$name" ] || continue
  if ! kubectl -n "$ns" get secret "$name" >/dev/null 2>&1; then
    fail "Secret $ns/$name does not exist; create it first (docs/deploy.md, \"Secrets\")"
  elif [ "$key" != "-" ] && [ -z "$(kubectl -n "$ns" get secret "$name" -o "jsonpath={.data.${key//./\\.}}" 2>/dev/null)" ]; then
    fail "Secret $ns/$name has no key '$key'"
  fi
done <<<"$refs"

servers=$(sed -n 's/^[[:space:]]*GPUTEL_KAFKA_BOOTSTRAP_SERVERS:[[:space:]]*//p' <<<"$manifests" | tr -d '"' | head -n 1)
IFS=',' read -r -a addresses <<<"$servers"
for address in "${addresses[@]}"; do
  host=${address%:*}
  if [[ -n "$host" && "$host" != *.* ]] && ! kubectl -n "$ns" get service "$host" >/dev/null 2>&1; then
    fail "Kafka address '$address' names no Service in namespace $ns: set kafka.bootstrapServers to your brokers, or kafka.enabled=true for a dev broker"
  fi
done

if ((problems > 0)); then
  echo "deploy-preflight: $problems problem(s); nothing was installed" >&2
  exit 1
fi
echo "deploy-preflight: Secrets and Kafka address of release in namespace $ns look right"
