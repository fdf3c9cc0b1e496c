package io.gputelemetry.source;

import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Reading OTLP attributes: look-ups by key, values as text or whole numbers. */
final class OtlpAttributes {
  private OtlpAttributes() {}

  /** The value of a key, or null (attribute lists are short: a scan beats a map). */
  static AnyValue find(List<KeyValue> attributes, String key) {
    for (int i = 0, n = attributes.size(); i < n; i++) {
      KeyValue kv = attributes.get(i);
      if (kv.getKey().equals(key)) {
        return kv.getValue();
      }
    }
    return null;
  }

  /** A scalar value as text (null when absent, empty or not a scalar). */
  static String text(AnyValue v) {
    if (v == null) {
      return null;
    }
    String s =
        switch (v.getValueCase()) {
          case STRING_VALUE -> v.getStringValue();
          case INT_VALUE -> Long.toString(v.getIntValue());
          case DOUBLE_VALUE -> Double.toString(v.getDoubleValue());
          case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
          default -> null;
        };
    return s == null || s.isEmpty() ? null : s;
  }

  /** The first of {@code keys} present in {@code first}, else in {@code second}, as text. */
  static String firstText(List<String> keys, List<KeyValue> first, List<KeyValue> second) {
    for (String k : keys) {
      String v = text(find(first, k));
      if (v == null && second != null) {
        v = text(find(second, k));
      }
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  /** Why a value is not a whole number, or null when it is one (then see {@link #whole}). */
  static String notWhole(AnyValue v) {
    return switch (v.getValueCase()) {
      case INT_VALUE -> null;
      case DOUBLE_VALUE -> {
        double d = v.getDoubleValue();
        yield Double.isFinite(d) && d == Math.rint(d) && Math.abs(d) < 9.0e15
            ? null
            : "not a whole number (" + d + ")";
      }
      case STRING_VALUE -> {
        try {
          Long.parseLong(v.getStringValue().trim());
          yield null;
        } catch (NumberFormatException e) {
          yield "not a whole number ('" + abbreviate(v.getStringValue()) + "')";
        }
      }
      default ->
          "not a number (" + v.getValueCase().name().toLowerCase(java.util.Locale.ROOT) + ")";
    };
  }

  /** A value {@link #notWhole} accepted, as a long. */
  static long whole(AnyValue v) {
    return switch (v.getValueCase()) {
      case INT_VALUE -> v.getIntValue();
      case DOUBLE_VALUE -> (long) v.getDoubleValue();
      default -> Long.parseLong(v.getStringValue().trim());
    };
  }

  /** Every scalar attribute, sorted by key: the identity of a series in messages and ids. */
  static Map<String, String> sorted(List<KeyValue> attributes, String except) {
    Map<String, String> m = new TreeMap<>();
    for (KeyValue kv : attributes) {
      if (!kv.getKey().equals(except)) {
        m.put(kv.getKey(), String.valueOf(text(kv.getValue())));
      }
    }
    return m;
  }

  /** An OTLP time (nanoseconds since the epoch) as an instant. */
  static Instant instant(long unixNanos) {
    return Instant.ofEpochSecond(
        Math.floorDiv(unixNanos, 1_000_000_000L), Math.floorMod(unixNanos, 1_000_000_000L));
  }

  static String abbreviate(String s) {
    return s.length() <= 64 ? s : s.substring(0, 64) + "…";
  }
}
