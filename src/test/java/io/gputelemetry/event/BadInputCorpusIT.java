package io.gputelemetry.event;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.Events;
import io.gputelemetry.support.RunningPipeline;
import io.gputelemetry.support.TestKafka;
import io.gputelemetry.web.IngestRoutes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The bad-input corpus: each case with the answer it must get over HTTP (status, field, code) and,
 * sent as a raw Kafka record, the DLQ reason it must be dead-lettered with. Valid events around
 * them are stored; no bad one is.
 */
class BadInputCorpusIT {
  private static final String JSON = "application/json";

  /** One bad input. {@code kafkaReason} null: not a single record (HTTP-only case). */
  record Case(
      String name,
      boolean gpu,
      String contentType,
      byte[] body,
      int status,
      String field,
      Set<String> codes,
      String kafkaReason) {}

  private static final List<Case> CASES = new ArrayList<>();

  private static void token(
      String name, UnaryOperator<JsonObject> change, String field, String... codes) {
    JsonObject e = change.apply(Events.token("acme"));
    add(name, false, e.encode(), field, codes);
  }

  private static void gpu(
      String name, UnaryOperator<JsonObject> change, String field, String... codes) {
    JsonObject e = change.apply(Events.sample("GPU-corpus"));
    add(name, true, e.encode(), field, codes);
  }

  private static void add(String name, boolean gpu, String body, String field, String... codes) {
    CASES.add(
        new Case(
            name,
            gpu,
            JSON,
            body.getBytes(StandardCharsets.UTF_8),
            400,
            field,
            Set.of(codes),
            codes[0]));
  }

  private static void raw(String name, byte[] body, int status, String code, String kafkaReason) {
    CASES.add(new Case(name, false, JSON, body, status, null, Set.of(code), kafkaReason));
  }

  static {
    String now = Instant.now().toString();
    token("tokens as a string", e -> e.put("input_tokens", "ten"), "input_tokens", "wrong_type");
    token("tokens as a boolean", e -> e.put("output_tokens", true), "output_tokens", "wrong_type");
    token("fractional tokens", e -> e.put("input_tokens", 1.5), "input_tokens", "wrong_type");
    token("negative tokens", e -> e.put("output_tokens", -3), "output_tokens", "out_of_range");
    token("huge tokens", e -> e.put("input_tokens", 1L << 40), "input_tokens", "out_of_range");
    token(
        "missing output_tokens",
        e -> {
          e.remove("output_tokens");
          return e;
        },
        "output_tokens",
        "missing_field");
    token(
        "missing tenant",
        e -> {
          e.remove("tenant");
          return e;
        },
        "tenant",
        "missing_field");
    token(
        "missing model",
        e -> {
          e.remove("model");
          return e;
        },
        "model",
        "missing_field");
    token(
        "missing ts",
        e -> {
          e.remove("ts");
          return e;
        },
        "ts",
        "missing_field");
    token("extra field", e -> e.put("colour", "blue"), "colour", "unknown_field");
    token("malformed timestamp", e -> e.put("ts", "yesterday"), "ts", "bad_format");
    token("timestamp without offset", e -> e.put("ts", "2026-11-28T12:00:00"), "ts", "bad_format");
    token("timestamp as a number", e -> e.put("ts", 1764331200), "ts", "wrong_type");
    token(
        "far-future timestamp",
        e -> e.put("ts", Instant.now().plusSeconds(86_400).toString()),
        "ts",
        "too_far_in_future");
    token(
        "far-past timestamp",
        e -> e.put("ts", Instant.now().minusSeconds(30 * 86_400).toString()),
        "ts",
        "too_old");
    token("tenant with a slash", e -> e.put("tenant", "acme/evil"), "tenant", "bad_format");
    token("unicode tenant", e -> e.put("tenant", "\u00e1cme"), "tenant", "bad_format");
    token("very long tenant", e -> e.put("tenant", "t".repeat(200)), "tenant", "bad_format");
    token("very long model", e -> e.put("model", "m".repeat(300)), "model", "bad_format");
    token("empty model", e -> e.put("model", ""), "model", "bad_format");
    token("negative latency", e -> e.put("latency_ms", -1), "latency_ms", "out_of_range");
    token("event id with spaces", e -> e.put("event_id", "a b"), "event_id", "bad_format");
    token("very long event id", e -> e.put("event_id", "x".repeat(200)), "event_id", "bad_format");
    token(
        "usage total mismatch",
        e -> {
          e.remove("input_tokens");
          e.remove("output_tokens");
          return e.put(
              "usage",
              new JsonObject()
                  .put("prompt_tokens", 1)
                  .put("completion_tokens", 2)
                  .put("total_tokens", 4));
        },
        "usage.total_tokens",
        "conflict");
    token("usage not an object", e -> e.put("usage", 12), "usage", "wrong_type");
    token(
        "conflicting alias",
        e -> e.put("gen_ai.usage.input_tokens", 999),
        "gen_ai.usage.input_tokens",
        "conflict");
    token("null tokens", e -> e.putNull("input_tokens"), "input_tokens", "wrong_type");
    token(
        "nested object as model",
        e -> e.put("model", new JsonObject().put("name", "m")),
        "model",
        "wrong_type");
    gpu(
        "utilisation over 100",
        e -> e.put("utilization_pct", 150),
        "utilization_pct",
        "out_of_range");
    gpu("zero memory total", e -> e.put("memory_total_mib", 0), "memory_total_mib", "out_of_range");
    gpu(
        "missing gpu_uuid",
        e -> {
          e.remove("gpu_uuid");
          return e;
        },
        "gpu_uuid",
        "missing_field");
    gpu(
        "temperature as a string",
        e -> e.put("temperature_c", "hot"),
        "temperature_c",
        "wrong_type");
    gpu("negative energy counter", e -> e.put("energy_mj", -5), "energy_mj", "out_of_range");
    gpu("null power", e -> e.putNull("power_w"), "power_w", "wrong_type");
    gpu("gpu uuid with a slash", e -> e.put("gpu_uuid", "GPU/1"), "gpu_uuid", "bad_format");
    String valid = Events.token("acme").encode();
    raw(
        "NaN",
        valid
            .replace("\"input_tokens\":100", "\"input_tokens\":NaN")
            .getBytes(StandardCharsets.UTF_8),
        400,
        "parse_error",
        "parse_error");
    raw(
        "Infinity",
        valid
            .replace("\"input_tokens\":100", "\"input_tokens\":Infinity")
            .getBytes(StandardCharsets.UTF_8),
        400,
        "parse_error",
        "parse_error");
    raw(
        "truncated JSON",
        valid.substring(0, valid.length() / 2).getBytes(StandardCharsets.UTF_8),
        400,
        "parse_error",
        "parse_error");
    raw(
        "invalid UTF-8",
        new byte[] {
          '{', '"', 't', 'e', 'n', 'a', 'n', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'
        },
        400,
        "parse_error",
        "parse_error");
    raw(
        "deeply nested JSON",
        ("[".repeat(200) + "]".repeat(200)).getBytes(StandardCharsets.UTF_8),
        400,
        "parse_error",
        "parse_error");
    raw(
        "duplicate keys",
        ("{\"tenant\":\"a\",\"tenant\":\"b\",\"ts\":\"" + now + "\"}")
            .getBytes(StandardCharsets.UTF_8),
        400,
        "duplicate_key",
        "duplicate_key");
    raw(
        "a JSON string",
        "\"hello\"".getBytes(StandardCharsets.UTF_8),
        400,
        "not_object",
        "not_object");
    raw("a JSON number", "42".getBytes(StandardCharsets.UTF_8), 400, "not_object", "not_object");
    raw("JSON null", "null".getBytes(StandardCharsets.UTF_8), 400, "not_object", "not_object");
    raw("empty array", "[]".getBytes(StandardCharsets.UTF_8), 400, "empty_body", "not_object");
    raw(
        "array of numbers",
        "[1,2]".getBytes(StandardCharsets.UTF_8),
        400,
        "not_object",
        "not_object");
    raw(
        "whitespace only",
        "   ".getBytes(StandardCharsets.UTF_8),
        400,
        "empty_body",
        "parse_error");
    raw("empty body", new byte[0], 400, "empty_body", "empty_record");
    CASES.add(
        new Case(
            "wrong content type",
            false,
            "text/plain",
            valid.getBytes(StandardCharsets.UTF_8),
            415,
            null,
            Set.of("unsupported_media_type"),
            null));
    JsonArray tooMany = new JsonArray();
    for (int i = 0; i < 10_001; i++) {
      tooMany.add(new JsonObject().put("i", i));
    }
    CASES.add(
        new Case(
            "10,001 events",
            false,
            JSON,
            tooMany.encode().getBytes(StandardCharsets.UTF_8),
            413,
            null,
            Set.of("too_many_events"),
            null));
  }

  @Test
  void everyBadInputGetsAPreciseAnswerOverHttpAndADlqReasonThroughKafka() throws Exception {
    assertTrue(CASES.size() >= 40, "corpus size " + CASES.size());
    try (RunningPipeline p = new RunningPipeline(Map.of())) {
      for (Case c : CASES) {
        HttpResponse<String> r =
            p.post(
                c.gpu() ? IngestRoutes.GPU_ROUTE : IngestRoutes.TOKEN_ROUTE,
                c.contentType(),
                c.body(),
                null);
        assertEquals(c.status(), r.statusCode(), c.name() + ": " + r.body());
        assertFalse(
            r.body().contains("Exception")
                || r.body().contains("\tat ")
                || r.body().contains("io.gputelemetry"),
            c.name() + " leaks internals: " + r.body());
        JsonObject body = new JsonObject(r.body());
        if (body.containsKey("errors")) {
          assertTrue(
              body.getJsonArray("errors").stream()
                  .map(JsonObject.class::cast)
                  .anyMatch(
                      e ->
                          (c.field() == null || c.field().equals(e.getString("field")))
                              && c.codes().contains(e.getString("code"))),
              c.name() + ": expected " + c.field() + " " + c.codes() + " in " + r.body());
        } else {
          assertTrue(c.codes().contains(body.getString("code")), c.name() + ": " + r.body());
        }
      }

      // The same bytes straight into Kafka: each one dead-lettered with its reason, valid ones
      // stored.
      Map<String, Case> bySource = new HashMap<>();
      List<JsonObject> valid = new ArrayList<>();
      try (KafkaProducer<String, byte[]> kafka =
          new KafkaProducer<>(
              Map.of("bootstrap.servers", TestKafka.bootstrapServers(), "acks", "all"),
              new StringSerializer(),
              new ByteArraySerializer())) {
        for (Case c : CASES) {
          if (c.kafkaReason() == null) {
            continue;
          }
          String topic =
              c.gpu()
                  ? p.config().kafka().topics().gpuMetrics()
                  : p.config().kafka().topics().tokenUsage();
          RecordMetadata md =
              kafka.send(new ProducerRecord<>(topic, "k", c.body())).get(10, TimeUnit.SECONDS);
          bySource.put(md.topic() + "/" + md.partition() + "/" + md.offset(), c);
          JsonObject ok = Events.token("acme");
          kafka
              .send(
                  new ProducerRecord<>(
                      p.config().kafka().topics().tokenUsage(),
                      "k",
                      ok.encode().getBytes(StandardCharsets.UTF_8)))
              .get(10, TimeUnit.SECONDS);
          valid.add(ok);
        }
      }
      Map<String, String> dlq = new HashMap<>();
      try (KafkaConsumer<String, byte[]> consumer =
          new KafkaConsumer<>(
              Map.of(
                  "bootstrap.servers",
                  TestKafka.bootstrapServers(),
                  "group.id",
                  "corpus-reader",
                  "auto.offset.reset",
                  "earliest"),
              new StringDeserializer(),
              new ByteArrayDeserializer())) {
        consumer.subscribe(List.of(p.config().kafka().topics().dlq()));
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> {
                  for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    dlq.put(
                        header(r, "dlq.source.topic")
                            + "/"
                            + header(r, "dlq.source.partition")
                            + "/"
                            + header(r, "dlq.source.offset"),
                        header(r, "dlq.reason"));
                  }
                  return dlq.size() >= bySource.size();
                });
      }
      bySource.forEach(
          (source, c) ->
              assertEquals(c.kafkaReason(), dlq.get(source), c.name() + " through Kafka"));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> p.store().count("token_usage") >= valid.size());
      assertEquals(
          valid.size(), p.store().count("token_usage"), "only the valid records are stored");
      assertEquals(0, p.store().count("gpu_metrics"));
    }
  }

  private static String header(ConsumerRecord<?, ?> r, String key) {
    var h = r.headers().lastHeader(key);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
