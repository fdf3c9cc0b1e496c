package io.gputelemetry.event;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The canonical fields of each event type, with the constraints of its JSON Schema, as plain
 * checks: the fast path of {@link EventParser} validates an event with these in one pass and leaves
 * anything they do not accept to the full schema validator, which then gives the precise reason.
 * {@code EventFieldsTest} proves these tables equal the shipped schemas (names, required set,
 * types, bounds, lengths, patterns), so the two cannot drift apart.
 */
public final class EventFields {
  private EventFields() {}

  /** How a field's value is checked and stored. */
  public enum Kind {
    /** event_id: 1-128 printable ASCII characters without space. */
    ID,
    /** ts: an RFC 3339 date-time, stored as a BSON date. */
    TS,
    /**
     * A string with a length range and optionally a character class (first and following
     * characters).
     */
    TEXT,
    /** A JSON integer in a range. */
    INT,
    /** Any JSON number in a range. */
    NUM
  }

  /** Character classes of the schema's patterns. */
  public enum Chars {
    ANY,
    NAME,
    TENANT;

    boolean first(char c) {
      return this == ANY
          || (c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9');
    }

    boolean rest(char c) {
      return switch (this) {
        case ANY -> true;
        case NAME -> first(c) || c == '.' || c == '_' || c == ':' || c == '-';
        case TENANT -> first(c) || c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
      };
    }
  }

  /** One field: its position in the event's value array, kind and bounds. */
  public record Field(
      String name,
      int index,
      Kind kind,
      boolean required,
      double min,
      boolean exclusiveMin,
      double max,
      int maxLength,
      Chars chars) {

    /** Whether a string value is certainly valid (false: let the schema validator decide). */
    public boolean acceptsText(String s) {
      int n = s.length();
      if (kind == Kind.ID) {
        if (n < 1 || n > 128) {
          return false;
        }
        for (int i = 0; i < n; i++) {
          char c = s.charAt(i);
          if (c < '!' || c > '~') {
            return false;
          }
        }
        return true;
      }
      // Lengths in UTF-16 units: never fewer than code points, so within the maximum is within it.
      if (n < 1 || n > maxLength || !chars.first(s.charAt(0))) {
        return false;
      }
      if (chars != Chars.ANY) {
        for (int i = 1; i < n; i++) {
          if (!chars.rest(s.charAt(i))) {
            return false;
          }
        }
      }
      return true;
    }

    /** Whether a number is within the bounds. */
    public boolean acceptsNumber(double v) {
      return Double.isFinite(v) && (exclusiveMin ? v > min : v >= min) && v <= max;
    }
  }

  /** The fields of one event type, by name and by index. */
  public static final class Fields {
    private final List<Field> list;
    private final Map<String, Field> byName = new HashMap<>();
    private final long requiredMask;

    Fields(List<Field> list) {
      this.list = list;
      long mask = 0;
      for (Field f : list) {
        byName.put(f.name(), f);
        if (f.required()) {
          mask |= 1L << f.index();
        }
      }
      this.requiredMask = mask;
    }

    public List<Field> all() {
      return list;
    }

    public Field get(String name) {
      return byName.get(name);
    }

    public int size() {
      return list.size();
    }

    /** Bit i set for each required field i. */
    public long requiredMask() {
      return requiredMask;
    }
  }

  private static final double MAX_SAFE_INTEGER = 9007199254740991d;
  private static int next;

  private static Field id() {
    return new Field("event_id", next++, Kind.ID, false, 0, false, 0, 128, Chars.ANY);
  }

  private static Field ts() {
    return new Field("ts", next++, Kind.TS, true, 0, false, 0, 40, Chars.ANY);
  }

  private static Field text(String name, boolean required, int maxLength, Chars chars) {
    return new Field(name, next++, Kind.TEXT, required, 0, false, 0, maxLength, chars);
  }

  private static Field integer(String name, boolean required, double min, double max) {
    return new Field(name, next++, Kind.INT, required, min, false, max, 0, Chars.ANY);
  }

  private static Field number(
      String name, boolean required, double min, boolean exclusiveMin, double max) {
    return new Field(name, next++, Kind.NUM, required, min, exclusiveMin, max, 0, Chars.ANY);
  }

  // gpu.metrics.v1 (indexes follow the declaration order below)
  public static final Field G_EVENT_ID;
  public static final Field G_TS;
  public static final Field G_NODE;
  public static final Field G_GPU_UUID;
  public static final Field G_GPU_INDEX;
  public static final Field G_GPU_MODEL;
  public static final Field G_MODEL;
  public static final Field G_UTILIZATION;
  public static final Field G_MEMORY_USED;
  public static final Field G_MEMORY_TOTAL;
  public static final Field G_POWER;
  public static final Field G_ENERGY;
  public static final Field G_TEMPERATURE;
  public static final Field G_SM_CLOCK;
  public static final Field G_XID;
  public static final Fields GPU_SAMPLE;

  // token.usage.v1
  public static final Field T_EVENT_ID;
  public static final Field T_TS;
  public static final Field T_TENANT;
  public static final Field T_MODEL;
  public static final Field T_PROVIDER;
  public static final Field T_INPUT;
  public static final Field T_OUTPUT;
  public static final Field T_LATENCY;
  public static final Field T_GPU_UUID;
  public static final Field T_NODE;
  public static final Fields TOKEN_USAGE;

  static {
    next = 0;
    G_EVENT_ID = id();
    G_TS = ts();
    G_NODE = text("node", true, 253, Chars.NAME);
    G_GPU_UUID = text("gpu_uuid", true, 128, Chars.NAME);
    G_GPU_INDEX = integer("gpu_index", false, 0, 1023);
    G_GPU_MODEL = text("gpu_model", true, 128, Chars.ANY);
    G_MODEL = text("model", false, 256, Chars.ANY);
    G_UTILIZATION = number("utilization_pct", true, 0, false, 100);
    G_MEMORY_USED = number("memory_used_mib", true, 0, false, 16777216);
    G_MEMORY_TOTAL = number("memory_total_mib", true, 0, true, 16777216);
    G_POWER = number("power_w", true, 0, false, 10000);
    G_ENERGY = integer("energy_mj", false, 0, MAX_SAFE_INTEGER);
    G_TEMPERATURE = number("temperature_c", true, -50, false, 200);
    G_SM_CLOCK = integer("sm_clock_mhz", false, 0, 100000);
    G_XID = integer("xid_errors", false, 0, MAX_SAFE_INTEGER);
    GPU_SAMPLE =
        new Fields(
            List.of(
                G_EVENT_ID,
                G_TS,
                G_NODE,
                G_GPU_UUID,
                G_GPU_INDEX,
                G_GPU_MODEL,
                G_MODEL,
                G_UTILIZATION,
                G_MEMORY_USED,
                G_MEMORY_TOTAL,
                G_POWER,
                G_ENERGY,
                G_TEMPERATURE,
                G_SM_CLOCK,
                G_XID));

    next = 0;
    T_EVENT_ID = id();
    T_TS = ts();
    T_TENANT = text("tenant", true, 128, Chars.TENANT);
    T_MODEL = text("model", true, 256, Chars.ANY);
    T_PROVIDER = text("provider", false, 128, Chars.ANY);
    T_INPUT = integer("input_tokens", true, 0, 100_000_000);
    T_OUTPUT = integer("output_tokens", true, 0, 100_000_000);
    T_LATENCY = number("latency_ms", false, 0, false, 86_400_000);
    T_GPU_UUID = text("gpu_uuid", false, 128, Chars.NAME);
    T_NODE = text("node", false, 253, Chars.NAME);
    TOKEN_USAGE =
        new Fields(
            List.of(
                T_EVENT_ID,
                T_TS,
                T_TENANT,
                T_MODEL,
                T_PROVIDER,
                T_INPUT,
                T_OUTPUT,
                T_LATENCY,
                T_GPU_UUID,
                T_NODE));
  }

  public static Fields of(EventType type) {
    return type == EventType.GPU_SAMPLE ? GPU_SAMPLE : TOKEN_USAGE;
  }
}
