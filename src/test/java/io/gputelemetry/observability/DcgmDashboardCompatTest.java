package io.gputelemetry.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import io.gputelemetry.metrics.Telemetry;
import io.gputelemetry.support.RequiredTool;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NVIDIA's DCGM exporter dashboard (Grafana 12239; the unmodified JSON from NVIDIA/dcgm-exporter,
 * attributed in src/test/resources/dcgm-exporter/) works on gpu-telemetry's data through the
 * DCGM-compatible rules (charts/gpu-telemetry/files/prometheus/dcgm-compat.rules.yaml).
 *
 * <p>The input is what processors really export: GPU samples go through the event parser into
 * {@link Telemetry}, whose Prometheus scrape becomes promtool's input series, with the target
 * labels the chart's ServiceMonitor adds. One GPU is also still exported, with an older sample, by
 * a second processor, as after a rebalance. Every query of the dashboard is then evaluated by
 * promtool with the dashboard's variables filled in as Grafana does:
 *
 * <ul>
 *   <li>each variable's label_values() lists exactly our nodes (instance) and GPU indexes (gpu),
 *       with one series per GPU;
 *   <li>with every variable on "All", each panel query returns data;
 *   <li>with one node and one GPU selected, each panel query returns one series whose value is what
 *       the query computes from the sample's own fields, which are in DCGM's units (percent, MiB,
 *       watts, °C, MHz): not from our rules' conversions.
 * </ul>
 *
 * Panels whose metric gpu-telemetry has no data for are listed in {@link #UNSUPPORTED} and must
 * return nothing. Needs promtool (Debian: apt-get install prometheus).
 */
class DcgmDashboardCompatTest {
  static final Path DASHBOARD =
      Path.of("src/test/resources/dcgm-exporter/dcgm-exporter-dashboard.json");
  static final Path RULES = Path.of("charts/gpu-telemetry/files/prometheus/dcgm-compat.rules.yaml");
  static final String GROUP = "gpu-telemetry.dcgm-compat";
  static final ObjectMapper JSON = new ObjectMapper();
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static final Instant NOW = Instant.now();

  /** DCGM metrics of the dashboard that gpu-telemetry has no data for, and why. */
  static final Map<String, String> UNSUPPORTED =
      Map.of(
          "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
          "a DCGM profiling ratio; GPU samples carry no tensor-pipe activity");

  /** A GPU sample: node, index and the fields DCGM has too, in DCGM's units. */
  record Gpu(
      String uuid,
      String node,
      int index,
      String model,
      double utilizationPct,
      double memoryUsedMib,
      double memoryTotalMib,
      double powerW,
      long energyMj,
      double temperatureC,
      double smClockMhz) {

    String json(Instant ts) {
      return "{\"ts\":\"%s\",\"node\":\"%s\",\"gpu_uuid\":\"%s\",\"gpu_index\":%d,\"gpu_model\":\"%s\",\"utilization_pct\":%s,\"memory_used_mib\":%s,\"memory_total_mib\":%s,\"power_w\":%s,\"energy_mj\":%d,\"temperature_c\":%s,\"sm_clock_mhz\":%s,\"xid_errors\":0}"
          .formatted(
              ts,
              node,
              uuid,
              index,
              model,
              utilizationPct,
              memoryUsedMib,
              memoryTotalMib,
              powerW,
              energyMj,
              temperatureC,
              smClockMhz);
    }

    /** The value dcgm-exporter would export under a DCGM name, from the sample's own fields. */
    Double dcgm(String metric) {
      return switch (metric) {
        case "DCGM_FI_DEV_GPU_UTIL" -> utilizationPct;
        case "DCGM_FI_DEV_FB_USED" -> memoryUsedMib;
        case "DCGM_FI_DEV_FB_FREE" -> memoryTotalMib - memoryUsedMib;
        case "DCGM_FI_DEV_FB_TOTAL" -> memoryTotalMib;
        case "DCGM_FI_DEV_POWER_USAGE" -> powerW;
        case "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION" -> (double) energyMj;
        case "DCGM_FI_DEV_GPU_TEMP" -> temperatureC;
        case "DCGM_FI_DEV_SM_CLOCK" -> smClockMhz;
        default -> null;
      };
    }
  }

  static final List<Gpu> FLEET =
      List.of(
          new Gpu(
              "GPU-5a1c0f2e-8d3b-4c6e-9f10-2b7d4e6a8c01",
              "gpu-node-01",
              0,
              "H100-SXM-80GB",
              87.5,
              61234,
              81559,
              612.4,
              123456789,
              71,
              1980),
          new Gpu(
              "GPU-5a1c0f2e-8d3b-4c6e-9f10-2b7d4e6a8c02",
              "gpu-node-01",
              1,
              "H100-SXM-80GB",
              42.3,
              20480.5,
              81559,
              350.25,
              98765432,
              64,
              1755),
          new Gpu(
              "GPU-0b7e9d41-3c2a-4f58-a6e1-7d90c3b2e5f4",
              "gpu-node-02",
              0,
              "A100-SXM4-80GB",
              3,
              512,
              81920,
              61.5,
              5550000,
              38,
              210));

  /** The previous owner's copy of the last GPU: an older sample with other values. */
  static final Gpu STALE =
      new Gpu(
          FLEET.get(2).uuid(),
          FLEET.get(2).node(),
          FLEET.get(2).index(),
          FLEET.get(2).model(),
          99,
          80000,
          81920,
          400,
          5000000,
          95,
          1410);

  @Test
  void everyPanelOfTheDcgmDashboardShowsOurGpus(@TempDir Path tmp) throws Exception {
    JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
    Set<String> recorded = recordedNames();

    List<Map<String, Object>> inputs = new ArrayList<>();
    inputs.addAll(exportedSeries("gt-gpu-telemetry-processor-0", "10.42.0.17:8080", FLEET, 1));
    inputs.addAll(
        exportedSeries("gt-gpu-telemetry-processor-1", "10.42.1.9:8080", List.of(STALE), 9));

    List<Map<String, Object>> cases = new ArrayList<>();
    Map<String, Set<String>> choices = variableChoices(dashboard, cases);

    List<String> queries = new ArrayList<>();
    for (JsonNode panel : panels(dashboard)) {
      for (JsonNode target : panel.path("targets")) {
        String expr = target.path("expr").asText("");
        if (expr.isBlank()) {
          continue;
        }
        String title = panel.path("title").asText();
        queries.add(title);
        Set<String> metrics = dcgmMetrics(expr);
        assertFalse(metrics.isEmpty(), title + ": no DCGM metric in " + expr);
        for (String m : metrics) {
          assertTrue(
              recorded.contains(m) || UNSUPPORTED.containsKey(m),
              title + ": " + m + " is neither recorded by " + RULES + " nor listed as unsupported");
        }
        String all = substitute(expr, choices, Map.of());
        if (metrics.stream().anyMatch(UNSUPPORTED::containsKey)) {
          // absent() of a selector with only regex matchers: one sample, no labels.
          cases.add(exprCase("absent(" + all + ")", List.of(sample("{}", 1))));
          continue;
        }
        cases.add(exprCase("absent(" + all + ")", List.of()));
        for (Gpu gpu : FLEET) {
          String one =
              substitute(
                  expr,
                  choices,
                  Map.of("instance", gpu.node(), "gpu", Integer.toString(gpu.index())));
          cases.add(exprCase("count(" + one + ")", List.of(sample("{}", 1))));
          String expected = reference(expr, gpu, choices);
          cases.add(
              exprCase(
                  "abs(sum(" + one + ") - sum(" + expected + ")) < bool 1e-6",
                  List.of(sample("{}", 1))));
        }
      }
    }
    assertEquals(
        8, queries.size(), "panel queries of the fixture (a new version needs a look): " + queries);

    Map<String, Object> test = new LinkedHashMap<>();
    test.put("rule_files", List.of(RULES.toAbsolutePath().toString()));
    test.put("evaluation_interval", "1m");
    test.put("group_eval_order", List.of(GROUP));
    Map<String, Object> one = new LinkedHashMap<>();
    one.put("interval", "1m");
    one.put("input_series", inputs);
    one.put("promql_expr_test", cases);
    test.put("tests", List.of(one));
    Path file = tmp.resolve("dcgm-dashboard.test.yaml");
    YAML.writeValue(file.toFile(), test);

    String out = promtool(file);
    assertTrue(out.contains("SUCCESS"), out);
  }

  /** Names the compatibility rules record. */
  static Set<String> recordedNames() throws IOException {
    Set<String> names = new TreeSet<>();
    for (JsonNode group : YAML.readTree(RULES.toFile()).path("groups")) {
      assertEquals(GROUP, group.path("name").asText(), "the rule file's group");
      for (JsonNode rule : group.path("rules")) {
        names.add(rule.path("record").asText());
      }
    }
    return names;
  }

  /**
   * The GPU series a processor exports after these samples, as promtool input series over 20
   * minutes, with the target labels of the chart's ServiceMonitor.
   */
  static List<Map<String, Object>> exportedSeries(
      String pod, String instance, List<Gpu> gpus, int minutesOld) {
    EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));
    String target =
        "namespace=\"telemetry\",job=\"gt-gpu-telemetry-processor\",service=\"gt-gpu-telemetry-processor\","
            + "endpoint=\"http\",container=\"gpu-telemetry\",pod=\""
            + pod
            + "\",instance=\""
            + instance
            + "\"";
    List<Map<String, Object>> series = new ArrayList<>();
    try (Telemetry telemetry = new Telemetry("processor", "test")) {
      for (Gpu gpu : gpus) {
        String json = gpu.json(NOW.minus(Duration.ofMinutes(minutesOld)));
        ParseResult r =
            parser.parse(EventType.GPU_SAMPLE, json.getBytes(StandardCharsets.UTF_8), NOW, null);
        assertTrue(r.ok(), () -> "sample rejected: " + r.violations() + " " + json);
        telemetry.gpuSample(r.event());
      }
      for (String line : telemetry.registry().scrape().split("\n")) {
        if (!line.startsWith("telemetry_gpu_")) {
          continue;
        }
        int open = line.indexOf('{');
        int close = line.lastIndexOf('}');
        String value = line.substring(close + 1).trim();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put(
            "series",
            line.substring(0, open + 1) + line.substring(open + 1, close) + "," + target + "}");
        s.put("values", new BigDecimal(value).toPlainString() + "x20");
        series.add(s);
      }
    }
    assertEquals(10 * gpus.size(), series.size(), "ten GPU series per GPU: " + series);
    return series;
  }

  /**
   * The values each query variable offers, from its label_values() query evaluated on our data,
   * which must be exactly our nodes (instance) or GPU indexes (gpu), one series per GPU; adds those
   * checks to {@code cases}.
   */
  static Map<String, Set<String>> variableChoices(
      JsonNode dashboard, List<Map<String, Object>> cases) {
    Map<String, Set<String>> choices = new LinkedHashMap<>();
    Pattern labelValues = Pattern.compile("^\\s*label_values\\((.+),\\s*(\\w+)\\s*\\)\\s*$");
    for (JsonNode v : dashboard.path("templating").path("list")) {
      if (!"query".equals(v.path("type").asText())) {
        continue;
      }
      String name = v.path("name").asText();
      JsonNode q = v.path("query");
      String query = q.isObject() ? q.path("query").asText() : q.asText();
      Matcher m = labelValues.matcher(query);
      assertTrue(m.matches(), "variable " + name + ": not a label_values() query: " + query);
      String label = m.group(2);
      Map<String, Long> perValue =
          switch (label) {
            case "instance" ->
                FLEET.stream()
                    .collect(Collectors.groupingBy(Gpu::node, TreeMap::new, Collectors.counting()));
            case "gpu" ->
                FLEET.stream()
                    .collect(
                        Collectors.groupingBy(
                            g -> Integer.toString(g.index()), TreeMap::new, Collectors.counting()));
            default ->
                throw new AssertionError("variable " + name + " lists an unknown label " + label);
          };
      List<Map<String, Object>> expected = new ArrayList<>();
      perValue.forEach((value, n) -> expected.add(sample("{" + label + "=\"" + value + "\"}", n)));
      cases.add(exprCase("count by (" + label + ") (" + m.group(1) + ")", expected));
      choices.put(name, perValue.keySet());
    }
    return choices;
  }

  /**
   * A query with Grafana's variables filled in: a selected value where {@code selected} names one,
   * otherwise "All", which Grafana writes as a regex alternation of every value.
   */
  static String substitute(
      String expr, Map<String, Set<String>> choices, Map<String, String> selected) {
    String s =
        expr.replace("$__rate_interval", "4m")
            .replace("$__interval", "1m")
            .replace("$__range", "1h");
    for (Map.Entry<String, Set<String>> v : choices.entrySet()) {
      String one = selected.get(v.getKey());
      // Grafana escapes regex characters in a selected value; ours have none.
      assertTrue(one == null || one.matches("[A-Za-z0-9_-]+"), one);
      String value = one != null ? one : "(" + String.join("|", v.getValue()) + ")";
      s = s.replace("${" + v.getKey() + "}", value).replace("$" + v.getKey(), value);
    }
    assertFalse(s.contains("$"), "a variable the test does not fill in: " + s);
    return s;
  }

  /** The query with each DCGM selector replaced by the GPU's own value in DCGM's unit. */
  static String reference(String expr, Gpu gpu, Map<String, Set<String>> choices) {
    Matcher m =
        Pattern.compile("\\b(DCGM_[A-Z0-9_]+)(\\{[^}]*\\})?")
            .matcher(substitute(expr, choices, Map.of()));
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      Double v = gpu.dcgm(m.group(1));
      assertNotNull(v, "no reference value for " + m.group(1));
      m.appendReplacement(b, "vector(" + BigDecimal.valueOf(v).toPlainString() + ")");
    }
    m.appendTail(b);
    return b.toString();
  }

  static Set<String> dcgmMetrics(String expr) {
    Set<String> names = new TreeSet<>();
    Matcher m = Pattern.compile("\\bDCGM_[A-Z0-9_]+").matcher(expr);
    while (m.find()) {
      names.add(m.group());
    }
    return names;
  }

  static List<JsonNode> panels(JsonNode dashboard) {
    List<JsonNode> all = new ArrayList<>();
    for (JsonNode p : dashboard.path("panels")) {
      all.add(p);
      p.path("panels").forEach(all::add);
    }
    return all;
  }

  static Map<String, Object> exprCase(String expr, List<Map<String, Object>> samples) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("expr", expr);
    c.put("eval_time", "15m");
    c.put("exp_samples", samples);
    return c;
  }

  static Map<String, Object> sample(String labels, Number value) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("labels", labels);
    s.put("value", value);
    return s;
  }

  static String promtool(Path file) throws IOException, InterruptedException {
    Path promtool =
        RequiredTool.require(
            "promtool", "apt-get install prometheus (scripts/test.sh installs it)");
    Process p =
        new ProcessBuilder(promtool.toString(), "test", "rules", file.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(2, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("promtool did not finish:\n" + out);
    }
    assertEquals(0, p.exitValue(), "promtool test rules:\n" + out + "\n" + Files.readString(file));
    return out;
  }
}
