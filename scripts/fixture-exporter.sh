#!/usr/bin/env bash
# Serves DCGM exporter output (NVIDIA's documented example, src/test/resources/dcgm-exporter/) and
# vLLM /metrics (src/test/resources/vllm/) as live servers would, for trying the DCGM and vLLM
# sources without GPUs:
#   scripts/fixture-exporter.sh [--port 9400] [--targets N] [--gpus 8]
# DCGM target 0 at http://127.0.0.1:PORT/metrics, target T at /t/T/metrics; each has --gpus GPUs
# whose energy counters advance with every answer. vLLM target T at /vllm/T/metrics (model
# facebook/opt-125m): its token counters advance by 120 prompt, 48 generated tokens and 3 requests
# per answer. Needs the jar and the compiled test classes:
#   mvn -B -q package -DskipTests
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ ! -f target/gpu-telemetry.jar ] || [ ! -d target/test-classes ]; then
  echo "fixture-exporter: build first: mvn -B -q package -DskipTests" >&2
  exit 2
fi
exec java -cp "target/test-classes:target/gpu-telemetry.jar" io.gputelemetry.support.FixtureExporter "$@"
