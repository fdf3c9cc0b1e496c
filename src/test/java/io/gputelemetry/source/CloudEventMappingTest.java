package io.gputelemetry.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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

/** OpenMeter's CloudEvents (src/test/resources/openmeter, see the README there) to token events. */
class CloudEventMappingTest {
  static final Path FIXTURES = Path.of("src/test/resources/openmeter");
  static final Instant RECEIVED = Instant.parse("2026-11-28T12:00:00.250Z");

  static CloudEventMapping mapping(Map<String, String> settings) {
    AppConfig.CloudEvents c = AppConfig.from(Settings.defaults().with(settings)).cloudEvents();
    return new CloudEventMapping(c);
  }

  static ObjectNode fixture(String name) throws Exception {
    return (ObjectNode) Json.MAPPER.readTree(Files.readAllBytes(FIXTURES.resolve(name)));
  }

  static ObjectNode json(String s) throws Exception {
    return (ObjectNode) Json.MAPPER.readTree(s);
  }

  static ParseResult validate(Translation t, Instant now) {
    if (t.violation() != null) {
      return ParseResult.rejected(t.violation());
    }
    ParseResult pr =
        new EventParser(Duration.ofMinutes(5), Duration.ofDays(7))
            .parse(EventType.TOKEN_USAGE, t.body(), now, null);
    return pr.ok() ? pr : ParseResult.rejected(pr.violations().stream().map(t::renamed).toList());
  }

  @Test
  void theDocsEventWithItsNumberAsAStringMapsByConfiguration() throws Exception {
    // OpenMeter's docs/event-ingestion.md example: data {"duration": "12", "path": "/hello"}
    Translation t =
        mapping(
                Map.of(
                    "sources.cloudevents.input-tokens-field", "duration",
                    "sources.cloudevents.model-field", "path"))
            .map(fixture("event-ingestion-api-calls.json"), RECEIVED);
    ParseResult pr = validate(t, Instant.parse("2023-01-01T00:01:00Z"));
    assertTrue(pr.ok(), pr.violations().toString());
    JsonNode e = pr.event().body();
    assertEquals("ce-896e60128dd6eb765e2682e639ed2209", e.get("event_id").asText());
    assertEquals("2023-01-01T00:00:00.001Z", e.get("ts").asText());
    assertEquals("customer-1", e.get("tenant").asText());
    assertEquals("/hello", e.get("model").asText());
    assertEquals(12, e.get("input_tokens").asLong());
    assertTrue(e.get("input_tokens").isIntegralNumber(), "the string became a number");
    assertEquals(0, e.get("output_tokens").asLong());
  }

  @Test
  void eventsWithoutTokenCountsAreRejectedNamingTheDataField() throws Exception {
    CloudEventMapping m = mapping(Map.of());
    for (String f : new String[] {"event-ingestion-api-calls.json", "readme-curl-request.json"}) {
      Violation v = m.map(fixture(f), RECEIVED).violation();
      assertEquals("data.tokens", v.field(), f);
      assertEquals("missing_field", v.code(), f);
    }
  }

  @Test
  void anOpenMeterPromptEventWithoutTimeTakesTheReceiveTime() throws Exception {
    // The shape of OpenMeter's LLM token examples (Python client README, prompt-tokens seed)
    ObjectNode ce =
        json(
            "{\"id\":\"prompt-1\",\"source\":\"my-app\",\"specversion\":\"1.0\",\"type\":\"prompt\","
                + "\"subject\":\"customer-1\",\"data\":{\"tokens\":100,\"model\":\"gpt-4o\","
                + "\"type\":\"input\"}}");
    ParseResult pr = validate(mapping(Map.of()).map(ce, RECEIVED), RECEIVED);
    assertTrue(pr.ok(), pr.violations().toString());
    JsonNode e = pr.event().body();
    assertEquals("ce-e3074ef5104c18d1c02aeb2e4b5dfc93", e.get("event_id").asText());
    assertEquals("2026-11-28T12:00:00.250Z", e.get("ts").asText());
    assertEquals(100, e.get("input_tokens").asLong());
    assertEquals(0, e.get("output_tokens").asLong());
    assertEquals("gpt-4o", e.get("model").asText());
    // Go client README: "tokens": "15" as a string; here an output event
    ObjectNode out = ce.deepCopy();
    ((ObjectNode) out.get("data")).put("tokens", "15").put("type", "output");
    JsonNode o = validate(mapping(Map.of()).map(out, RECEIVED), RECEIVED).event().body();
    assertEquals(0, o.get("input_tokens").asLong());
    assertEquals(15, o.get("output_tokens").asLong());
    assertEquals(e.get("event_id"), o.get("event_id"), "same source and id: same event");
    out.put("source", "other-app");
    assertNotEquals(e.get("event_id"), mapping(Map.of()).map(out, RECEIVED).body().get("event_id"));
    ObjectNode both = ce.deepCopy();
    ((ObjectNode) both.get("data"))
        .removeAll()
        .put("model", "m")
        .put("input_tokens", "7")
        .put("output_tokens", 9);
    JsonNode b = validate(mapping(Map.of()).map(both, RECEIVED), RECEIVED).event().body();
    assertEquals(7, b.get("input_tokens").asLong());
    assertEquals(9, b.get("output_tokens").asLong());
  }

  @Test
  void badEventsAreNamedByTheirCloudEventsField() throws Exception {
    String ok =
        "{\"id\":\"1\",\"source\":\"s\",\"specversion\":\"1.0\",\"type\":\"prompt\","
            + "\"subject\":\"acme\",\"data\":{\"tokens\":5,\"model\":\"m\",\"type\":\"input\"}}";
    assertRejected("specversion", "bad_format", json(ok).put("specversion", "0.3"));
    assertRejected("source", "missing_field", (ObjectNode) json(ok).without("source"));
    assertRejected("id", "missing_field", json(ok).put("id", ""));
    assertRejected("type", "missing_field", (ObjectNode) json(ok).without("type"));
    assertRejected("datacontenttype", "bad_format", json(ok).put("datacontenttype", "text/xml"));
    assertRejected("data", "missing_field", (ObjectNode) json(ok).without("data"));
    assertRejected("data", "wrong_type", json(ok).put("data", "five"));
    ObjectNode cached = json(ok);
    ((ObjectNode) cached.get("data")).put("type", "cached");
    assertRejected("data.type", "bad_format", cached);
    ObjectNode exp = json(ok);
    ((ObjectNode) exp.get("data")).put("tokens", "1e3");
    assertRejected("data.tokens", "wrong_type", exp);
    ObjectNode absurd = json(ok);
    ((ObjectNode) absurd.get("data")).put("tokens", 1_000_000_000_000L);
    assertRejected("data.tokens", "out_of_range", absurd);
    ObjectNode noModel = json(ok);
    ((ObjectNode) noModel.get("data")).remove("model");
    assertRejected("data.model", "missing_field", noModel);
    assertRejected("subject", "bad_format", json(ok).put("subject", "two words"));
    assertRejected("subject", "missing_field", (ObjectNode) json(ok).without("subject"));
    assertRejected("time", "bad_format", json(ok).put("time", "yesterday"));
    assertFalse(CloudEventMapping.isCloudEvent(json("{\"tenant\":\"acme\"}")));
  }

  private static void assertRejected(String field, String code, ObjectNode ce) {
    ParseResult pr = validate(mapping(Map.of()).map(ce, RECEIVED), RECEIVED);
    assertFalse(pr.ok(), ce.toString());
    Violation v = pr.violations().get(0);
    assertEquals(field, v.field(), v.toString());
    assertEquals(code, v.code(), v.toString());
  }
}
