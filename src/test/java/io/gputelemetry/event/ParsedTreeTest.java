package io.gputelemetry.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.gputelemetry.json.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * An event handed over already parsed (a tree, as the batch and OTLP receivers do) gets the verdict
 * and id its bytes get, whether the fast path takes it or leaves it to the full path.
 */
class ParsedTreeTest {
  private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
  private final EventParser parser = new EventParser(Duration.ofMinutes(5), Duration.ofDays(7));

  @Test
  void aTreeGetsTheVerdictAndIdOfItsBytesOnEitherPath() throws Exception {
    String canonical = FastPathEquivalenceTest.TOKEN;
    // Without event_id the fast path declines: the full path derives the id.
    String idLess = canonical.replace("\"event_id\":\"req-1\",", "");
    for (String json : new String[] {canonical, idLess}) {
      JsonNode tree = Json.MAPPER.readTree(json);
      ParseResult viaTree = parser.parse(EventType.TOKEN_USAGE, tree, NOW, null);
      ParseResult viaBytes =
          parser.parse(EventType.TOKEN_USAGE, json.getBytes(StandardCharsets.UTF_8), NOW, null);
      assertTrue(viaTree.ok(), json + ": " + viaTree.violations());
      assertNotNull(viaTree.event().eventId(), json);
      assertEquals(viaBytes.event().eventId(), viaTree.event().eventId(), json);
    }
  }
}
