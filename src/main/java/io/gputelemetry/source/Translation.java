package io.gputelemetry.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.event.Violation;
import java.util.Map;

/**
 * What one pushed payload (a LiteLLM callback, a CloudEvent) became: a token-usage body in our
 * field names, to be validated like any other event; or the reason it could not be; or nothing,
 * when the payload is not usage (a failed request). {@code fields} names, for each of our fields it
 * set, the sender's field it came from, so that a rejection names the field the sender wrote.
 */
public record Translation(
    ObjectNode body, Violation violation, String skipped, Map<String, String> fields) {

  public static Translation of(ObjectNode body, Map<String, String> fields) {
    return new Translation(body, null, null, Map.copyOf(fields));
  }

  public static Translation rejected(String field, String reason, String code) {
    return new Translation(null, new Violation(field, reason, code), null, Map.of());
  }

  public static Translation skipped(String why) {
    return new Translation(null, null, why, Map.of());
  }

  /** The value at a dotted path ({@code metadata.user_api_key_team_id}), or null. */
  public static JsonNode at(JsonNode root, String path) {
    JsonNode n = root;
    for (String part : path.split("\\.", -1)) {
      n = n == null || !n.isObject() ? null : n.get(part);
    }
    return n == null || n.isNull() || n.isMissingNode() ? null : n;
  }

  /** A violation of the canonical event, named by the sender's field it came from. */
  public Violation renamed(Violation v) {
    String from = fields.get(v.field());
    return from == null ? v : new Violation(from, v.reason(), v.code());
  }
}
