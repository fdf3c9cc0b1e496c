package io.gputelemetry.source;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.Violation;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One GPU ({@code hw.id}) at one instant, gathered from the hardware conventions' metrics into a
 * GPU sample (gpu.metrics.v1 body). Units as the conventions give them: ratios 0..1, bytes, watts,
 * joules, degrees Celsius.
 */
final class OtlpGpuSample {
  /** The writer of every sample read from OTLP (a key's id replaces it when keys are in use). */
  static final String WRITER = "otlp";

  /** Metric name to the sample field it gives. */
  static final Map<String, String> FIELDS =
      Map.of(
          "hw.gpu.utilization", "utilization_pct",
          "hw.gpu.memory.usage", "memory_used_mib",
          "hw.gpu.memory.limit", "memory_total_mib",
          "hw.power", "power_w",
          "hw.energy", "energy_mj",
          "hw.temperature", "temperature_c",
          "hw.gpu.temperature", "temperature_c");

  /** The fields a sample cannot be without, with the metric that gives each. */
  private static final Map<String, String> REQUIRED = new LinkedHashMap<>();

  static {
    REQUIRED.put("utilization_pct", "hw.gpu.utilization");
    REQUIRED.put("memory_used_mib", "hw.gpu.memory.usage");
    REQUIRED.put("memory_total_mib", "hw.gpu.memory.limit");
    REQUIRED.put("power_w", "hw.power");
    REQUIRED.put("temperature_c", "hw.temperature (or hw.gpu.temperature)");
  }

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private final String hwId;
  private final long time;
  private final Map<String, Double> values = new LinkedHashMap<>();
  private List<KeyValue> attributes;
  private int points;

  OtlpGpuSample(String hwId, long time) {
    this.hwId = hwId;
    this.time = time;
  }

  /** Whether a point of this metric is about a GPU (the generic hw.* ones need hw.type=gpu). */
  static boolean concernsGpu(String metric, String hwType) {
    return metric.startsWith("hw.gpu.")
        ? hwType == null || hwType.equals("gpu")
        : "gpu".equals(hwType);
  }

  void add(String metric, NumberDataPoint p, boolean cumulative) {
    points++;
    if (attributes == null) {
      attributes = p.getAttributesList();
    }
    List<KeyValue> a = p.getAttributesList();
    String task = OtlpAttributes.text(OtlpAttributes.find(a, "hw.gpu.task"));
    String sensor = OtlpAttributes.text(OtlpAttributes.find(a, "sensor"));
    if ((metric.equals("hw.gpu.utilization") && task != null && !task.equals("general"))
        || (metric.equals("hw.gpu.temperature") && sensor != null && !sensor.equals("die"))
        || (metric.equals("hw.energy") && !cumulative)) {
      return; // encoder/decoder load, memory temperature, energy in windows: not what we keep
    }
    double v =
        p.getValueCase() == NumberDataPoint.ValueCase.AS_INT ? p.getAsInt() : p.getAsDouble();
    double canonical =
        switch (metric) {
          case "hw.gpu.utilization" -> v * 100;
          case "hw.gpu.memory.usage", "hw.gpu.memory.limit" -> OtlpMetrics.mib(v);
          case "hw.energy" -> Math.floor(v * 1000);
          default -> v;
        };
    values.put(FIELDS.get(metric), canonical);
  }

  void finish(
      List<KeyValue> resource, Map<String, String> gpuModels, ModelMap models, OtlpMapped out) {
    String where = "GPU " + OtlpAttributes.abbreviate(hwId) + " at " + OtlpAttributes.instant(time);
    String node = OtlpAttributes.firstText(List.of("host.name", "k8s.node.name"), resource, null);
    if (node == null) {
      out.reject(points, where, OtlpTraces.missing("node", List.of("host.name", "k8s.node.name")));
      return;
    }
    String reported =
        OtlpAttributes.firstText(List.of("hw.model", "hw.name"), attributes, resource);
    if (reported == null) {
      out.reject(points, where, OtlpTraces.missing("gpu_model", List.of("hw.model", "hw.name")));
      return;
    }
    for (Map.Entry<String, String> r : REQUIRED.entrySet()) {
      if (!values.containsKey(r.getKey())) {
        out.reject(
            points,
            where,
            new Violation(
                r.getKey(),
                "no " + r.getValue() + " point for this GPU at this time",
                "missing_field"));
        return;
      }
    }
    ObjectNode o = JSON.objectNode();
    o.put("ts", OtlpAttributes.instant(time).toString());
    o.put("node", node);
    o.put("writer", WRITER);
    o.put("gpu_uuid", hwId);
    o.put("gpu_model", gpuModels.getOrDefault(reported, reported));
    String model =
        models.modelOf(
            OtlpAttributes.text(OtlpAttributes.find(resource, "k8s.namespace.name")),
            OtlpAttributes.text(OtlpAttributes.find(resource, "k8s.pod.name")),
            OtlpAttributes.text(OtlpAttributes.find(resource, "k8s.container.name")));
    if (model != null) {
      o.put("model", model);
    }
    values.forEach(
        (field, v) -> {
          if (field.equals("energy_mj")) {
            o.put(field, (long) (double) v);
          } else {
            o.put(field, v);
          }
        });
    out.add(new OtlpMapped.Item(EventType.GPU_SAMPLE, o, points, where));
  }
}
