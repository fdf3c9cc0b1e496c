package io.gputelemetry.producer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.RunningPipeline;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The nvidia-smi source against a fake {@code nvidia-smi} (a shell script): it answers {@code
 * --help-query-gpu} with a real driver's list, and in loop mode prints, on its first run, a garbage
 * line, a line of {@code [N/A]} everywhere and two valid lines before dying with exit code 3; on
 * later runs valid lines until stopped. The source restarts it, counts what it left out, and the
 * valid samples go through the broker into the store and the GPU API.
 */
class NvidiaSmiSourceIT {
  private static final Path HELP =
      Path.of(
              "src/test/resources/nvidia-smi/linux-x86_64__nvidia-h100-mig__590.48.01.help-query-gpu.txt")
          .toAbsolutePath();

  private static final String SCRIPT =
      """
      #!/bin/sh
      # A fake nvidia-smi: see NvidiaSmiSourceIT.
      dir=$(dirname "$0")
      if [ "$1" = "--help-query-gpu" ]; then cat "%s"; exit 0; fi
      echo "$*" >> "$dir/starts"
      ms=1000
      while [ $# -gt 0 ]; do [ "$1" = "-lms" ] && ms=$2; shift; done
      runs=$(wc -l < "$dir/starts")
      line() {
        echo "$(date '+%%Y/%%m/%%d %%H:%%M:%%S.%%3N'), 0, GPU-fake-0, NVIDIA H100 80GB HBM3, 87, 61234, 81559, 612.5, 71, 1980, Disabled"
      }
      if [ "$runs" -eq 1 ]; then
        echo "this is not what nvidia-smi prints"
        echo "[N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A]"
        line; sleep 0.01; line
        echo "NVML: Driver/library version mismatch" >&2
        exit 3
      fi
      while true; do line; sleep "$(awk "BEGIN{print $ms/1000}")"; done
      """;

  @Test
  void aDyingPrintingGarbageNvidiaSmiIsRestartedAndItsValidSamplesAreStored(@TempDir Path dir)
      throws Exception {
    Path fake = dir.resolve("nvidia-smi");
    Files.writeString(fake, String.format(SCRIPT, HELP), StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (RunningPipeline p =
        new RunningPipeline(
            Map.of(
                "sources.nvidia-smi.enabled", "true",
                "sources.nvidia-smi.path", fake.toString(),
                "sources.nvidia-smi.interval", "200ms",
                "sources.nvidia-smi.node", "gpu-node-01",
                "sources.nvidia-smi.model", "llama-3.1-8b-instruct",
                "sources.nvidia-smi.restart-backoff", "100ms",
                "sources.nvidia-smi.max-restart-backoff", "400ms"))) {
      await().atMost(Duration.ofSeconds(30)).until(() -> p.store().count("gpu_metrics") >= 5);
      List<String> starts = Files.readAllLines(dir.resolve("starts"));
      assertTrue(starts.size() >= 2, "restarted after it died: " + starts);
      assertTrue(
          starts.get(0).startsWith("--query-gpu=timestamp,index,uuid,name,utilization.gpu,"),
          starts.get(0));
      assertTrue(
          starts
              .get(0)
              .endsWith(
                  ",clocks.current.sm,mig.mode.current --format=csv,noheader,nounits -lms 200"),
          starts.get(0));
      JsonObject s = p.store().find("gpu_metrics", new JsonObject()).get(0);
      assertEquals("GPU-fake-0", s.getString("gpu_uuid"));
      assertEquals("nvidia-smi", s.getString("writer"));
      assertEquals("gpu-node-01", s.getString("node"));
      assertEquals("H100-SXM-80GB", s.getString("gpu_model"));
      assertEquals("llama-3.1-8b-instruct", s.getString("model"));
      assertEquals(612.5, s.getDouble("power_w"));
      assertEquals(0.2, s.getDouble("interval_s"));
      assertEquals(0.6, s.getDouble("max_gap_s"), 1e-9);
      // The garbage line, the [N/A] line (no uuid) and the exit, each counted once: the first run
      // printed them, the later runs print only valid lines.
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                String metrics = p.get(p.baseUrl() + "/metrics").body();
                assertEquals(
                    1.0, count(metrics, "telemetry_source_samples_rejected_total", "parse"));
                assertEquals(
                    1.0,
                    count(metrics, "telemetry_source_samples_rejected_total", "missing_field"));
                assertEquals(
                    1.0, count(metrics, "telemetry_source_scrape_failures_total", "exited"));
                assertTrue(count(metrics, "telemetry_source_samples_parsed_total", null) >= 5);
              });
      String gpus = p.get(p.processorUrl() + "/api/v1/gpus?node=gpu-node-01").body();
      assertTrue(gpus.contains("GPU-fake-0"), gpus);
    }
  }

  private static double count(String metrics, String name, String reason) {
    Matcher m =
        Pattern.compile(
                "(?m)^"
                    + name
                    + "\\{"
                    + (reason == null ? "" : "[^}]*reason=\"" + reason + "\"")
                    + "[^}]*source=\"nvidia-smi\"[^}]*\\} (\\S+)$")
            .matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }
}
