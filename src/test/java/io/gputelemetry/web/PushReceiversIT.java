package io.gputelemetry.web;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.RunningPipeline;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A LiteLLM-shaped client and CloudEvents clients post to the running producer; their events go
 * through the real broker into the store and appear in the usage API with the figures below.
 */
class PushReceiversIT {
  private static final String JSON = "application/json";
  private static final Path LITELLM = Path.of("src/test/resources/litellm");
  private static final Path OPENMETER = Path.of("src/test/resources/openmeter");

  /**
   * LiteLLM's GCS test payload, moved to {@code at} (epoch seconds) under another id and tenant.
   */
  private static JsonObject liteLlm(String id, String team, double at) throws Exception {
    JsonObject p =
        new JsonObject(Files.readString(LITELLM.resolve("gcs_bucket_mock_response_data.json")));
    p.put("id", id);
    p.getJsonObject("metadata").put("user_api_key_team_alias", team);
    p.put("startTime", at - 2.0).put("completionStartTime", at - 1.5).put("endTime", at);
    return p;
  }

  private static JsonObject promptEvent(String id, String subject, String type, Object tokens) {
    return new JsonObject()
        .put("specversion", "1.0")
        .put("type", "prompt")
        .put("id", id)
        .put("source", "my-app")
        .put("subject", subject)
        .put(
            "data",
            new JsonObject().put("tokens", tokens).put("model", "gpt-4o").put("type", type));
  }

  @Test
  void liteLlmAndCloudEventsClientsEndInTheUsageApi() throws Exception {
    try (RunningPipeline p =
        new RunningPipeline(
            Map.of(
                "sources.litellm.deployments",
                "https://exampleopenaiendpoint-production.up.railway.app=gpu-node-07"))) {
      Instant t0 = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(2, ChronoUnit.MINUTES);
      double at = t0.getEpochSecond() + 30.0;
      // LiteLLM's json_array format: two requests of team-a and one of team-b, and a failure
      JsonObject failed = liteLlm("req-failed", "team-a", at).put("status", "failure");
      JsonArray array =
          new JsonArray()
              .add(liteLlm("req-1", "team-a", at))
              .add(liteLlm("req-2", "team-a", at + 1))
              .add(failed);
      HttpResponse<String> r = post(p, IngestRoutes.LITELLM_ROUTE, JSON, array.encode());
      assertEquals(202, r.statusCode(), r.body());
      assertEquals(
          new JsonObject().put("accepted", 2).put("rejected", 0).put("skipped", 1),
          new JsonObject(r.body()));
      // ndjson format, posted as LiteLLM does with Content-Type application/json, and a retry
      String ndjson =
          liteLlm("req-3", "team-b", at + 2).encode()
              + "\n"
              + liteLlm("req-1", "team-a", at).encode()
              + "\n";
      r = post(p, IngestRoutes.LITELLM_ROUTE, JSON, ndjson);
      assertEquals(202, r.statusCode(), r.body());
      assertEquals(2, new JsonObject(r.body()).getInteger("accepted"));
      // CloudEvents: a batch, one event, and OpenMeter's JavaScript client's plain JSON array
      // (with a canonical event beside it), the counts as numbers and as strings
      String time = t0.plusSeconds(40).toString();
      JsonArray batch =
          new JsonArray()
              .add(promptEvent("ce-1", "customer-1", "input", 100).put("time", time))
              .add(promptEvent("ce-2", "customer-1", "output", "15").put("time", time));
      r = post(p, IngestRoutes.TOKEN_ROUTE, "application/cloudevents-batch+json", batch.encode());
      assertEquals(202, r.statusCode(), r.body());
      r =
          post(
              p,
              IngestRoutes.TOKEN_ROUTE,
              "application/cloudevents+json",
              promptEvent("ce-3", "customer-1", "input", "7").put("time", time).encode());
      assertEquals(202, r.statusCode(), r.body());
      JsonObject canonical =
          new JsonObject()
              .put("event_id", "plain-1")
              .put("ts", time)
              .put("tenant", "customer-2")
              .put("model", "gpt-4o")
              .put("input_tokens", 3)
              .put("output_tokens", 4);
      JsonArray mixed =
          new JsonArray()
              .add(promptEvent("ce-4", "customer-2", "output", 20).put("time", time))
              .add(canonical);
      r = post(p, IngestRoutes.TOKEN_ROUTE, JSON, mixed.encode());
      assertEquals(202, r.statusCode(), r.body());
      // resent: stored once (same source and id, same event id)
      r = post(p, IngestRoutes.TOKEN_ROUTE, "application/cloudevents-batch+json", batch.encode());
      assertEquals(202, r.statusCode(), r.body());

      await().atMost(Duration.ofSeconds(30)).until(() -> p.store().count("token_usage") == 8);
      JsonObject req1 =
          p.store().find("token_usage", new JsonObject().put("event_id", "req-1")).get(0);
      assertEquals("team-a/req-1", req1.getString("_id"));
      assertEquals(2000.0, req1.getDouble("latency_ms"), 1e-6);
      assertEquals(500.0, req1.getDouble("ttft_ms"), 1e-6);
      assertEquals(3.7500000000000003e-05, req1.getDouble("reported_cost_usd"));
      assertEquals("gpu-node-07", req1.getString("node"));

      HttpResponse<String> u =
          p.get(
              p.processorUrl()
                  + "/api/v1/usage?from="
                  + t0
                  + "&to="
                  + t0.plusSeconds(60)
                  + "&groupBy=tenant");
      assertEquals(200, u.statusCode(), u.body());
      JsonObject usage = new JsonObject(u.body());
      // team-a: req-1 and req-2, 9 prompt + 12 completion tokens each
      assertGroup(usage, "team-a", 18, 24, 2);
      assertGroup(usage, "team-b", 9, 12, 1);
      // customer-1: 100 + 7 input (ce-1, ce-3), 15 output (ce-2): three CloudEvents, three requests
      assertGroup(usage, "customer-1", 107, 15, 3);
      assertGroup(usage, "customer-2", 3, 24, 2);
    }
  }

  @Test
  void badInputGetsPreciseAnswersAndCostsNoValidEvent() throws Exception {
    try (RunningPipeline p =
        new RunningPipeline(
            Map.of("ingest.max-body-bytes", "65536", "sources.litellm.default-tenant", "gw"))) {
      double now = Instant.now().getEpochSecond();
      // wrong content types
      HttpResponse<String> r = post(p, IngestRoutes.LITELLM_ROUTE, "text/plain", "{}");
      assertEquals(415, r.statusCode());
      assertTrue(r.body().contains("application/json or application/x-ndjson"), r.body());
      r = post(p, IngestRoutes.GPU_ROUTE, "application/cloudevents+json", "{}");
      assertEquals(415, r.statusCode(), "CloudEvents are token usage only");
      // malformed JSON: each NDJSON line its own verdict, the valid one kept
      String body = liteLlm("ok-1", "team-a", now).encode() + "\n{\"id\": \n";
      r = post(p, IngestRoutes.LITELLM_ROUTE, JSON, body);
      assertEquals(207, r.statusCode(), r.body());
      JsonObject error = new JsonObject(r.body()).getJsonArray("errors").getJsonObject(0);
      assertEquals(1, error.getInteger("index"));
      assertEquals("parse_error", error.getString("code"));
      // absurd token counts and bad times, named by the LiteLLM field
      JsonArray bad =
          new JsonArray()
              .add(liteLlm("bad-1", "team-a", now).put("prompt_tokens", 5_000_000_000L))
              .add(liteLlm("bad-2", "team-a", now).put("startTime", now + 60))
              .add(liteLlm("bad-3", "team a", now));
      r = post(p, IngestRoutes.LITELLM_ROUTE, JSON, bad.encode());
      assertEquals(400, r.statusCode(), r.body());
      List<String> fields =
          new JsonObject(r.body())
              .getJsonArray("errors").stream()
                  .map(o -> ((JsonObject) o).getString("field"))
                  .toList();
      assertEquals(
          List.of("prompt_tokens", "startTime", "metadata.user_api_key_team_alias"), fields);
      // CloudEvents: the OpenMeter README's request event has no token counts
      r =
          post(
              p,
              IngestRoutes.TOKEN_ROUTE,
              "application/cloudevents+json",
              Files.readString(OPENMETER.resolve("readme-curl-request.json")));
      assertEquals(400, r.statusCode(), r.body());
      JsonObject e = new JsonObject(r.body()).getJsonArray("errors").getJsonObject(0);
      assertEquals("data.tokens", e.getString("field"));
      // a batch type with one object, a single type with an array
      r = post(p, IngestRoutes.TOKEN_ROUTE, "application/cloudevents-batch+json", "{}");
      assertEquals(400, r.statusCode());
      assertTrue(r.body().contains("carries a JSON array of CloudEvents"), r.body());
      r = post(p, IngestRoutes.TOKEN_ROUTE, "application/cloudevents+json", "[]");
      assertEquals(400, r.statusCode());
      r = post(p, IngestRoutes.TOKEN_ROUTE, "application/cloudevents+json", "{\"specversion\":");
      assertEquals(400, r.statusCode());
      assertEquals("parse_error", new JsonObject(r.body()).getString("code"));
      // absurd counts as strings
      r =
          post(
              p,
              IngestRoutes.TOKEN_ROUTE,
              "application/cloudevents+json",
              promptEvent("x", "acme", "input", "999999999999").encode());
      assertEquals(400, r.statusCode());
      e = new JsonObject(r.body()).getJsonArray("errors").getJsonObject(0);
      assertEquals("data.tokens", e.getString("field"));
      assertEquals("out_of_range", e.getString("code"));
      // oversized
      r = post(p, IngestRoutes.LITELLM_ROUTE, JSON, "[" + " ".repeat(70_000) + "]");
      assertEquals(413, r.statusCode());
      // only the one valid event was stored
      await().atMost(Duration.ofSeconds(30)).until(() -> p.store().count("token_usage") == 1);
      assertEquals(
          "team-a/ok-1", p.store().find("token_usage", new JsonObject()).get(0).getString("_id"));
    }
  }

  private static void assertGroup(JsonObject usage, String key, long in, long out, long requests) {
    JsonObject g =
        usage.getJsonArray("groups").stream()
            .map(JsonObject.class::cast)
            .filter(o -> key.equals(o.getString("key")))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no group " + key + " in " + usage.encode()));
    assertEquals(in, g.getLong("input_tokens"), key);
    assertEquals(out, g.getLong("output_tokens"), key);
    assertEquals(requests, g.getLong("requests"), key);
  }

  private static HttpResponse<String> post(
      RunningPipeline p, String route, String type, String body) throws Exception {
    return p.post(route, type, body.getBytes(StandardCharsets.UTF_8), null);
  }
}
