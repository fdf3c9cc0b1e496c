package io.gputelemetry.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Status;
import io.gputelemetry.support.RunningPipeline;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporterBuilder;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.export.AggregationTemporalitySelector;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The OTLP/HTTP receiver with real clients: the OpenTelemetry Java SDK's own OTLP/HTTP exporters
 * (protobuf, and JSON) through the real broker into the store and the usage API; then bad input,
 * each with its precise answer, nothing else lost.
 */
class OtlpReceiverIT {
  private static final int MAX_BODY = 65_536;
  private final HttpClient http = HttpClient.newHttpClient();

  /**
   * The SDK's OTLP/JSON mode: {@code exportAsJson()} exists on the exporters' internal builder (the
   * SDK's own tests use it) but no public method reaches it, so the test reaches it.
   */
  static void exportAsJson(Object publicBuilder) throws Exception {
    java.lang.reflect.Field f = publicBuilder.getClass().getDeclaredField("delegate");
    f.setAccessible(true);
    Object internal = f.get(publicBuilder);
    internal.getClass().getMethod("exportAsJson").invoke(internal);
  }

  static SpanExporter spans(String base, boolean json) throws Exception {
    OtlpHttpSpanExporterBuilder b = OtlpHttpSpanExporter.builder().setEndpoint(base + "/v1/traces");
    if (json) {
      exportAsJson(b);
    } else {
      b.setCompression("gzip");
    }
    return b.build();
  }

  /** Ends one LLM call span with the GenAI usage attributes, and one plain span. */
  static void trace(SpanExporter exporter, String tenant, long in, long out, Instant end) {
    SdkTracerProvider tp =
        SdkTracerProvider.builder()
            .setResource(
                Resource.create(Attributes.of(AttributeKey.stringKey("tenant.id"), tenant)))
            .addSpanProcessor(SimpleSpanProcessor.create(exporter))
            .build();
    Tracer tracer = tp.get("otlp-it");
    Span call =
        tracer
            .spanBuilder("chat llama-3.1-8b-instruct")
            .setStartTimestamp(end.minusMillis(1250))
            .setAttribute("gen_ai.request.model", "llama-3.1-8b-instruct")
            .setAttribute("gen_ai.provider.name", "vllm")
            .setAttribute("gen_ai.usage.input_tokens", in)
            .setAttribute("gen_ai.usage.output_tokens", out)
            .startSpan();
    call.end(end);
    tracer.spanBuilder("GET /health").startSpan().end();
    assertTrue(tp.forceFlush().join(10, TimeUnit.SECONDS).isSuccess(), "span export");
    tp.close();
  }

  @Test
  void sdkExportersRoundTripThroughTheBrokerIntoTheStoreAndTheUsageApi() throws Exception {
    try (RunningPipeline p = new RunningPipeline(Map.of())) {
      Instant end = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(5);
      trace(spans(p.baseUrl(), false), "acme", 812, 245, end);
      trace(spans(p.baseUrl(), true), "globex", 90, 400, end.plusMillis(1));

      OtlpHttpMetricExporterBuilder mb =
          OtlpHttpMetricExporter.builder()
              .setEndpoint(p.baseUrl() + "/v1/metrics")
              .setAggregationTemporalitySelector(AggregationTemporalitySelector.deltaPreferred());
      exportAsJson(mb);
      SdkMeterProvider mp =
          SdkMeterProvider.builder()
              .setResource(
                  Resource.create(
                      Attributes.of(AttributeKey.stringKey("host.name"), "gpu-node-07")))
              .registerMetricReader(
                  PeriodicMetricReader.builder(mb.build()).setInterval(Duration.ofHours(1)).build())
              .build();
      Meter meter = mp.get("otlp-it");
      DoubleHistogram usage =
          meter.histogramBuilder("gen_ai.client.token.usage").setUnit("{token}").build();
      Attributes call =
          Attributes.builder()
              .put("gen_ai.request.model", "mistral-7b-instruct")
              .put("tenant.id", "initech")
              .build();
      usage.record(1000, call.toBuilder().put("gen_ai.token.type", "input").build());
      usage.record(500, call.toBuilder().put("gen_ai.token.type", "input").build());
      usage.record(300, call.toBuilder().put("gen_ai.token.type", "output").build());
      Attributes gpu =
          Attributes.builder()
              .put("hw.id", "GPU-0c1d2e3f-0000-4000-8000-000000000007")
              .put("hw.type", "gpu")
              .put("hw.model", "NVIDIA H100 80GB HBM3")
              .build();
      meter.gaugeBuilder("hw.gpu.utilization").build().set(0.42, gpu);
      meter
          .upDownCounterBuilder("hw.gpu.memory.usage")
          .setUnit("By")
          .build()
          .add(1024L * 1048576, gpu);
      meter
          .upDownCounterBuilder("hw.gpu.memory.limit")
          .setUnit("By")
          .build()
          .add(81559L * 1048576, gpu);
      meter.gaugeBuilder("hw.power").setUnit("W").build().set(350.5, gpu);
      meter.gaugeBuilder("hw.temperature").setUnit("Cel").build().set(64, gpu);
      CompletableResultCode flushed = mp.forceFlush().join(10, TimeUnit.SECONDS);
      assertTrue(flushed.isSuccess(), "metric export");
      mp.close();

      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> p.store().count("token_usage") == 3 && p.store().count("gpu_metrics") == 1);
      JsonObject acme =
          p.store().find("token_usage", new JsonObject().put("tenant", "acme")).get(0);
      assertEquals(812, acme.getInteger("input_tokens"));
      assertEquals(245, acme.getInteger("output_tokens"));
      assertEquals(1250.0, acme.getDouble("latency_ms"), "the span's duration");
      assertEquals("llama-3.1-8b-instruct", acme.getString("model"));
      assertEquals("vllm", acme.getString("provider"));
      assertTrue(
          acme.getString("event_id").matches("otlp-[0-9a-f]{32}-[0-9a-f]{16}"), acme.encode());
      JsonObject globex =
          p.store().find("token_usage", new JsonObject().put("tenant", "globex")).get(0);
      assertEquals(490, globex.getInteger("input_tokens") + globex.getInteger("output_tokens"));
      JsonObject initech =
          p.store().find("token_usage", new JsonObject().put("tenant", "initech")).get(0);
      assertEquals(1500, initech.getInteger("input_tokens"), "the input histogram's sum");
      assertEquals(300, initech.getInteger("output_tokens"));
      JsonObject sample = p.store().find("gpu_metrics", new JsonObject()).get(0);
      assertEquals("gpu-node-07", sample.getString("node"));
      assertEquals("H100-SXM-80GB", sample.getString("gpu_model"));
      assertEquals(42.0, sample.getDouble("utilization_pct"), 1e-9);
      assertEquals(1024.0, sample.getDouble("memory_used_mib"));
      assertEquals(350.5, sample.getDouble("power_w"));
      assertEquals(64.0, sample.getDouble("temperature_c"));

      String from = end.minusSeconds(3600).truncatedTo(ChronoUnit.HOURS).toString();
      String to = Instant.now().plusSeconds(3600).truncatedTo(ChronoUnit.HOURS).toString();
      HttpResponse<String> r =
          p.get(p.processorUrl() + "/api/v1/usage?from=" + from + "&to=" + to + "&groupBy=tenant");
      assertEquals(200, r.statusCode(), r.body());
      JsonArray groups = new JsonObject(r.body()).getJsonArray("groups");
      Map<String, Long> totals = new java.util.TreeMap<>();
      for (int i = 0; i < groups.size(); i++) {
        JsonObject g = groups.getJsonObject(i);
        totals.put(g.getString("key"), g.getLong("total_tokens"));
      }
      assertEquals(Map.of("acme", 1057L, "globex", 490L, "initech", 1800L), totals);
    }
  }

  private HttpResponse<byte[]> post(
      RunningPipeline p, String path, String type, String encoding, byte[] body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(p.baseUrl() + path))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", type)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (encoding != null) {
      b.header("Content-Encoding", encoding);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  static String tokenSpans(String... spans) {
    return "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"tenant.id\",\"value\":{\"stringValue\":\"hooli\"}}]},"
               + "\"scopeSpans\":[{\"spans\":["
        + String.join(",", spans)
        + "]}]}]}";
  }

  static String span(String spanId, long in, Instant end) {
    long nanos = end.getEpochSecond() * 1_000_000_000L + end.getNano();
    return "{\"traceId\":\"4BF92F3577B34DA6A3CE929D0E0E4736\",\"spanId\":\""
        + spanId
        + "\",\"name\":\"chat\",\"kind\":3,\"startTimeUnixNano\":\""
        + (nanos - 500_000_000L)
        + "\",\"endTimeUnixNano\":\""
        + nanos
        + "\",\"attributes\":[{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"llama-3.1-70b-instruct\"}},"
        + "{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"intValue\":\""
        + in
        + "\"}},{\"key\":\"gen_ai.usage.output_tokens\",\"value\":{\"intValue\":7}}]}";
  }

  static byte[] gzip(byte[] raw) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(raw);
    }
    return out.toByteArray();
  }

  static Status jsonStatus(HttpResponse<byte[]> r) throws Exception {
    Status.Builder b = Status.newBuilder();
    com.google.protobuf.util.JsonFormat.parser()
        .merge(new String(r.body(), StandardCharsets.UTF_8), b);
    return b.build();
  }

  @Test
  void badInputGetsPreciseAnswersAndNothingElseIsLost() throws Exception {
    try (RunningPipeline p =
        new RunningPipeline(Map.of("otlp.max-body-bytes", Integer.toString(MAX_BODY)))) {
      Instant end = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(2);
      String json = "application/json";
      String proto = "application/x-protobuf";

      HttpResponse<byte[]> r =
          post(p, "/v1/traces", proto, null, new byte[] {0x0a, (byte) 0xff, (byte) 0xff});
      assertEquals(400, r.statusCode());
      assertEquals(proto, r.headers().firstValue("Content-Type").orElse(""));
      Status s = Status.parseFrom(r.body());
      assertEquals(3, s.getCode(), "INVALID_ARGUMENT");
      assertTrue(
          s.getMessage().startsWith("not an OTLP ExportTraceServiceRequest in protobuf: "),
          s.getMessage());

      r =
          post(
              p,
              "/v1/metrics",
              json,
              null,
              "{\"resourceMetrics\": [".getBytes(StandardCharsets.UTF_8));
      assertEquals(400, r.statusCode());
      assertEquals(json, r.headers().firstValue("Content-Type").orElse(""));
      assertTrue(
          jsonStatus(r).getMessage().startsWith("not valid JSON: "), jsonStatus(r).getMessage());

      r = post(p, "/v1/traces", "text/plain", null, "hello".getBytes(StandardCharsets.UTF_8));
      assertEquals(415, r.statusCode());
      assertEquals(
          "Content-Type must be application/x-protobuf or application/json, got 'text/plain'",
          jsonStatus(r).getMessage());
      r = post(p, "/v1/traces", json, "br", "{}".getBytes(StandardCharsets.UTF_8));
      assertEquals(415, r.statusCode());
      assertEquals("Content-Encoding must be gzip or none, got 'br'", jsonStatus(r).getMessage());

      // An absurd token count costs its own span only.
      r =
          post(
              p,
              "/v1/traces",
              json,
              null,
              tokenSpans(
                      span("00F067AA0BA902B7", 5_000_000_000L, end),
                      span("00F067AA0BA902B8", 120, end))
                  .getBytes(StandardCharsets.UTF_8));
      assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
      ExportTraceServiceResponse.Builder resp = ExportTraceServiceResponse.newBuilder();
      com.google.protobuf.util.JsonFormat.parser()
          .merge(new String(r.body(), StandardCharsets.UTF_8), resp);
      assertEquals(1, resp.getPartialSuccess().getRejectedSpans());
      assertEquals(
          "span 4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7: input_tokens: must have a"
              + " maximum value of 100000000",
          resp.getPartialSuccess().getErrorMessage());

      byte[] big = tokenSpans(span("00F067AA0BA90300", 1, end)).getBytes(StandardCharsets.UTF_8);
      byte[] padded = new byte[MAX_BODY + 1];
      System.arraycopy(big, 0, padded, 0, big.length);
      java.util.Arrays.fill(padded, big.length, padded.length, (byte) ' ');
      r = post(p, "/v1/traces", json, null, padded);
      assertEquals(413, r.statusCode());
      assertEquals(
          "request body exceeds 65536 bytes (otlp.max-body-bytes)", jsonStatus(r).getMessage());

      // 32 MiB of spaces after a valid body: about 32 KiB of gzip, refused once 64 KiB came out.
      ByteArrayOutputStream bomb = new ByteArrayOutputStream();
      try (GZIPOutputStream gz = new GZIPOutputStream(bomb)) {
        gz.write(big);
        byte[] spaces = new byte[1 << 20];
        java.util.Arrays.fill(spaces, (byte) ' ');
        for (int i = 0; i < 32; i++) {
          gz.write(spaces);
        }
      }
      assertTrue(bomb.size() < MAX_BODY, "the bomb itself is within the limit: " + bomb.size());
      r = post(p, "/v1/traces", json, "gzip", bomb.toByteArray());
      assertEquals(413, r.statusCode());
      assertEquals(
          "the gzip body inflates beyond 65536 bytes (otlp.max-body-bytes)",
          jsonStatus(r).getMessage());

      r = post(p, "/v1/traces", json, "gzip", "not gzip".getBytes(StandardCharsets.UTF_8));
      assertEquals(400, r.statusCode());
      assertTrue(
          jsonStatus(r)
              .getMessage()
              .startsWith("Content-Encoding is gzip but the body is not valid gzip"));

      r =
          post(
              p,
              "/v1/traces",
              json,
              "gzip",
              gzip(tokenSpans(span("00F067AA0BA90301", 33, end)).getBytes(StandardCharsets.UTF_8)));
      assertEquals(200, r.statusCode());
      assertEquals(
          "{}", new String(r.body(), StandardCharsets.UTF_8), "fully accepted: no partial success");

      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> p.store().count("token_usage") == 2);
      List<Integer> inputs =
          p.store().find("token_usage", new JsonObject()).stream()
              .map(d -> d.getInteger("input_tokens"))
              .sorted()
              .toList();
      assertEquals(List.of(33, 120), inputs, "the valid spans, and only those");
      // A counter series shows 0 on the first scrape that sees it (metrics.ZeroFirstCounters).
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                String m = p.get(p.baseUrl() + "/metrics").body();
                return m.contains(
                        "telemetry_otlp_items_total{outcome=\"rejected\",signal=\"spans\"} 1.0")
                    && m.contains(
                        "telemetry_otlp_items_total{outcome=\"accepted\",signal=\"spans\"} 2.0");
              });
    }
  }
}
