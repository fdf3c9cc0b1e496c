#!/usr/bin/env bash
# Serves DCGM exporter output (NVIDIA's documented example, src/test/resources/dcgm-exporter/) as
# live exporters would, for trying the DCGM source without GPUs:
#   scripts/fixture-exporter.sh [--port 9400] [--targets N] [--gpus 8]
# Target 0 at http://127.0.0.1:PORT/metrics, target T at /t/T/metrics; each has --gpus GPUs whose
# energy counters advance with every answer. Needs the jar and the compiled test classes:
#   mvn -B -q package -DskipTests
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ ! -f target/gpu-telemetry.jar ] || [ ! -d target/test-classes ]; then
  echo "fixture-exporter: build first: mvn -B -q package -DskipTests" >&2
  exit 2
fi
exec java -cp "target/test-classes:target/gpu-telemetry.jar" io.gputelemetry.support.FixtureExporter "$@"
