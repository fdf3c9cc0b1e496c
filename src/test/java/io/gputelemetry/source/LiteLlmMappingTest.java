package io.gputelemetry.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.config.Settings;
import io.gputelemetry.event.EventParser;
import io.gputelemetry.event.EventType;
import io.gputelemetry.event.ParseResult;
import io.gputelemetry.event.Violation;
import io.gputelemetry.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** LiteLLM's own payloads (src/test/resources/litellm, see the README there) to token events. */
class LiteLlmMappingTest {
  static final Path FIXTURES = Path.of("src/test/resources/litellm");

  static AppConfig.LiteLlm config(Map<String, String> settings) {
    return AppConfig.from(Settings.defaults().with(settings)).liteLlm();
  }

  static ObjectNode fixture(String name) throws Exception {
    return (ObjectNode) Json.MAPPER.readTree(Files.readAllBytes(FIXTURES.resolve(name)));
  }

  /** Our full check of a translated payload, as the route does it, at {@code now}. */
  static ParseResult validate(Translation t, Instant now) {
    ParseResult pr =
        new EventParser(Duration.ofMinutes(5), Duration.ofDays(7))
            .parse(EventType.TOKEN_USAGE, t.body(), now, null);
    return pr.ok() ? pr : ParseResult.rejected(pr.violations().stream().map(t::renamed).toList());
  }

  @Test
  void thePubSubTestPayloadWithNaiveDateTimesGivesLatencyTtftCostAndTheDefaultTenant()
      throws Exception {
    Translation t =
        new LiteLlmMapping(config(Map.of("sources.litellm.default-tenant", "gateway")))
            .map(fixture("standard_logging_payload.json"));
    ParseResult pr = validate(t, Instant.parse("2025-01-24T09:21:00Z"));
    assertTrue(pr.ok(), pr.violations().toString());
    JsonNode e = pr.event().body();
    assertEquals("chatcmpl-2299b6a2-82a3-465a-b47c-04e685a2227f", e.get("event_id").asText());
    // endTime 2025-01-24 09:20:46.851954, naive, in UTC (the default zone)
    assertEquals("2025-01-24T09:20:46.851954Z", e.get("ts").asText());
    assertEquals("gpt-4o", e.get("model").asText());
    assertEquals("openai", e.get("provider").asText());
    assertEquals(10, e.get("input_tokens").asLong());
    assertEquals(20, e.get("output_tokens").asLong());
    // 46.851954 s - 46.847371 s = 4.583 ms, and the first token came with the end
    assertEquals(4.583, e.get("latency_ms").asDouble(), 1e-9);
    assertEquals(4.583, e.get("ttft_ms").asDouble(), 1e-9);
    assertEquals(0.00022500000000000002, e.get("reported_cost_usd").asDouble());
    // every tenant field is null or "": the configured default
    assertEquals("gateway", e.get("tenant").asText());
    // api_base is "": no deployment
    assertNull(e.get("node"));
    assertNull(e.get("gpu_uuid"));
  }

  @Test
  void naiveDateTimesAreReadInTheConfiguredZone() throws Exception {
    Translation t =
        new LiteLlmMapping(
                config(
                    Map.of(
                        "sources.litellm.default-tenant", "gateway",
                        "sources.litellm.naive-timezone", "Europe/Paris")))
            .map(fixture("standard_logging_payload.json"));
    // 09:20:46 in Paris in January (UTC+1) is 08:20:46 UTC
    assertEquals("2025-01-24T08:20:46.851954Z", t.body().get("ts").asText());
  }

  @Test
  void aPayloadWithoutAnyTenantFieldAndNoDefaultIsRejectedNamingTheFirstField() throws Exception {
    Translation t =
        new LiteLlmMapping(config(Map.of())).map(fixture("standard_logging_payload.json"));
    assertNull(t.body());
    assertEquals("metadata.user_api_key_team_alias", t.violation().field());
    assertEquals("missing_field", t.violation().code());
    assertTrue(
        t.violation().reason().contains("metadata.user_api_key_hash"), t.violation().reason());
  }

  @Test
  void theGcsTestPayloadWithFloatEpochsGivesTheKeyHashAsTenantAndItsDeployment() throws Exception {
    Translation t =
        new LiteLlmMapping(
                config(
                    Map.of(
                        "sources.litellm.deployments",
                        "https://exampleopenaiendpoint-production.up.railway.app/=gpu-node-07/GPU-7")))
            .map(fixture("gcs_bucket_mock_response_data.json"));
    ParseResult pr = validate(t, Instant.parse("2025-02-11T01:00:00Z"));
    assertTrue(pr.ok(), pr.violations().toString());
    JsonNode e = pr.event().body();
    // endTime 1739235379.84533 s since the epoch
    assertEquals("2025-02-11T00:56:19.845330Z", e.get("ts").asText());
    // team alias, team id, end_user ("") and end user id are unset: the key's hash
    assertEquals("sk-test-mock-api-key-123", e.get("tenant").asText());
    assertEquals("my-fake-model", e.get("model").asText());
    assertEquals(9, e.get("input_tokens").asLong());
    assertEquals(12, e.get("output_tokens").asLong());
    // 0.84533 - 0.683053 = 0.162277 s
    assertEquals(162.277, e.get("latency_ms").asDouble(), 1e-9);
    assertEquals(162.277, e.get("ttft_ms").asDouble(), 1e-9);
    assertEquals(3.7500000000000003e-05, e.get("reported_cost_usd").asDouble());
    // api_base without the configured trailing slash still finds the deployment
    assertEquals("gpu-node-07", e.get("node").asText());
    assertEquals("GPU-7", e.get("gpu_uuid").asText());
  }

  @Test
  void theTenantPrecedenceIsConfigurable() throws Exception {
    ObjectNode p = fixture("gcs_bucket_mock_response_data.json");
    ((ObjectNode) p.get("metadata")).put("user_api_key_team_id", "team-7");
    assertEquals(
        "team-7", new LiteLlmMapping(config(Map.of())).map(p).body().get("tenant").asText());
    assertEquals(
        "default_user_id",
        new LiteLlmMapping(
                config(
                    Map.of(
                        "sources.litellm.tenant-from",
                        "metadata.user_api_key_user_id,metadata.user_api_key_team_id")))
            .map(p)
            .body()
            .get("tenant")
            .asText());
  }

  @Test
  void aFailedRequestIsSkippedNotCounted() throws Exception {
    ObjectNode p = fixture("gcs_bucket_mock_response_data.json");
    p.put("status", "failure");
    Translation t = new LiteLlmMapping(config(Map.of())).map(p);
    assertNull(t.body());
    assertNull(t.violation());
    assertTrue(t.skipped().contains("failure"));
  }

  @Test
  void badTimesAndCountsAreNamedByTheirLiteLlmField() throws Exception {
    LiteLlmMapping m = new LiteLlmMapping(config(Map.of()));
    Instant now = Instant.parse("2025-02-11T01:00:00Z");
    ObjectNode late = fixture("gcs_bucket_mock_response_data.json");
    late.put("startTime", 1739235380.0);
    assertViolation("startTime", "conflict", m.map(late), now);
    ObjectNode words = fixture("gcs_bucket_mock_response_data.json");
    words.put("endTime", "yesterday");
    assertViolation("endTime", "bad_format", m.map(words), now);
    ObjectNode negative = fixture("gcs_bucket_mock_response_data.json");
    negative.put("endTime", -5);
    assertViolation("endTime", "bad_format", m.map(negative), now);
    ObjectNode none = fixture("gcs_bucket_mock_response_data.json");
    none.remove("endTime");
    assertViolation("endTime", "missing_field", m.map(none), now);
    ObjectNode absurd = fixture("gcs_bucket_mock_response_data.json");
    absurd.put("prompt_tokens", 1_000_000_000_000L);
    assertViolation("prompt_tokens", "out_of_range", m.map(absurd), now);
    ObjectNode text = fixture("gcs_bucket_mock_response_data.json");
    text.put("completion_tokens", "twelve");
    assertViolation("completion_tokens", "wrong_type", m.map(text), now);
    ObjectNode noModel = fixture("gcs_bucket_mock_response_data.json");
    noModel.remove("model");
    assertViolation("model", "missing_field", m.map(noModel), now);
    ObjectNode cost = fixture("gcs_bucket_mock_response_data.json");
    cost.put("response_cost", -1);
    assertViolation("response_cost", "out_of_range", m.map(cost), now);
    assertEquals("not_object", m.map(Json.MAPPER.readTree("[1]")).violation().code());
  }

  private static void assertViolation(String field, String code, Translation t, Instant now) {
    Violation v = t.violation();
    if (v == null) {
      ParseResult pr = validate(t, now);
      assertFalse(pr.ok(), "accepted: " + t.body());
      v = pr.violations().get(0);
    }
    assertEquals(field, v.field(), v.toString());
    assertEquals(code, v.code(), v.toString());
  }
}
