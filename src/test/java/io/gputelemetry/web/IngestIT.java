package io.gputelemetry.web;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.Events;
import io.gputelemetry.support.RunningPipeline;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IngestIT {
  private static final String JSON = "application/json";

  @Test
  void mixedBatchStoresExactlyTheValidEventsOnceEvenWhenPostedTwice() throws Exception {
    try (RunningPipeline p = new RunningPipeline(Map.of())) {
      JsonObject idless = Events.token("acme");
      idless.remove("event_id");
      JsonArray batch =
          new JsonArray()
              .add(Events.token("acme"))
              .add(Events.token("globex").put("input_tokens", "many"))
              .add(idless)
              .add(Events.token("acme").put("colour", "blue"))
              .add(Events.token("initech"));
      for (int attempt = 0; attempt < 2; attempt++) {
        HttpResponse<String> r =
            p.post(
                IngestRoutes.TOKEN_ROUTE,
                JSON,
                batch.encode().getBytes(StandardCharsets.UTF_8),
                null);
        assertEquals(207, r.statusCode(), r.body());
        JsonObject body = new JsonObject(r.body());
        assertEquals(3, body.getInteger("accepted"));
        assertEquals(2, body.getInteger("rejected"));
        JsonArray errors = body.getJsonArray("errors");
        assertTrue(
            errors.stream()
                .map(JsonObject.class::cast)
                .anyMatch(
                    e -> e.getInteger("index") == 1 && e.getString("field").equals("input_tokens")),
            r.body());
        assertTrue(
            errors.stream()
                .map(JsonObject.class::cast)
                .anyMatch(
                    e ->
                        e.getInteger("index") == 3
                            && e.getString("field").equals("colour")
                            && e.getString("code").equals("unknown_field")),
            r.body());
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> p.processor().processor().stats().duplicates.get() >= 3);
      List<JsonObject> stored = p.store().find("token_usage", new JsonObject());
      assertEquals(3, stored.size(), "the three valid events, once each");
      assertEquals(
          0, p.processor().processor().stats().dlq.get(), "invalid events never reach Kafka");
    }
  }

  @Test
  void apiKeysAreRequiredAndABoundKeyOverridesTheTenant() throws Exception {
    String unbound = "unbound-key-0123456789";
    String bound = "bound-key-0123456789";
    try (RunningPipeline p =
        new RunningPipeline(Map.of("ingest.api-keys", unbound + "," + bound + ":tenant-b"))) {
      byte[] event = Events.token("acme").encode().getBytes(StandardCharsets.UTF_8);
      HttpResponse<String> none = p.post(IngestRoutes.TOKEN_ROUTE, JSON, event, null);
      assertEquals(401, none.statusCode());
      assertEquals("unauthorized", new JsonObject(none.body()).getString("code"));
      assertEquals(
          401, p.post(IngestRoutes.TOKEN_ROUTE, JSON, event, "wrong-key-0123456789").statusCode());
      assertEquals(202, p.post(IngestRoutes.TOKEN_ROUTE, JSON, event, unbound).statusCode());
      JsonObject other = Events.token("acme");
      assertEquals(
          202,
          p.post(
                  IngestRoutes.TOKEN_ROUTE,
                  JSON,
                  other.encode().getBytes(StandardCharsets.UTF_8),
                  bound)
              .statusCode());
      await().atMost(Duration.ofSeconds(30)).until(() -> p.store().count("token_usage") == 2);
      JsonObject overridden =
          p.store()
              .find("token_usage", new JsonObject().put("event_id", other.getString("event_id")))
              .get(0);
      assertEquals("tenant-b", overridden.getString("tenant"));
      assertEquals("tenant-b/" + other.getString("event_id"), overridden.getString("_id"));
    }
  }

  @Test
  void limitsAndBackPressureAnswerPreciseErrors() throws Exception {
    try (RunningPipeline p =
        new RunningPipeline(
            Map.of(
                "ingest.max-events",
                "5",
                "ingest.max-body-bytes",
                "4096",
                "ingest.max-pending",
                "3",
                "ingest.retry-after",
                "2s"))) {
      JsonArray six = new JsonArray();
      for (int i = 0; i < 6; i++) {
        six.add(Events.sample("GPU-" + i));
      }
      HttpResponse<String> tooMany =
          p.post(IngestRoutes.GPU_ROUTE, JSON, six.encode().getBytes(StandardCharsets.UTF_8), null);
      assertEquals(413, tooMany.statusCode());
      assertEquals("too_many_events", new JsonObject(tooMany.body()).getString("code"));

      byte[] big = ("[" + "{\"a\":\"" + "x".repeat(5000) + "\"}]").getBytes(StandardCharsets.UTF_8);
      HttpResponse<String> tooBig = p.post(IngestRoutes.GPU_ROUTE, JSON, big, null);
      assertEquals(413, tooBig.statusCode());
      assertEquals("too_large", new JsonObject(tooBig.body()).getString("code"));

      JsonArray four = new JsonArray();
      for (int i = 0; i < 4; i++) {
        four.add(Events.sample("GPU-" + i));
      }
      HttpResponse<String> busy =
          p.post(
              IngestRoutes.GPU_ROUTE, JSON, four.encode().getBytes(StandardCharsets.UTF_8), null);
      assertEquals(503, busy.statusCode(), "more events than may await Kafka");
      assertEquals("2", busy.headers().firstValue("Retry-After").orElse(null));
      // A counter series shows 0 on the first scrape that sees it: Prometheus counts the increment
      // from the next.
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  p.get(p.baseUrl() + "/metrics")
                      .body()
                      .contains(
                          "telemetry_ingest_backpressure_total{route=\"/v1/gpu-metrics\"} 1.0"));
    }
  }
}
