package io.gputelemetry.source;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.Violation;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * OTLP metrics to events. {@code gen_ai.client.token.usage} (a histogram of tokens per request, by
 * {@code gen_ai.token.type}) becomes one token event per series and window: input and output are
 * the sums of its two points; delta temporality only (a cumulative sum cannot be turned into usage
 * without the previous point, which another producer replica may have received). The hardware
 * conventions' {@code hw.gpu.*}, {@code hw.power}, {@code hw.energy} and a temperature ({@code
 * hw.temperature}, or {@code hw.gpu.temperature} as GPU collectors name it) of one GPU ({@code
 * hw.id}) at one instant become one GPU sample. Other metrics are skipped.
 */
public final class OtlpMetrics {
  static final String TOKEN_USAGE = "gen_ai.client.token.usage";
  static final String TOKEN_TYPE = "gen_ai.token.type";

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final double MIB = 1024.0 * 1024.0;

  private final List<String> tenantAttributes;
  private final Map<String, String> gpuModels;
  private final ModelMap models;

  /**
   * @param tenantAttributes the attributes naming a token series' tenant, in order of precedence
   * @param gpuModels GPU model names as reported to the profile names (see {@link DcgmMapping})
   * @param models pod to LLM, for the model a GPU serves (from k8s.* resource attributes)
   */
  public OtlpMetrics(
      List<String> tenantAttributes, Map<String, String> gpuModels, ModelMap models) {
    this.tenantAttributes = List.copyOf(tenantAttributes);
    Map<String, String> m = new LinkedHashMap<>(DcgmMapping.BUILT_IN_GPU_MODELS);
    m.putAll(gpuModels);
    this.gpuModels = Map.copyOf(m);
    this.models = models;
  }

  /** One token series in one window: its input and output points. */
  private static final class Window {
    final List<KeyValue> attributes;
    final List<KeyValue> resource;
    final long time;
    Long input;
    Long output;
    int points;
    Violation problem;

    Window(List<KeyValue> attributes, List<KeyValue> resource, long time) {
      this.attributes = attributes;
      this.resource = resource;
      this.time = time;
    }
  }

  /** Maps every metric of a request; {@code tenant} non-null binds all token events to it. */
  public OtlpMapped map(ExportMetricsServiceRequest request, String tenant) {
    OtlpMapped out = new OtlpMapped();
    for (ResourceMetrics rm : request.getResourceMetricsList()) {
      List<KeyValue> resource = rm.getResource().getAttributesList();
      Map<String, Window> windows = new LinkedHashMap<>();
      Map<String, OtlpGpuSample> gpus = new LinkedHashMap<>();
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        for (Metric m : sm.getMetricsList()) {
          if (m.getName().equals(TOKEN_USAGE)) {
            tokens(m, resource, windows, out);
          } else if (OtlpGpuSample.FIELDS.containsKey(m.getName())) {
            gpu(m, gpus, out);
          } else {
            out.skip(points(m));
          }
        }
      }
      for (Window w : windows.values()) {
        window(w, tenant, out);
      }
      for (OtlpGpuSample g : gpus.values()) {
        g.finish(resource, gpuModels, models, out);
      }
    }
    return out;
  }

  private static void tokens(
      Metric m, List<KeyValue> resource, Map<String, Window> windows, OtlpMapped out) {
    if (!m.hasHistogram()) {
      out.reject(
          points(m),
          TOKEN_USAGE,
          new Violation(
              TOKEN_USAGE,
              "expected a histogram, got "
                  + m.getDataCase().name().toLowerCase(java.util.Locale.ROOT),
              "wrong_type"));
      return;
    }
    AggregationTemporality t = m.getHistogram().getAggregationTemporality();
    if (t != AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA) {
      out.reject(
          m.getHistogram().getDataPointsCount(),
          TOKEN_USAGE,
          new Violation(
              TOKEN_USAGE,
              "aggregation temporality "
                  + t.name()
                      .replace("AGGREGATION_TEMPORALITY_", "")
                      .toLowerCase(java.util.Locale.ROOT)
                  + ": only delta is accepted (set the exporter's temporality preference to delta,"
                  + " or use the Collector's cumulativetodelta processor)",
              "invalid"));
      return;
    }
    for (HistogramDataPoint p : m.getHistogram().getDataPointsList()) {
      String series = OtlpAttributes.sorted(p.getAttributesList(), TOKEN_TYPE).toString();
      String key = series + "@" + p.getStartTimeUnixNano() + "-" + p.getTimeUnixNano();
      Window w =
          windows.computeIfAbsent(
              key, k -> new Window(p.getAttributesList(), resource, p.getTimeUnixNano()));
      w.points++;
      String type = OtlpAttributes.text(OtlpAttributes.find(p.getAttributesList(), TOKEN_TYPE));
      boolean input = "input".equals(type);
      boolean output = "output".equals(type) || "completion".equals(type);
      if (w.problem != null) {
        continue;
      }
      if (!input && !output) {
        w.problem =
            new Violation(
                TOKEN_TYPE,
                type == null
                    ? "missing"
                    : "'" + OtlpAttributes.abbreviate(type) + "' is neither input nor output",
                type == null ? "missing_field" : "invalid");
      } else if (!p.hasSum()) {
        w.problem = new Violation("sum", "a token histogram point without a sum", "missing_field");
      } else if (!(p.getSum() == Math.rint(p.getSum()) && Math.abs(p.getSum()) < 9.0e15)) {
        w.problem =
            new Violation("sum", "not a whole number of tokens (" + p.getSum() + ")", "wrong_type");
      } else if ((input ? w.input : w.output) != null) {
        w.problem =
            new Violation(
                TOKEN_TYPE, "two points of type " + type + " in one series and window", "conflict");
      } else if (input) {
        w.input = (long) p.getSum();
      } else {
        w.output = (long) p.getSum();
      }
    }
  }

  private void window(Window w, String boundTenant, OtlpMapped out) {
    String where =
        TOKEN_USAGE
            + " "
            + OtlpAttributes.sorted(w.attributes, TOKEN_TYPE)
            + " at "
            + OtlpAttributes.instant(w.time);
    if (w.problem != null) {
      out.reject(w.points, where, w.problem);
      return;
    }
    String tenant =
        boundTenant != null
            ? boundTenant
            : OtlpAttributes.firstText(tenantAttributes, w.attributes, w.resource);
    if (tenant == null) {
      out.reject(w.points, where, OtlpTraces.missing("tenant", tenantAttributes));
      return;
    }
    String model = OtlpAttributes.firstText(OtlpTraces.MODEL, w.attributes, w.resource);
    if (model == null) {
      out.reject(w.points, where, OtlpTraces.missing("model", OtlpTraces.MODEL));
      return;
    }
    ObjectNode o = JSON.objectNode();
    // No event_id: the parser derives one from the content, the same for the same window resent.
    o.put("ts", OtlpAttributes.instant(w.time).toString());
    o.put("tenant", tenant);
    o.put("model", model);
    String provider = OtlpAttributes.firstText(OtlpTraces.PROVIDER, w.attributes, w.resource);
    if (provider != null) {
      o.put("provider", provider);
    }
    o.put("input_tokens", w.input == null ? 0 : w.input);
    o.put("output_tokens", w.output == null ? 0 : w.output);
    out.add(new OtlpMapped.Item(EventType.TOKEN_USAGE, o, w.points, where));
  }

  private static void gpu(Metric m, Map<String, OtlpGpuSample> gpus, OtlpMapped out) {
    List<NumberDataPoint> points;
    boolean cumulative = false;
    if (m.hasGauge()) {
      points = m.getGauge().getDataPointsList();
    } else if (m.hasSum()) {
      points = m.getSum().getDataPointsList();
      cumulative =
          m.getSum().getAggregationTemporality()
              == AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE;
    } else {
      out.reject(
          points(m),
          m.getName(),
          new Violation(m.getName(), "expected a gauge or a sum", "wrong_type"));
      return;
    }
    for (NumberDataPoint p : points) {
      String hwId = OtlpAttributes.text(OtlpAttributes.find(p.getAttributesList(), "hw.id"));
      String hwType = OtlpAttributes.text(OtlpAttributes.find(p.getAttributesList(), "hw.type"));
      if (!OtlpGpuSample.concernsGpu(m.getName(), hwType)) {
        out.skip(1);
        continue;
      }
      if (hwId == null) {
        out.reject(
            1,
            m.getName(),
            new Violation("hw.id", "a GPU metric point without hw.id", "missing_field"));
        continue;
      }
      String key = hwId + "@" + p.getTimeUnixNano();
      OtlpGpuSample g =
          gpus.computeIfAbsent(key, k -> new OtlpGpuSample(hwId, p.getTimeUnixNano()));
      g.add(m.getName(), p, cumulative);
    }
  }

  static int points(Metric m) {
    return switch (m.getDataCase()) {
      case GAUGE -> m.getGauge().getDataPointsCount();
      case SUM -> m.getSum().getDataPointsCount();
      case HISTOGRAM -> m.getHistogram().getDataPointsCount();
      case EXPONENTIAL_HISTOGRAM -> m.getExponentialHistogram().getDataPointsCount();
      case SUMMARY -> m.getSummary().getDataPointsCount();
      default -> 0;
    };
  }

  static double mib(double bytes) {
    return bytes / MIB;
  }
}
