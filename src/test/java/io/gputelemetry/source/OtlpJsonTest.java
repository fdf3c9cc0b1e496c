package io.gputelemetry.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * OTLP/JSON as the opentelemetry-proto repository's own examples write it (src/test/resources/otlp,
 * exact bytes): hex ids of either case, int64 as strings, enums as numbers.
 */
class OtlpJsonTest {
  static byte[] fixture(String name) throws Exception {
    try (InputStream in = OtlpJsonTest.class.getResourceAsStream("/otlp/" + name)) {
      return in.readAllBytes();
    }
  }

  @Test
  void theTraceExampleDecodesWithItsHexIdsAsBytes() throws Exception {
    ExportTraceServiceRequest r =
        OtlpJson.read(fixture("trace.json"), ExportTraceServiceRequest.newBuilder()).build();
    Span s = r.getResourceSpans(0).getScopeSpans(0).getSpans(0);
    assertEquals(
        "5b8efff798038103d269b633813fc60c", HexFormat.of().formatHex(s.getTraceId().toByteArray()));
    assertEquals("eee19b7ec3c1b174", HexFormat.of().formatHex(s.getSpanId().toByteArray()));
    assertEquals("eee19b7ec3c1b173", HexFormat.of().formatHex(s.getParentSpanId().toByteArray()));
    assertEquals(1544712660000000000L, s.getStartTimeUnixNano(), "int64 given as a string");
    assertEquals(1544712661000000000L, s.getEndTimeUnixNano());
    assertEquals(Span.SpanKind.SPAN_KIND_SERVER, s.getKind(), "enum given as the number 2");
    assertEquals(
        "my.service",
        r.getResourceSpans(0).getResource().getAttributes(0).getValue().getStringValue());
    assertEquals("some value", s.getAttributes(0).getValue().getStringValue());
  }

  @Test
  void lowerCaseHexReadsAsTheSameIds() throws Exception {
    String upper = new String(fixture("trace.json"), StandardCharsets.UTF_8);
    String lower =
        upper
            .replace("5B8EFFF798038103D269B633813FC60C", "5b8efff798038103d269b633813fc60c")
            .replace("EEE19B7EC3C1B174", "eee19b7ec3c1b174");
    assertEquals(
        OtlpJson.read(
                upper.getBytes(StandardCharsets.UTF_8), ExportTraceServiceRequest.newBuilder())
            .build(),
        OtlpJson.read(
                lower.getBytes(StandardCharsets.UTF_8), ExportTraceServiceRequest.newBuilder())
            .build());
  }

  @Test
  void theTraceExampleHasNoTokenUsageSoItsSpanIsSkipped() throws Exception {
    OtlpMapped m =
        new OtlpTraces(List.of("tenant.id"))
            .map(
                OtlpJson.read(fixture("trace.json"), ExportTraceServiceRequest.newBuilder())
                    .build(),
                null);
    assertEquals(List.of(), m.events());
    assertEquals(List.of(), m.rejections());
    assertEquals(1, m.skipped());
  }

  @Test
  void theMetricsExampleDecodesEveryKindOfPoint() throws Exception {
    ExportMetricsServiceRequest r =
        OtlpJson.read(fixture("metrics.json"), ExportMetricsServiceRequest.newBuilder()).build();
    List<Metric> ms = r.getResourceMetrics(0).getScopeMetrics(0).getMetricsList();
    assertEquals(
        List.of("my.counter", "my.gauge", "my.histogram", "my.exponential.histogram"),
        ms.stream().map(Metric::getName).toList());
    assertEquals(
        AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA,
        ms.get(0).getSum().getAggregationTemporality());
    assertEquals(5.0, ms.get(0).getSum().getDataPoints(0).getAsDouble());
    assertEquals(10.0, ms.get(1).getGauge().getDataPoints(0).getAsDouble());
    assertEquals(2L, ms.get(2).getHistogram().getDataPoints(0).getCount());
    assertEquals(List.of(1L, 1L), ms.get(2).getHistogram().getDataPoints(0).getBucketCountsList());
    assertEquals(1L, ms.get(3).getExponentialHistogram().getDataPoints(0).getZeroCount());
    OtlpMapped m =
        new OtlpMetrics(List.of("tenant.id"), Map.of(), ModelMap.parse(List.of())).map(r, null);
    assertEquals(List.of(), m.events());
    assertEquals(4, m.skipped(), "one point in each of four metrics that are not ours");
  }

  @Test
  void idsThatAreNotHexOrOfTheWrongLengthAreRefusedNamingTheField() throws Exception {
    String json = new String(fixture("trace.json"), StandardCharsets.UTF_8);
    OtlpJson.ParseException notHex =
        assertThrows(
            OtlpJson.ParseException.class,
            () ->
                OtlpJson.read(
                    json.replace("EEE19B7EC3C1B174", "EEE19B7EC3C1B17Z")
                        .getBytes(StandardCharsets.UTF_8),
                    ExportTraceServiceRequest.newBuilder()));
    assertEquals(
        "resourceSpans[0].scopeSpans[0].spans[0].spanId: not hex ('EEE19B7EC3C1B17Z')",
        notHex.getMessage());
    // The base64 of the same 16 bytes, as protobuf's own JSON mapping would write it.
    OtlpJson.ParseException base64 =
        assertThrows(
            OtlpJson.ParseException.class,
            () ->
                OtlpJson.read(
                    json.replace("5B8EFFF798038103D269B633813FC60C", "W47/95gDgQPSabYzgT/GDA==")
                        .getBytes(StandardCharsets.UTF_8),
                    ExportTraceServiceRequest.newBuilder()));
    assertEquals(
        "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits, got 24"
            + " characters",
        base64.getMessage());
  }

  @Test
  void malformedJsonAndWrongTypesAreRefused() {
    OtlpJson.ParseException cut =
        assertThrows(
            OtlpJson.ParseException.class,
            () ->
                OtlpJson.read(
                    "{\"resourceSpans\": [".getBytes(StandardCharsets.UTF_8),
                    ExportTraceServiceRequest.newBuilder()));
    assertTrue(cut.getMessage().startsWith("not valid JSON: "), cut.getMessage());
    OtlpJson.ParseException type =
        assertThrows(
            OtlpJson.ParseException.class,
            () ->
                OtlpJson.read(
                    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"soon\"}]}]}]}"
                        .getBytes(StandardCharsets.UTF_8),
                    ExportTraceServiceRequest.newBuilder()));
    assertTrue(type.getMessage().startsWith("not OTLP/JSON: "), type.getMessage());
    assertTrue(type.getMessage().contains("soon"), type.getMessage());
  }
}
