package io.gputelemetry.support;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real Prometheus (Debian's, found on the PATH) in its own process, scraping one target each
 * second with the given rule files evaluated each second; its target series carry {@code
 * namespace="ci"}, as the chart's ServiceMonitor would give them a namespace.
 */
public final class PrometheusServer implements AutoCloseable {
  private static final String INSTALL = "apt-get install prometheus (scripts/test.sh installs it)";
  private final Process process;
  private final String base;

  private PrometheusServer(Process process, String base) {
    this.process = process;
    this.base = base;
  }

  /** Starts it with its data, configuration and log under {@code dir}, job "gpu-telemetry". */
  public static PrometheusServer start(Path dir, List<Path> ruleFiles, String targetPort)
      throws IOException {
    Path bin = RequiredTool.require("prometheus", INSTALL);
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(
        config,
        String.join(
            "\n",
            "global: {scrape_interval: 1s, evaluation_interval: 1s}",
            "rule_files: ["
                + ruleFiles.stream()
                    .map(p -> "'" + p.toAbsolutePath() + "'")
                    .collect(Collectors.joining(", "))
                + "]",
            "scrape_configs:",
            "  - job_name: gpu-telemetry",
            "    static_configs: [{targets: ['127.0.0.1:"
                + targetPort
                + "'], labels: {namespace: ci}}]",
            ""));
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process p =
        new ProcessBuilder(
                bin.toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile())
            .start();
    return new PrometheusServer(p, "http://127.0.0.1:" + port);
  }

  /** Its base URL, e.g. for {@code /api/v1/query}. */
  public String base() {
    return base;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    process.waitFor(10, TimeUnit.SECONDS);
  }
}
