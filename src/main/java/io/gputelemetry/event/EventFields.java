package io.gputelemetry.event;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The fields of each event type, read from its JSON Schema at start-up: name, position, kind,
 * whether required, and the schema's constraints as plain checks. The fast path of {@link
 * EventParser} validates an event with these in one pass and leaves anything they do not accept to
 * the full schema validator, which then gives the precise reason. A constraint these checks do not
 * understand (a pattern of another shape, an enum, ...) makes the field's check refuse everything,
 * so the schema decides: adding a field is a change to the schema only.
 */
public final class EventFields {
  private EventFields() {}

  /** How a field's value is read and stored. */
  public enum Kind {
    /** A date-time string, stored as a BSON date. */
    TS,
    /** A string. */
    TEXT,
    /** A JSON integer. */
    INT,
    /** Any JSON number. */
    NUM,
    /** Anything else the schema allows: always left to the schema validator. */
    OTHER
  }

  /**
   * The schema keywords the plain checks understand; any other keyword leaves a field unchecked.
   */
  private static final Set<String> UNDERSTOOD =
      Set.of(
          "type",
          "format",
          "pattern",
          "minLength",
          "maxLength",
          "minimum",
          "maximum",
          "exclusiveMinimum",
          "exclusiveMaximum",
          "description",
          "title",
          "examples");

  /** One field: its position in an event's value array, its kind, and its constraints. */
  public static final class Field {
    private final String name;
    private final int index;
    private final Kind kind;
    private final boolean required;
    private final boolean checkable;
    private final double min;
    private final boolean exclusiveMin;
    private final double max;
    private final boolean exclusiveMax;
    private final int minLength;
    private final int maxLength;
    private final CharRule chars;

    Field(String name, int index, boolean required, JsonNode s) {
      this.name = name;
      this.index = index;
      this.required = required;
      String type = s.path("type").asText("");
      this.kind =
          switch (type) {
            case "string" -> "date-time".equals(s.path("format").asText()) ? Kind.TS : Kind.TEXT;
            case "integer" -> Kind.INT;
            case "number" -> Kind.NUM;
            default -> Kind.OTHER;
          };
      boolean understood = kind != Kind.OTHER;
      for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
        understood &= UNDERSTOOD.contains(it.next());
      }
      String format = s.path("format").asText(null);
      understood &= format == null || kind == Kind.TS;
      this.exclusiveMin = s.has("exclusiveMinimum");
      this.min =
          s.path(exclusiveMin ? "exclusiveMinimum" : "minimum").asDouble(Double.NEGATIVE_INFINITY);
      this.exclusiveMax = s.has("exclusiveMaximum");
      this.max =
          s.path(exclusiveMax ? "exclusiveMaximum" : "maximum").asDouble(Double.POSITIVE_INFINITY);
      CharRule rule = s.has("pattern") ? CharRule.parse(s.get("pattern").asText()) : CharRule.ANY;
      understood &= rule != null;
      this.chars = rule == null ? CharRule.ANY : rule;
      this.minLength = Math.max(s.path("minLength").asInt(0), this.chars.minLength());
      this.maxLength =
          Math.min(s.path("maxLength").asInt(Integer.MAX_VALUE), this.chars.maxLength());
      this.checkable = understood;
    }

    public String name() {
      return name;
    }

    public int index() {
      return index;
    }

    public Kind kind() {
      return kind;
    }

    public boolean required() {
      return required;
    }

    /** Whether a string value is certainly valid (false: let the schema validator decide). */
    public boolean acceptsText(String s) {
      if (!checkable || (kind != Kind.TEXT && kind != Kind.TS)) {
        return false;
      }
      int n = s.length();
      // Lengths in UTF-16 units are never fewer than code points: within the maximum is within it.
      if (n > maxLength) {
        return false;
      }
      if (n < minLength || (n < 2 * minLength && s.codePointCount(0, n) < minLength)) {
        return false;
      }
      return chars.accepts(s);
    }

    /** Whether a number is certainly within the bounds. */
    public boolean acceptsNumber(double v) {
      return checkable
          && (kind == Kind.INT || kind == Kind.NUM)
          && Double.isFinite(v)
          && (exclusiveMin ? v > min : v >= min)
          && (exclusiveMax ? v < max : v <= max);
    }

    @Override
    public String toString() {
      return name + "#" + index + " " + kind;
    }
  }

  /** The fields of one event type, by name and by index. */
  public static final class Fields {
    private final List<Field> list;
    private final Map<String, Field> byName = new HashMap<>();
    private final long requiredMask;
    private final long variantMask;

    /**
     * A schema with an if/then/else on required fields (token usage: a request or a counter
     * reading) is read as: the else branch is the common case, whose required fields the plain
     * checks require; a field the if or then branch requires marks the other variant, which the
     * plain checks leave to the schema validator.
     */
    Fields(JsonNode schema) {
      Set<String> required = new HashSet<>();
      schema.path("required").forEach(n -> required.add(n.asText()));
      schema.path("else").path("required").forEach(n -> required.add(n.asText()));
      Set<String> variant = new HashSet<>();
      schema.path("if").path("required").forEach(n -> variant.add(n.asText()));
      schema.path("then").path("required").forEach(n -> variant.add(n.asText()));
      List<Field> fields = new ArrayList<>();
      long mask = 0;
      long other = 0;
      for (Iterator<Map.Entry<String, JsonNode>> it = schema.path("properties").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> p = it.next();
        Field f = new Field(p.getKey(), fields.size(), required.contains(p.getKey()), p.getValue());
        fields.add(f);
        byName.put(f.name(), f);
        if (f.required()) {
          mask |= 1L << f.index();
        }
        if (variant.contains(f.name())) {
          other |= 1L << f.index();
        }
      }
      if (fields.size() > 63) {
        throw new IllegalStateException("an event type may have at most 63 fields");
      }
      this.list = List.copyOf(fields);
      this.requiredMask = mask;
      this.variantMask = other;
    }

    public List<Field> all() {
      return list;
    }

    /** The field of that name, or null. */
    public Field get(String name) {
      return byName.get(name);
    }

    /** The field of that name; fails when the schema has none (a field the code relies on). */
    public Field require(String name) {
      Field f = byName.get(name);
      if (f == null) {
        throw new IllegalStateException("the schema has no field " + name);
      }
      return f;
    }

    public int size() {
      return list.size();
    }

    /** Bit i set for each required field i (of the common variant). */
    public long requiredMask() {
      return requiredMask;
    }

    /** Bit i set for each field i that marks the other variant (left to the schema validator). */
    public long variantMask() {
      return variantMask;
    }
  }

  public static final Fields GPU_SAMPLE = new Fields(Schemas.of(EventType.GPU_SAMPLE));
  public static final Fields TOKEN_USAGE = new Fields(Schemas.of(EventType.TOKEN_USAGE));

  /** The id field, the same name in both types. */
  public static final String EVENT_ID = "event_id";

  // The fields the code itself reads (everything else is handled by name, from the schema).
  public static final Field G_NODE = GPU_SAMPLE.require("node");
  public static final Field G_WRITER = GPU_SAMPLE.require("writer");
  public static final Field G_GPU_INDEX = GPU_SAMPLE.require("gpu_index");
  public static final Field G_GPU_MODEL = GPU_SAMPLE.require("gpu_model");
  public static final Field G_MODEL = GPU_SAMPLE.require("model");
  public static final Field G_MEMORY_TOTAL = GPU_SAMPLE.require("memory_total_mib");
  public static final Field G_MAX_GAP = GPU_SAMPLE.require("max_gap_s");
  public static final Field G_MIG_PARENT = GPU_SAMPLE.require("mig_parent_uuid");
  public static final Field T_TENANT = TOKEN_USAGE.require("tenant");
  public static final Field T_MODEL = TOKEN_USAGE.require("model");
  public static final Field T_INPUT = TOKEN_USAGE.require("input_tokens");
  public static final Field T_OUTPUT = TOKEN_USAGE.require("output_tokens");
  public static final Field T_GPU_UUID = TOKEN_USAGE.require("gpu_uuid");
  public static final Field T_READING_OF = TOKEN_USAGE.require("reading_of");
  public static final Field T_PROMPT_TOTAL = TOKEN_USAGE.require("prompt_tokens_total");
  public static final Field T_GENERATION_TOTAL = TOKEN_USAGE.require("generation_tokens_total");
  public static final Field T_REQUESTS_TOTAL = TOKEN_USAGE.require("requests_total");
  public static final Field T_COUNTERS_SINCE = TOKEN_USAGE.require("counters_since_s");

  public static Fields of(EventType type) {
    return type == EventType.GPU_SAMPLE ? GPU_SAMPLE : TOKEN_USAGE;
  }
}
