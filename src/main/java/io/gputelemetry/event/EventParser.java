package io.gputelemetry.event;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.gputelemetry.json.Json;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The one place events are parsed, mapped to canonical names, validated against their JSON Schema,
 * bounded in time and given an id. Used by the HTTP ingest and by the processor alike.
 */
public final class EventParser {

  private static final Map<String, String> TOKEN_ALIASES =
      Map.of(
          "gen_ai.usage.input_tokens", "input_tokens",
          "gen_ai.usage.output_tokens", "output_tokens",
          "gen_ai.provider.name", "provider",
          "gen_ai.system", "provider",
          "gen_ai.response.model", "model",
          "gen_ai.request.model", "model");

  private final Map<EventType, JsonSchema> schemas = new EnumMap<>(EventType.class);
  private final Duration maxFutureSkew;
  private final Duration maxAge;
  private final FastPath fast;

  public EventParser(Duration maxFutureSkew, Duration maxAge) {
    this.maxFutureSkew = maxFutureSkew;
    this.maxAge = maxAge;
    this.fast = new FastPath(maxFutureSkew, maxAge);
    JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
    SchemaValidatorsConfig cfg =
        SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
    for (EventType t : EventType.values()) {
      schemas.put(t, factory.getSchema(Schemas.of(t), cfg));
    }
  }

  /** Parses raw bytes (one JSON object). */
  public ParseResult parse(EventType type, byte[] bytes, Instant now, String tenantOverride) {
    Event e = fast.read(type, bytes, now, tenantOverride);
    return e != null
        ? ParseResult.ok(e)
        : parseFully(type, bytes, 0, bytes.length, now, tenantOverride);
  }

  /**
   * Parses one event from a slice of a request body (an element of an array, a line of NDJSON). An
   * accepted event that was already canonical is published as received, without serialising it
   * again.
   */
  public ParseResult parse(
      EventType type, byte[] buf, int off, int len, Instant now, String tenantOverride) {
    Event e = fast.read(type, buf, off, len, now, tenantOverride, true);
    return e != null ? ParseResult.ok(e) : parseFully(type, buf, off, len, now, tenantOverride);
  }

  /** The full path only: schema validation of the whole tree, whatever the event looks like. */
  ParseResult parseFully(
      EventType type, byte[] buf, int off, int len, Instant now, String tenantOverride) {
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(buf, off, len);
    } catch (IOException e) {
      return ParseResult.rejected(jsonError(e));
    }
    if (node == null || node.isMissingNode()) {
      return ParseResult.rejected(new Violation("", "empty event", "parse_error"));
    }
    return parseFully(type, node, now, tenantOverride);
  }

  /**
   * Canonicalises and validates one parsed event. {@code now} is the reference for the time bounds
   * (the processor passes the Kafka record's timestamp, so a replay does not reject what ingest
   * accepted). An accepted object in canonical form becomes the event's body itself (ts normalised
   * in place).
   */
  public ParseResult parse(EventType type, JsonNode node, Instant now, String tenantOverride) {
    if (node instanceof ObjectNode o) {
      Event e = fast.read(type, o, now, tenantOverride);
      if (e != null) {
        return ParseResult.ok(e);
      }
    }
    return parseFully(type, node, now, tenantOverride);
  }

  /** The full path only, on a parsed tree (which it does not modify). */
  ParseResult parseFully(EventType type, JsonNode node, Instant now, String tenantOverride) {
    if (!node.isObject()) {
      return ParseResult.rejected(
          new Violation("", "expected a JSON object, got " + kind(node), "not_object"));
    }
    ObjectNode body = node.deepCopy();
    List<Violation> violations = new ArrayList<>();
    if (type == EventType.TOKEN_USAGE) {
      mapTokenAliases(body, violations);
      if (tenantOverride != null) {
        body.put("tenant", tenantOverride);
      }
    }
    if (!violations.isEmpty()) {
      return ParseResult.rejected(violations);
    }
    Set<ValidationMessage> messages = schemas.get(type).validate(body);
    for (ValidationMessage m : messages) {
      violations.add(toViolation(m));
    }
    if (!violations.isEmpty()) {
      violations.sort((a, b) -> a.field().compareTo(b.field()));
      return ParseResult.rejected(violations);
    }
    Instant ts;
    try {
      ts = OffsetDateTime.parse(body.get("ts").asText()).toInstant();
    } catch (DateTimeParseException e) {
      return ParseResult.rejected(new Violation("ts", "not an RFC 3339 date-time", "bad_format"));
    }
    if (ts.isAfter(now.plus(maxFutureSkew))) {
      return ParseResult.rejected(
          new Violation(
              "ts", "more than " + human(maxFutureSkew) + " in the future", "too_far_in_future"));
    }
    if (ts.isBefore(now.minus(maxAge))) {
      return ParseResult.rejected(
          new Violation("ts", "older than the maximum age of " + human(maxAge), "too_old"));
    }
    body.put("ts", ts.toString());
    String id = body.path("event_id").asText(null);
    if (id == null) {
      id = deriveId(body);
      body.put("event_id", id);
    }
    return ParseResult.ok(new Event(type, body, id, body.get(type.scopeField()).asText(), ts));
  }

  /**
   * The id of an event that came without one: a hash of its canonical content (sorted keys, ts in
   * UTC), so that a retried request is stored once, and two truly identical id-less requests count
   * once.
   */
  public static String deriveId(ObjectNode canonicalWithoutId) {
    try {
      byte[] json =
          Json.MAPPER.writeValueAsBytes(Json.MAPPER.treeToValue(canonicalWithoutId, Object.class));
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(json);
      return "h-" + HexFormat.of().formatHex(digest, 0, 16);
    } catch (JsonProcessingException | NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void mapTokenAliases(ObjectNode body, List<Violation> violations) {
    for (Map.Entry<String, String> alias : TOKEN_ALIASES.entrySet()) {
      JsonNode v = body.remove(alias.getKey());
      if (v != null) {
        putCanonical(body, alias.getValue(), v, alias.getKey(), violations);
      }
    }
    JsonNode usage = body.remove("usage");
    if (usage == null) {
      return;
    }
    if (!usage.isObject()) {
      violations.add(
          new Violation(
              "usage",
              "expected an object with prompt_tokens and completion_tokens",
              "wrong_type"));
      return;
    }
    JsonNode prompt = usage.get("prompt_tokens");
    JsonNode completion = usage.get("completion_tokens");
    if (prompt != null) {
      putCanonical(body, "input_tokens", prompt, "usage.prompt_tokens", violations);
    }
    if (completion != null) {
      putCanonical(body, "output_tokens", completion, "usage.completion_tokens", violations);
    }
    JsonNode total = usage.get("total_tokens");
    if (total != null && prompt != null && completion != null) {
      if (!total.canConvertToLong()
          || !prompt.canConvertToLong()
          || !completion.canConvertToLong()
          || total.asLong() != prompt.asLong() + completion.asLong()) {
        violations.add(
            new Violation(
                "usage.total_tokens", "must equal prompt_tokens + completion_tokens", "conflict"));
      }
    }
  }

  private static void putCanonical(
      ObjectNode body, String field, JsonNode value, String from, List<Violation> violations) {
    JsonNode existing = body.get(field);
    if (existing != null && !existing.equals(value)) {
      violations.add(
          new Violation(from, "conflicts with " + field + " given in the same event", "conflict"));
      return;
    }
    body.set(field, value);
  }

  private static Violation toViolation(ValidationMessage m) {
    String path = m.getInstanceLocation().toString();
    // JSON Pointer ("/usage/prompt_tokens") or JSONPath ("$.usage.prompt_tokens") to a dotted field
    // name.
    String field = path.replaceFirst("^\\$\\.?", "").replaceFirst("^/", "").replace('/', '.');
    String type = m.getType();
    String message = m.getMessage();
    int colon = message.indexOf(": ");
    String reason =
        colon >= 0 && (message.startsWith("$") || message.startsWith("/"))
            ? message.substring(colon + 2)
            : message;
    return switch (type) {
      case "required" ->
          new Violation(join(field, m.getProperty()), "required field is missing", "missing_field");
      case "additionalProperties" ->
          new Violation(
              join(field, m.getProperty()),
              "unknown field (see the schema for the allowed fields)",
              "unknown_field");
      case "type" -> new Violation(field, reason, "wrong_type");
      case "false" ->
          new Violation(
              field,
              "not allowed here: a counter reading (reading_of) carries prompt_tokens_total,"
                  + " generation_tokens_total and requests_total; a request carries input_tokens"
                  + " and output_tokens",
              "conflict");
      case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum" ->
          new Violation(field, reason, "out_of_range");
      case "pattern", "format", "minLength", "maxLength" ->
          new Violation(field, reason, "bad_format");
      default -> new Violation(field, reason, "invalid");
    };
  }

  private static String join(String parent, String child) {
    return parent.isEmpty() ? String.valueOf(child) : parent + "." + child;
  }

  private static Violation jsonError(IOException e) {
    String msg =
        e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
    if (msg == null || msg.contains("com.fasterxml") || msg.contains("java.")) {
      msg = "malformed JSON";
    }
    int nl = msg.indexOf('\n');
    if (nl > 0) {
      msg = msg.substring(0, nl);
    }
    String code = msg.startsWith("Duplicate field") ? "duplicate_key" : "parse_error";
    if (e instanceof JsonProcessingException jpe && jpe.getLocation() != null) {
      JsonLocation loc = jpe.getLocation();
      msg = msg + " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }
    return new Violation("", "invalid JSON: " + msg, code);
  }

  private static String kind(JsonNode n) {
    return n.isArray()
        ? "an array"
        : n.isTextual()
            ? "a string"
            : n.isNumber()
                ? "a number"
                : n.isBoolean()
                    ? "a boolean"
                    : n.isNull() ? "null" : n.getNodeType().name().toLowerCase(Locale.ROOT);
  }

  /** The duration in its largest whole unit (a bound is never rounded in a message). */
  static String human(Duration d) {
    long ms = d.toMillis();
    if (ms % 1000 != 0) {
      return ms + "ms";
    }
    long s = ms / 1000;
    if (s > 0 && s % 86_400 == 0) {
      return s / 86_400 + "d";
    }
    if (s > 0 && s % 3600 == 0) {
      return s / 3600 + "h";
    }
    if (s > 0 && s % 60 == 0) {
      return s / 60 + "m";
    }
    return s + "s";
  }

  /** Canonical JSON bytes of an event body, as published to Kafka. */
  public static byte[] toBytes(ObjectNode body) {
    try {
      return Json.MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
