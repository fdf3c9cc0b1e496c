#!/usr/bin/env bash
# Measures one /metrics scrape of a standalone jar: samples (non-comment lines), _bucket lines and
# bytes on the wire, in the text format and in OpenMetrics, plain and gzipped.
#
#   scripts/scrape-size.sh [JAR] [PORT]      (defaults: target/gpu-telemetry.jar, 18089)
#
# It starts the jar (default simulator), posts a few ingest requests (so that the HTTP server's
# histograms have POST series, one of them a 400), waits WARM seconds (default 60), scrapes as a
# plain client and as Prometheus 2.x does, prints a table and stops the jar. Needs curl and gzip.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
jar="${1:-$root/target/gpu-telemetry.jar}"
port="${2:-18089}"
warm="${WARM:-60}"
base="http://127.0.0.1:$port"
out="$(mktemp -d)"
[ -f "$jar" ] || { echo "scrape-size: $jar not found (mvn -q package -DskipTests)" >&2; exit 2; }

java -jar "$jar" --http-port "$port" >"$out/jar.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$out"' EXIT
for _ in $(seq 1 90); do
  curl -sf "$base/health/ready" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$out/jar.log" >&2; exit 1; }
  sleep 1
done

ts="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
for i in 1 2 3 4 5; do
  curl -s -o /dev/null "$base/v1/token-usage" -H 'Content-Type: application/json' -d "[{\"ts\":\"$ts\",
    \"tenant\":\"acme\",\"model\":\"llama-3.1-70b-instruct\",\"input_tokens\":$((100 * i)),\"output_tokens\":42}]"
  curl -s -o /dev/null "$base/v1/gpu-metrics" -H 'Content-Type: application/json' -d "{\"ts\":\"$ts\",
    \"node\":\"scrape-size\",\"gpu_uuid\":\"GPU-scrape-size-$i\",\"gpu_model\":\"H100-SXM-80GB\",
    \"utilization_pct\":50,\"memory_used_mib\":1000,\"memory_total_mib\":81559,\"power_w\":300,
    \"energy_mj\":$((1000 * i)),\"temperature_c\":60,\"sm_clock_mhz\":1980,\"xid_errors\":0}"
done
curl -s -o /dev/null "$base/v1/token-usage" -H 'Content-Type: application/json' -d '[{"tenant":"acme"}]'
sleep "$warm"

prometheus='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
printf '%-12s %-9s %8s %8s %9s  %s\n' format encoding samples buckets bytes content-type
for format in text openmetrics; do
  accept='text/plain'
  [ "$format" = openmetrics ] && accept="$prometheus"
  for encoding in identity gzip; do
    f="$out/$format-$encoding"
    curl -s -H "Accept: $accept" -H "Accept-Encoding: $encoding" -D "$f.headers" -o "$f.body" "$base/metrics"
    if grep -qi '^content-encoding: *gzip' "$f.headers"; then gzip -dc <"$f.body" >"$f.txt"; else cp "$f.body" "$f.txt"; fi
    printf '%-12s %-9s %8s %8s %9s  %s\n' "$format" "$encoding" \
      "$(grep -v '^#' "$f.txt" | grep -c .)" "$(grep -c '_bucket{' "$f.txt" || true)" "$(wc -c <"$f.body")" \
      "$(grep -i '^content-type' "$f.headers" | tr -d '\r' | cut -d' ' -f2-)$(grep -i '^content-encoding' "$f.headers" | tr -d '\r' | sed 's/^/, /')"
  done
done
