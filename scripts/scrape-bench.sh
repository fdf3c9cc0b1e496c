#!/usr/bin/env bash
# The scrape-size and liveness benchmark of docs/performance.md ("Scrape size and liveness"):
# the /metrics registry of a 1,000-GPU, 50-model fleet, and the largest registry the default label
# caps allow, served by the real HTTP server while /health/live is probed.
#
#   scripts/scrape-bench.sh        (after `mvn -q -DskipTests test-compile` or any build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
[ -d target/test-classes ] || mvn -q -B -DskipTests test-compile
cp="$(mktemp)"
trap 'rm -f "$cp"' EXIT
mvn -q -B dependency:build-classpath -Dmdep.outputFile="$cp" -Dmdep.includeScope=test >/dev/null
exec java -Xmx1g ${BENCH_JAVA_OPTS:-} -cp "target/test-classes:target/classes:$(cat "$cp")" \
  -Dlog4j2.level=warn io.gputelemetry.web.ScrapeBench
