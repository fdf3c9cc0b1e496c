package io.gputelemetry.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gputelemetry.config.AppConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One CloudEvent (JSON format, spec 1.0) carrying LLM token usage, as OpenMeter's clients send it,
 * to a token-usage body: {@code subject} is the tenant, {@code time} the event's time (the receive
 * time when absent), {@code data} fields by configuration, and the event id a hash of {@code
 * source} and {@code id} (the pair CloudEvents makes unique), so a resent event is stored once.
 */
public final class CloudEventMapping {
  /** The attribute whose presence makes a JSON object a CloudEvent. */
  public static final String SPECVERSION = "specversion";

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final Pattern DIGITS = Pattern.compile("\\s*\\d{1,18}\\s*");

  private final AppConfig.CloudEvents config;

  public CloudEventMapping(AppConfig.CloudEvents config) {
    this.config = config;
  }

  /** Whether a parsed element is a CloudEvent (rather than one of our token events). */
  public static boolean isCloudEvent(JsonNode n) {
    return n.isObject() && n.has(SPECVERSION);
  }

  public Translation map(JsonNode e, Instant received) {
    if (!e.isObject()) {
      return Translation.rejected("", "expected a CloudEvent (a JSON object)", "not_object");
    }
    JsonNode spec = e.get(SPECVERSION);
    if (spec == null || !"1.0".equals(spec.asText())) {
      return Translation.rejected(
          SPECVERSION, "must be \"1.0\", got " + (spec == null ? "none" : spec), "bad_format");
    }
    String id = attribute(e, "id");
    String source = attribute(e, "source");
    if (id == null || source == null || attribute(e, "type") == null) {
      String missing = id == null ? "id" : source == null ? "source" : "type";
      return Translation.rejected(
          missing, "required CloudEvents attribute is missing or empty", "missing_field");
    }
    JsonNode dct = e.get("datacontenttype");
    if (dct != null
        && !dct.isNull()
        && !dct.asText().toLowerCase(Locale.ROOT).startsWith("application/json")) {
      return Translation.rejected(
          "datacontenttype", "only application/json data is read", "bad_format");
    }
    JsonNode data = e.get("data");
    if (data == null || !data.isObject()) {
      return Translation.rejected(
          "data",
          "expected an object with the token counts",
          data == null ? "missing_field" : "wrong_type");
    }
    ObjectNode o = JSON.objectNode();
    Map<String, String> from = new HashMap<>();
    o.put("event_id", eventId(source, id));
    JsonNode time = e.get("time");
    if (time == null || time.isNull()) {
      o.put("ts", received.toString());
    } else {
      o.set("ts", time);
      from.put("ts", "time");
    }
    JsonNode subject = e.get("subject");
    if (subject != null && !subject.isNull()) {
      o.set("tenant", subject);
    }
    from.put("tenant", "subject");
    copy(data, config.modelField(), o, "model", from);
    copy(data, config.providerField(), o, "provider", from);
    JsonNode in = Translation.at(data, config.inputTokensField());
    JsonNode out = Translation.at(data, config.outputTokensField());
    if (in != null || out != null) {
      Translation bad = count(in, config.inputTokensField(), o, "input_tokens", from);
      bad = bad != null ? bad : count(out, config.outputTokensField(), o, "output_tokens", from);
      if (bad != null) {
        return bad;
      }
    } else {
      String typeField = "data." + config.typeField();
      JsonNode type = Translation.at(data, config.typeField());
      String t = type == null ? null : type.asText().toLowerCase(Locale.ROOT);
      String ours =
          t == null
              ? null
              : config.inputTypes().contains(t)
                  ? "input_tokens"
                  : config.outputTypes().contains(t) ? "output_tokens" : null;
      if (ours == null) {
        return Translation.rejected(
            type == null ? "data." + config.tokensField() : typeField,
            type == null
                ? "no token counts: expected data."
                    + config.tokensField()
                    + " with data."
                    + config.typeField()
                    + ", or data."
                    + config.inputTokensField()
                    + " / data."
                    + config.outputTokensField()
                : "'"
                    + type.asText()
                    + "' is neither an input type "
                    + config.inputTypes()
                    + " nor an output type "
                    + config.outputTypes(),
            type == null ? "missing_field" : "bad_format");
      }
      Translation bad =
          count(Translation.at(data, config.tokensField()), config.tokensField(), o, ours, from);
      if (bad != null) {
        return bad;
      }
      o.put(ours.equals("input_tokens") ? "output_tokens" : "input_tokens", 0);
    }
    return Translation.of(o, from);
  }

  /** A count: a JSON number as it is (the schema judges it), or a string of digits. */
  private static Translation count(
      JsonNode v, String path, ObjectNode o, String ours, Map<String, String> from) {
    from.put(ours, "data." + path);
    if (v == null) {
      o.put(ours, 0);
      return null;
    }
    if (v.isTextual()) {
      if (!DIGITS.matcher(v.asText()).matches()) {
        return Translation.rejected(
            "data." + path,
            "expected a token count (a number, or a string of digits)",
            "wrong_type");
      }
      o.put(ours, Long.parseLong(v.asText().trim()));
      return null;
    }
    o.set(ours, v);
    return null;
  }

  private static void copy(
      JsonNode data, String path, ObjectNode o, String ours, Map<String, String> from) {
    JsonNode v = Translation.at(data, path);
    if (v != null) {
      o.set(ours, v);
    }
    from.put(ours, "data." + path);
  }

  private static String attribute(JsonNode e, String name) {
    JsonNode v = e.get(name);
    return v != null && v.isTextual() && !v.asText().isEmpty() ? v.asText() : null;
  }

  /** {@code ce-} and 32 hex digits of SHA-256(source NUL id): the same event, the same id. */
  static String eventId(String source, String id) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(source.getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(id.getBytes(StandardCharsets.UTF_8));
      return "ce-" + HexFormat.of().formatHex(md.digest(), 0, 16);
    } catch (NoSuchAlgorithmException ex) {
      throw new IllegalStateException(ex);
    }
  }
}
