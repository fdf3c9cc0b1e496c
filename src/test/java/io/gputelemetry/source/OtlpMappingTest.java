package io.gputelemetry.source;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.gputelemetry.event.EventType;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Spans and metrics of the GenAI and hardware conventions to canonical event bodies. */
class OtlpMappingTest {
  static final long T0 = 1_764_600_000_000_000_000L; // 2025-12-01T14:40:00Z
  private final OtlpTraces traces = new OtlpTraces(List.of("tenant.id", "enduser.id"));
  private final OtlpMetrics metrics =
      new OtlpMetrics(
          List.of("tenant.id", "enduser.id"),
          Map.of(),
          ModelMap.parse(List.of("inference/llama-.*=llama-3.1-70b-instruct")));

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder()
        .setKey(k)
        .setValue(AnyValue.newBuilder().setStringValue(v))
        .build();
  }

  static KeyValue kv(String k, long v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setIntValue(v)).build();
  }

  static KeyValue kv(String k, double v) {
    return KeyValue.newBuilder()
        .setKey(k)
        .setValue(AnyValue.newBuilder().setDoubleValue(v))
        .build();
  }

  static Span.Builder span(String spanHex, KeyValue... attrs) {
    return Span.newBuilder()
        .setTraceId(
            ByteString.copyFrom(HexFormat.of().parseHex("0af7651916cd43dd8448eb211c80319c")))
        .setSpanId(ByteString.copyFrom(HexFormat.of().parseHex(spanHex)))
        .setName("chat llama")
        .setStartTimeUnixNano(T0)
        .setEndTimeUnixNano(T0 + 1_830_500_000L)
        .addAllAttributes(List.of(attrs));
  }

  static ExportTraceServiceRequest request(List<KeyValue> resource, Span.Builder... spans) {
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (Span.Builder s : spans) {
      ss.addSpans(s);
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(
            ResourceSpans.newBuilder()
                .setResource(Resource.newBuilder().addAllAttributes(resource))
                .addScopeSpans(ss))
        .build();
  }

  @Test
  void aSpanWithUsageBecomesOneTokenEvent() {
    OtlpMapped m =
        traces.map(
            request(
                List.of(kv("service.name", "gateway"), kv("tenant.id", "from-resource")),
                span(
                    "b7ad6b7169203331",
                    kv("gen_ai.request.model", "llama-3.1-70b"),
                    kv("gen_ai.response.model", "llama-3.1-70b-instruct"),
                    kv("gen_ai.provider.name", "vllm"),
                    kv("gen_ai.usage.input_tokens", 812L),
                    kv("gen_ai.usage.output_tokens", 245L),
                    kv("enduser.id", "alice@acme"))),
            null);
    assertEquals(List.of(), m.rejections());
    OtlpMapped.Item e = m.events().get(0);
    assertEquals(EventType.TOKEN_USAGE, e.type());
    assertEquals(
        "{\"event_id\":\"otlp-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331\","
            + "\"ts\":\"2025-12-01T14:40:01.830500Z\",\"tenant\":\"from-resource\","
            + "\"model\":\"llama-3.1-70b-instruct\",\"provider\":\"vllm\",\"input_tokens\":812,"
            + "\"output_tokens\":245,\"latency_ms\":1830.5}",
        e.body().toString(),
        "tenant.id (on the resource) comes before enduser.id (on the span); the response model"
            + " before the request model; ts the span's end; latency its duration");
  }

  @Test
  void tenantPrecedenceIsTheListsOrderSpanBeforeResourceForEachName() {
    Span.Builder s =
        span(
            "b7ad6b7169203331",
            kv("gen_ai.request.model", "m"),
            kv("gen_ai.usage.input_tokens", 1L),
            kv("tenant.id", "on-span"));
    assertEquals(
        "on-span",
        traces
            .map(request(List.of(kv("tenant.id", "on-resource")), s), null)
            .events()
            .get(0)
            .body()
            .get("tenant")
            .asText());
    Span.Builder noTenant =
        span(
            "b7ad6b7169203331",
            kv("gen_ai.request.model", "m"),
            kv("gen_ai.usage.output_tokens", 3L));
    OtlpMapped bound = traces.map(request(List.of(), noTenant), "key-tenant");
    assertEquals("key-tenant", bound.events().get(0).body().get("tenant").asText());
    assertEquals(
        0, bound.events().get(0).body().get("input_tokens").asLong(), "absent input counts 0");
    OtlpMapped none = traces.map(request(List.of(), noTenant), null);
    assertEquals(
        "tenant: none of the attributes tenant.id, enduser.id is set",
        none.rejections().get(0).violation().toString());
  }

  @Test
  void spansWithoutUsageAreSkippedAndBadUsageIsRejectedWithItsReason() {
    OtlpMapped m =
        traces.map(
            request(
                List.of(kv("tenant.id", "acme")),
                span("0000000000000001", kv("http.route", "/v1/chat")),
                span(
                    "0000000000000002",
                    kv("gen_ai.request.model", "m"),
                    kv("gen_ai.usage.input_tokens", 12.5)),
                span(
                    "0000000000000003",
                    kv("gen_ai.request.model", "m"),
                    kv("gen_ai.usage.input_tokens", "lots")),
                span("0000000000000004", kv("gen_ai.usage.input_tokens", 7L)),
                span(
                    "0000000000000005",
                    kv("gen_ai.request.model", "m"),
                    kv("gen_ai.usage.input_tokens", "40"))),
            null);
    assertEquals(1, m.skipped());
    assertEquals(
        List.of(
            "gen_ai.usage.input_tokens: not a whole number (12.5)",
            "gen_ai.usage.input_tokens: not a whole number ('lots')",
            "model: none of the attributes gen_ai.response.model, gen_ai.request.model is set"),
        m.rejections().stream().map(r -> r.violation().toString()).toList());
    assertEquals(40, m.events().get(0).body().get("input_tokens").asLong(), "a number as a string");
  }

  static Metric tokenHistogram(AggregationTemporality t, HistogramDataPoint... points) {
    return Metric.newBuilder()
        .setName("gen_ai.client.token.usage")
        .setUnit("{token}")
        .setHistogram(
            Histogram.newBuilder().setAggregationTemporality(t).addAllDataPoints(List.of(points)))
        .build();
  }

  static HistogramDataPoint tokens(String type, double sum, long count) {
    return HistogramDataPoint.newBuilder()
        .setStartTimeUnixNano(T0)
        .setTimeUnixNano(T0 + 60_000_000_000L)
        .setCount(count)
        .setSum(sum)
        .addAttributes(kv("gen_ai.token.type", type))
        .addAttributes(kv("gen_ai.request.model", "llama-3.1-8b-instruct"))
        .addAttributes(kv("tenant.id", "globex"))
        .build();
  }

  static ExportMetricsServiceRequest metrics(List<KeyValue> resource, Metric... ms) {
    return ExportMetricsServiceRequest.newBuilder()
        .addResourceMetrics(
            ResourceMetrics.newBuilder()
                .setResource(Resource.newBuilder().addAllAttributes(resource))
                .addScopeMetrics(ScopeMetrics.newBuilder().addAllMetrics(List.of(ms))))
        .build();
  }

  @Test
  void aDeltaTokenHistogramGivesOneEventPerSeriesAndWindow() {
    OtlpMapped m =
        metrics.map(
            metrics(
                List.of(),
                tokenHistogram(
                    AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA,
                    tokens("input", 1500, 3),
                    tokens("output", 420, 3))),
            null);
    assertEquals(List.of(), m.rejections());
    assertEquals(1, m.events().size());
    assertEquals(2, m.events().get(0).items());
    assertEquals(
        "{\"ts\":\"2025-12-01T14:41:00Z\",\"tenant\":\"globex\",\"model\":\"llama-3.1-8b-instruct\","
            + "\"input_tokens\":1500,\"output_tokens\":420}",
        m.events().get(0).body().toString());
  }

  @Test
  void aCumulativeTokenHistogramIsRejectedSayingWhatToChange() {
    OtlpMapped m =
        metrics.map(
            metrics(
                List.of(),
                tokenHistogram(
                    AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE,
                    tokens("input", 1500, 3),
                    tokens("output", 420, 3))),
            null);
    assertEquals(List.of(), m.events());
    assertEquals(2, m.rejections().get(0).items());
    assertEquals(
        "gen_ai.client.token.usage: aggregation temporality cumulative: only delta is accepted (set"
            + " the exporter's temporality preference to delta, or use the Collector's"
            + " cumulativetodelta processor)",
        m.rejections().get(0).violation().toString());
  }

  static Metric gauge(String name, double v, KeyValue... attrs) {
    return Metric.newBuilder()
        .setName(name)
        .setGauge(Gauge.newBuilder().addDataPoints(point(v, attrs)))
        .build();
  }

  static Metric sum(String name, double v, boolean cumulative, KeyValue... attrs) {
    return Metric.newBuilder()
        .setName(name)
        .setSum(
            Sum.newBuilder()
                .setAggregationTemporality(
                    cumulative
                        ? AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
                        : AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA)
                .addDataPoints(point(v, attrs)))
        .build();
  }

  static NumberDataPoint point(double v, KeyValue... attrs) {
    return NumberDataPoint.newBuilder()
        .setTimeUnixNano(T0)
        .setAsDouble(v)
        .addAttributes(kv("hw.id", "GPU-5a1c0f2e-8d3b-4c6e-9f10-2b7d4e6a8c01"))
        .addAttributes(kv("hw.model", "NVIDIA H100 80GB HBM3"))
        .addAllAttributes(List.of(attrs))
        .build();
  }

  @Test
  void hardwareMetricsOfOneGpuAtOneTimeBecomeOneSampleInOurUnits() {
    KeyValue gpu = kv("hw.type", "gpu");
    OtlpMapped m =
        metrics.map(
            metrics(
                List.of(
                    kv("host.name", "gpu-node-01"),
                    kv("k8s.namespace.name", "inference"),
                    kv("k8s.pod.name", "llama-0")),
                gauge("hw.gpu.utilization", 0.875, kv("hw.gpu.task", "general")),
                gauge("hw.gpu.utilization", 0.10, kv("hw.gpu.task", "encoder")),
                sum("hw.gpu.memory.usage", 64_206_405_632.0, false),
                sum("hw.gpu.memory.limit", 85_520_809_984.0, false),
                gauge("hw.power", 612.4, gpu),
                sum("hw.energy", 123_456.789, true, gpu),
                gauge("hw.temperature", 71, gpu),
                gauge("hw.power", 900, kv("hw.type", "power_supply")),
                gauge("system.cpu.utilization", 0.3)),
            null);
    assertEquals(List.of(), m.rejections());
    assertEquals(2, m.skipped(), "the power supply's hw.power, and system.cpu.utilization");
    assertEquals(
        "{\"ts\":\"2025-12-01T14:40:00Z\",\"node\":\"gpu-node-01\",\"writer\":\"otlp\","
            + "\"gpu_uuid\":\"GPU-5a1c0f2e-8d3b-4c6e-9f10-2b7d4e6a8c01\",\"gpu_model\":\"H100-SXM-80GB\","
            + "\"model\":\"llama-3.1-70b-instruct\",\"utilization_pct\":87.5,"
            + "\"memory_used_mib\":61232.0,\"memory_total_mib\":81559.0,\"power_w\":612.4,"
            + "\"energy_mj\":123456789,\"temperature_c\":71.0}",
        m.events().get(0).body().toString());
    assertEquals(7, m.events().get(0).items());
  }

  @Test
  void aGpuWithoutTemperatureOrHostIsRejectedNamingWhatIsMissing() {
    KeyValue gpu = kv("hw.type", "gpu");
    Metric[] noTemp = {
      gauge("hw.gpu.utilization", 0.5),
      sum("hw.gpu.memory.usage", 1.0, false),
      sum("hw.gpu.memory.limit", 2.0, false),
      gauge("hw.power", 100, gpu)
    };
    OtlpMapped m = metrics.map(metrics(List.of(kv("host.name", "n1")), noTemp), null);
    assertEquals(4, m.rejections().get(0).items());
    assertEquals(
        "temperature_c: no hw.temperature (or hw.gpu.temperature) point for this GPU at this time",
        m.rejections().get(0).violation().toString());
    OtlpMapped noHost = metrics.map(metrics(List.of(), noTemp), null);
    assertEquals(
        "node: none of the attributes host.name, k8s.node.name is set",
        noHost.rejections().get(0).violation().toString());
  }
}
