package io.gputelemetry.source;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.config.AppConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * vLLM (V0 and V1) and NVIDIA NIM {@code /metrics} to counter readings (token.usage.v1 bodies with
 * {@code reading_of}, validated by the caller like every other source) and latency histograms. One
 * reading per {@code model_name} per scrape: the three counters summed over every other label (V1's
 * {@code engine}, V0's {@code finished_reason}), and the server's {@code
 * process_start_time_seconds} (which tells a restart from a late answer). NIM writes the same names
 * without the {@code vllm:} prefix.
 */
public final class VllmMapping {
  /** The tenant of a target that names none: vLLM does not know who sent a request. */
  public static final String UNATTRIBUTED = "unattributed";

  static final String PROMPT = "prompt_tokens_total";
  static final String GENERATION = "generation_tokens_total";
  static final String SUCCESS = "request_success_total";
  private static final List<String> COUNTERS = List.of(PROMPT, GENERATION, SUCCESS);

  /** The latency histograms read, by our name. V0's time_per_output_token is V1's inter_token. */
  public static final Map<String, List<String>> LATENCIES =
      Map.of(
          "ttft", List.of("time_to_first_token_seconds"),
          "e2e", List.of("e2e_request_latency_seconds"),
          "itl", List.of("inter_token_latency_seconds", "time_per_output_token_seconds"));

  /** Counters above this are not exact in a double, nor accepted by the schema. */
  private static final double MAX_EXACT = 9007199254740991.0;

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  /** One model's cumulative histogram: upper bound (le) to count, summed over engines. */
  public record Histogram(NavigableMap<Double, Double> buckets) {}

  /**
   * What one answer gave: the readings, what was left out, and per model and latency (ttft, e2e,
   * itl) the cumulative histogram.
   */
  public record Result(
      List<ObjectNode> readings,
      List<DcgmMapping.Problem> problems,
      Map<String, Map<String, Histogram>> latencies) {}

  /** Maps one scrape of a target, taken at {@code scrapedAt}. */
  public Result map(PromText.Exposition e, AppConfig.Target target, Instant scrapedAt) {
    Map<String, double[]> totals = new TreeMap<>();
    Map<String, String> bad = new LinkedHashMap<>();
    Map<String, Boolean> prefixed = new LinkedHashMap<>();
    Map<String, Map<String, Map<String, NavigableMap<Double, Double>>>> hist = new TreeMap<>();
    long maxTs = Long.MIN_VALUE;
    double started = Double.NaN;
    for (PromText.Sample s : e.samples()) {
      String name = s.name();
      if (name.equals("process_start_time_seconds") && s.labels().isEmpty()) {
        started = s.value();
        continue;
      }
      boolean vllm = name.startsWith("vllm:");
      if (vllm) {
        name = name.substring(5);
      }
      int counter = COUNTERS.indexOf(name);
      String latency = counter >= 0 ? null : latencyOf(name);
      if (counter < 0 && latency == null) {
        continue;
      }
      String model = s.label("model_name");
      if (model == null || model.isEmpty()) {
        continue; // not a per-model series (or another exporter's metric of the same name)
      }
      double v = s.value();
      if (latency != null) {
        String le = s.label("le");
        Double bound = le == null ? null : parseLe(le);
        if (bound != null && Double.isFinite(v) && v >= 0) {
          hist.computeIfAbsent(model, k -> new TreeMap<>())
              .computeIfAbsent(latency, k -> new TreeMap<>())
              .computeIfAbsent(name, k -> new TreeMap<>())
              .merge(bound, v, Double::sum);
        }
        continue;
      }
      prefixed.putIfAbsent(model, vllm);
      if (s.timestampMs() != null) {
        maxTs = Math.max(maxTs, s.timestampMs());
      }
      if (Double.isNaN(v) || Double.isInfinite(v) || v < 0 || v > MAX_EXACT) {
        bad.putIfAbsent(model, "vllm:" + name + " of model " + model + " is " + v);
      }
      totals.computeIfAbsent(model, k -> new double[] {-1, -1, -1});
      double[] t = totals.get(model);
      t[counter] = (t[counter] < 0 ? 0 : t[counter]) + v;
    }
    List<ObjectNode> out = new ArrayList<>();
    List<DcgmMapping.Problem> problems = new ArrayList<>();
    Instant at = maxTs != Long.MIN_VALUE ? Instant.ofEpochMilli(maxTs) : scrapedAt;
    for (Map.Entry<String, double[]> m : totals.entrySet()) {
      String model = m.getKey();
      if (bad.containsKey(model)) {
        problems.add(new DcgmMapping.Problem("bad_value", bad.get(model)));
        continue;
      }
      double[] t = m.getValue();
      String missing = t[0] < 0 ? PROMPT : t[1] < 0 ? GENERATION : t[2] < 0 ? SUCCESS : null;
      if (missing != null) {
        problems.add(
            new DcgmMapping.Problem("missing_field", "model " + model + ": no vllm:" + missing));
        continue;
      }
      ObjectNode r = reading(target, model, at, t, prefixed.get(model));
      if (Double.isFinite(started) && started > 0) {
        r.put("counters_since_s", started);
      }
      out.add(r);
    }
    return new Result(out, problems, histograms(hist));
  }

  private static ObjectNode reading(
      AppConfig.Target target, String model, Instant at, double[] t, boolean vllm) {
    ObjectNode o = JSON.objectNode();
    o.put("event_id", readingId(target.url(), model, at));
    o.put("ts", at.toString());
    o.put("tenant", target.labels().getOrDefault("tenant", UNATTRIBUTED));
    o.put("model", model);
    o.put("provider", target.labels().getOrDefault("provider", vllm ? "vllm" : "nim"));
    o.put("reading_of", target.url());
    o.put("prompt_tokens_total", (long) Math.floor(t[0]));
    o.put("generation_tokens_total", (long) Math.floor(t[1]));
    o.put("requests_total", (long) Math.floor(t[2]));
    List<String> gpus = servingGpus(target);
    if (gpus.size() == 1) {
      o.put("gpu_uuid", gpus.get(0));
    }
    String node = target.labels().get("node");
    if (node != null) {
      o.put("node", node);
    }
    return o;
  }

  /** The GPUs a target's configuration says it serves ({@code gpus=UUID;UUID}). */
  public static List<String> servingGpus(AppConfig.Target target) {
    String v = target.labels().get("gpus");
    List<String> out = new ArrayList<>();
    if (v != null) {
      for (String g : v.split(";", -1)) {
        if (!g.isBlank()) {
          out.add(g.trim());
        }
      }
    }
    return out;
  }

  /**
   * The id of a reading: the same target, model and reading time give the same id, so a replay or a
   * retry is stored once; two producers reading at different instants store two readings.
   */
  static String readingId(String target, String model, Instant at) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update((target + '\n' + model + '\n' + at).getBytes(StandardCharsets.UTF_8));
      return "r-" + HexFormat.of().formatHex(d.digest(), 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String latencyOf(String name) {
    if (!name.endsWith("_bucket")) {
      return null;
    }
    String base = name.substring(0, name.length() - "_bucket".length());
    for (Map.Entry<String, List<String>> l : LATENCIES.entrySet()) {
      if (l.getValue().contains(base)) {
        return l.getKey();
      }
    }
    return null;
  }

  /** Per model and latency: the first of its names present (V1's inter_token before V0's). */
  private static Map<String, Map<String, Histogram>> histograms(
      Map<String, Map<String, Map<String, NavigableMap<Double, Double>>>> hist) {
    Map<String, Map<String, Histogram>> out = new TreeMap<>();
    hist.forEach(
        (model, byLatency) ->
            byLatency.forEach(
                (latency, byName) -> {
                  for (String name : LATENCIES.get(latency)) {
                    NavigableMap<Double, Double> b = byName.get(name + "_bucket");
                    if (b != null) {
                      out.computeIfAbsent(model, k -> new TreeMap<>())
                          .put(latency, new Histogram(b));
                      return;
                    }
                  }
                }));
    return out;
  }

  private static Double parseLe(String le) {
    if ("+Inf".equals(le)) {
      return Double.POSITIVE_INFINITY;
    }
    try {
      double d = Double.parseDouble(le);
      return Double.isNaN(d) ? null : d;
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
