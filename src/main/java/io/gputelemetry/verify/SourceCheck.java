package io.gputelemetry.verify;

import io.gputelemetry.config.AppConfig;
import io.gputelemetry.source.DcgmMapping;
import io.gputelemetry.source.ModelMap;
import io.gputelemetry.source.PromText;
import io.gputelemetry.source.VllmMapping;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The verify check of one configured source target: it answers, its answer parses, and it gives GPU
 * samples (DCGM) or counter readings (vLLM / NIM): what the producer's scrape would make of it.
 * Blocking: verify is a command.
 */
final class SourceCheck {
  private final AppConfig.Sources sources;
  private final DcgmMapping mapping;
  private final HttpClient http = HttpClient.newHttpClient();
  private final Map<String, List<String>> gpus = new HashMap<>();

  SourceCheck(AppConfig.Sources sources, int gapIntervals) {
    this.sources = sources;
    this.mapping =
        new DcgmMapping(sources.gpuModels(), ModelMap.parse(sources.modelMap()), gapIntervals);
  }

  /** The GPUs the target's last answer gave (after {@link #run}), none before. */
  List<String> gpus(AppConfig.Target t) {
    return gpus.getOrDefault(t.url(), List.of());
  }

  /**
   * "Last success recent": the newest sample stored of the target's GPUs is at most two intervals
   * plus the timeout old, so the producer's scrapes of it are reaching the store now.
   */
  static String recent(AppConfig.Target t, List<Long> lastSeenMillis, long nowMillis) {
    long allowed = 2 * t.interval().toMillis() + t.timeout().toMillis();
    long newest = lastSeenMillis.stream().mapToLong(Long::longValue).max().orElse(0);
    if (newest == 0) {
      throw new IllegalStateException(
          "no sample of its "
              + lastSeenMillis.size()
              + " GPU(s) stored: is a producer scraping it?");
    }
    long age = nowMillis - newest;
    if (age > allowed) {
      throw new IllegalStateException(
          "its newest stored sample is "
              + age / 1000
              + " s old (allowed "
              + allowed / 1000
              + " s: two intervals and the timeout)");
    }
    return "newest stored sample " + Math.max(0, age) / 1000 + " s old";
  }

  String run(AppConfig.Target t) throws Exception {
    HttpResponse<InputStream> r =
        http.send(
            HttpRequest.newBuilder(URI.create(t.url())).timeout(t.timeout()).GET().build(),
            HttpResponse.BodyHandlers.ofInputStream());
    byte[] body;
    try (InputStream in = r.body()) {
      body = in.readNBytes(sources.maxBodyBytes() + 1);
    }
    if (r.statusCode() != 200) {
      throw new IllegalStateException("HTTP " + r.statusCode());
    }
    if (body.length > sources.maxBodyBytes()) {
      throw new IllegalStateException(
          "answer longer than sources.max-body-bytes (" + sources.maxBodyBytes() + " bytes)");
    }
    PromText.Exposition e =
        PromText.parse(new String(body, StandardCharsets.UTF_8), sources.maxLineChars());
    if ("vllm".equals(t.kind())) {
      VllmMapping.Result v = new VllmMapping().map(e, t, Instant.now());
      if (v.readings().isEmpty()) {
        throw new IllegalStateException(
            "no token counter reading in "
                + e.samples().size()
                + " lines"
                + (v.problems().isEmpty() ? "" : ": " + v.problems().get(0).message()));
      }
      return v.readings().size()
          + " counter reading(s) parsed (model "
          + v.readings().get(0).path("model").asText()
          + (v.readings().size() > 1 ? ", ..." : "")
          + ")"
          + (v.problems().isEmpty() ? "" : ", " + v.problems().size() + " left out");
    }
    DcgmMapping.Result m = mapping.map(e, t, Instant.now());
    if (m.samples().isEmpty()) {
      throw new IllegalStateException(
          "no GPU sample in "
              + e.samples().size()
              + " lines"
              + (m.problems().isEmpty() ? "" : ": " + m.problems().get(0).message()));
    }
    gpus.put(t.url(), m.samples().stream().map(o -> o.path("gpu_uuid").asText()).toList());
    return m.samples().size()
        + " GPU sample(s) parsed"
        + (m.problems().isEmpty() ? "" : ", " + m.problems().size() + " left out");
  }
}
