package io.gputelemetry.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.config.AppConfig;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.HashMap;
import java.util.Map;

/**
 * One LiteLLM {@code StandardLoggingPayload} (what its generic API logger posts, one per request)
 * to a token-usage body: {@code id} is the event id, {@code endTime} its time, {@code endTime -
 * startTime} the latency, {@code completionStartTime - startTime} the time to first token, the
 * tenant the first of the configured metadata fields that is set, {@code api_base} the deployment
 * (node and GPU, from configuration), {@code response_cost} the cost LiteLLM reported.
 */
public final class LiteLlmMapping {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  /** Naive date-times as LiteLLM writes them: {@code 2025-01-24 09:20:46.847371} or ISO with T. */
  private static final DateTimeFormatter NAIVE =
      new DateTimeFormatterBuilder()
          .appendPattern("yyyy-MM-dd")
          .optionalStart()
          .appendLiteral('T')
          .optionalEnd()
          .optionalStart()
          .appendLiteral(' ')
          .optionalEnd()
          .appendPattern("HH:mm:ss")
          .optionalStart()
          .appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true)
          .optionalEnd()
          .toFormatter();

  private final AppConfig.LiteLlm config;

  public LiteLlmMapping(AppConfig.LiteLlm config) {
    this.config = config;
  }

  /** Maps one payload; {@code now} is not used for its time (a payload always has endTime). */
  public Translation map(JsonNode p) {
    if (!p.isObject()) {
      return Translation.rejected(
          "", "expected a LiteLLM logging payload (a JSON object)", "not_object");
    }
    if ("failure".equals(text(p, "status"))) {
      return Translation.skipped("a failed request (status failure) carries no usage");
    }
    ObjectNode o = JSON.objectNode();
    Map<String, String> from = new HashMap<>();
    copy(p, "id", o, "event_id", from);
    copy(p, "model", o, "model", from);
    copy(p, "prompt_tokens", o, "input_tokens", from);
    copy(p, "completion_tokens", o, "output_tokens", from);
    String provider = text(p, "custom_llm_provider");
    if (provider != null) {
      o.put("provider", provider);
      from.put("provider", "custom_llm_provider");
    }
    JsonNode cost = Translation.at(p, "response_cost");
    if (cost != null) {
      o.set("reported_cost_usd", cost);
      from.put("reported_cost_usd", "response_cost");
    }
    Instant end;
    Instant start;
    Instant first;
    try {
      end = time(p, "endTime");
      start = time(p, "startTime");
      first = time(p, "completionStartTime");
    } catch (BadTime e) {
      return Translation.rejected(e.field, e.getMessage(), "bad_format");
    }
    if (end == null) {
      return Translation.rejected("endTime", "required field is missing", "missing_field");
    }
    o.put("ts", end.toString());
    from.put("ts", "endTime");
    if (start != null) {
      if (end.isBefore(start)) {
        return Translation.rejected("startTime", "later than endTime", "conflict");
      }
      o.put("latency_ms", millis(start, end));
      from.put("latency_ms", "startTime");
      if (first != null && !first.isBefore(start)) {
        o.put("ttft_ms", millis(start, first));
        from.put("ttft_ms", "completionStartTime");
      }
    }
    String tenant = null;
    for (String field : config.tenantFrom()) {
      tenant = text(p, field);
      if (tenant != null) {
        from.put("tenant", field);
        break;
      }
    }
    if (tenant == null) {
      tenant = config.defaultTenant();
    }
    if (tenant == null) {
      return Translation.rejected(
          config.tenantFrom().get(0),
          "no tenant: none of " + String.join(", ", config.tenantFrom()) + " is set",
          "missing_field");
    }
    o.put("tenant", tenant);
    String base = text(p, "api_base");
    AppConfig.Deployment d = base == null ? null : config.deployment(base);
    if (d != null) {
      o.put("node", d.node());
      if (d.gpuUuid() != null) {
        o.put("gpu_uuid", d.gpuUuid());
      }
    }
    return Translation.of(o, from);
  }

  private static void copy(
      JsonNode p, String field, ObjectNode o, String ours, Map<String, String> from) {
    JsonNode v = Translation.at(p, field);
    if (v != null) {
      o.set(ours, v);
      from.put(ours, field);
    }
  }

  /** A non-empty text at the path, or null. */
  private static String text(JsonNode p, String path) {
    JsonNode v = Translation.at(p, path);
    return v != null && v.isTextual() && !v.asText().isBlank() ? v.asText() : null;
  }

  private static double millis(Instant from, Instant to) {
    long nanos =
        (to.getEpochSecond() - from.getEpochSecond()) * 1_000_000_000L
            + (to.getNano() - from.getNano());
    return Math.round(nanos / 1_000.0) / 1_000.0;
  }

  /** A float epoch (seconds), a date-time with an offset, or a naive one in the configured zone. */
  private Instant time(JsonNode p, String field) {
    JsonNode v = Translation.at(p, field);
    if (v == null) {
      return null;
    }
    if (v.isNumber()) {
      BigDecimal s = v.decimalValue();
      if (s.signum() < 0 || s.compareTo(BigDecimal.valueOf(253402300799L)) > 0) {
        throw new BadTime(field, "not an epoch time in seconds: " + v);
      }
      long whole = s.longValue();
      long nanos = s.subtract(BigDecimal.valueOf(whole)).movePointRight(9).longValue();
      return Instant.ofEpochSecond(whole, nanos);
    }
    if (!v.isTextual()) {
      throw new BadTime(field, "expected epoch seconds or a date-time, got " + v.getNodeType());
    }
    String t = v.asText().trim();
    try {
      return OffsetDateTime.parse(t).toInstant();
    } catch (DateTimeParseException e) {
      // naive, below
    }
    try {
      return LocalDateTime.parse(t, NAIVE).atZone(config.naiveTimezone()).toInstant();
    } catch (DateTimeParseException e) {
      throw new BadTime(
          field,
          "not a date-time (expected epoch seconds, RFC 3339 or 2025-01-24 09:20:46.847371)");
    }
  }

  private static final class BadTime extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String field;

    BadTime(String field, String message) {
      super(message, null, false, false);
      this.field = field;
    }
  }
}
