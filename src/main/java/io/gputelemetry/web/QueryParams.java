package io.gputelemetry.web;

import io.gputelemetry.config.Settings;
import io.vertx.core.MultiMap;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The query parameters of one route, as a table: each parameter with its default and how its text
 * becomes a value. Anything else in the query string (an unknown or a repeated parameter, a value
 * that does not parse) is a {@link BadParameter} naming the parameter.
 */
final class QueryParams {
  /** A parameter that cannot be used; the answer is 400 naming it. */
  static final class BadParameter extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String parameter;

    BadParameter(String parameter, String message) {
      super(message, null, false, false);
      this.parameter = parameter;
    }
  }

  /** One parameter: its name, its default (null: none), and its parser. */
  record Param(String name, String fallback, String whenMissing, Function<String, Object> parse) {}

  private static final String RFC3339 = "RFC 3339, e.g. 2026-11-28T12:00:00Z";
  private static final Instant EARLIEST = Instant.parse("0000-01-01T00:00:00Z");
  private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999999Z");

  /** A required RFC 3339 date-time. */
  static Param instant(String name) {
    return new Param(
        name,
        null,
        "is required (" + RFC3339 + ")",
        v -> {
          Instant t;
          try {
            t = OffsetDateTime.parse(v).toInstant();
          } catch (DateTimeParseException e) {
            throw new BadParameter(
                name, "must be an RFC 3339 date-time such as 2026-11-28T12:00:00Z");
          }
          // RFC 3339 years have four digits; java.time takes years of up to nine, whose
          // milliseconds overflow a long.
          if (t.isBefore(EARLIEST) || t.isAfter(LATEST)) {
            throw new BadParameter(
                name, "must be an RFC 3339 date-time from year 0000 to 9999 (" + RFC3339 + ")");
          }
          return t;
        });
  }

  /** One of some values, case-insensitive; the value is the lower-case name. */
  static Param choice(String name, String fallback, List<String> values) {
    return new Param(
        name,
        fallback,
        null,
        v -> {
          String lower = v.toLowerCase(Locale.ROOT);
          if (!values.contains(lower)) {
            throw new BadParameter(name, "must be one of " + String.join(", ", values));
          }
          return lower;
        });
  }

  /** A duration such as 30s or 5m within [min, max]. */
  static Param duration(String name, String fallback, Duration min, Duration max, String expected) {
    return new Param(
        name,
        fallback,
        null,
        v -> {
          Duration d = Settings.parseDuration(v);
          if (d == null || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new BadParameter(name, expected);
          }
          return d;
        });
  }

  /** An integer within [min, max]. */
  static Param integer(String name, int fallback, int min, int max) {
    return new Param(
        name,
        Integer.toString(fallback),
        null,
        v -> {
          try {
            int i = Integer.parseInt(v);
            if (i >= min && i <= max) {
              return i;
            }
          } catch (NumberFormatException e) {
            // answered below
          }
          throw new BadParameter(name, "must be an integer from " + min + " to " + max);
        });
  }

  /** Any text (a filter). */
  static Param text(String name) {
    return new Param(name, null, null, v -> v);
  }

  /** A request's [from, to) in ms. */
  record Span(long from, long to) {}

  /**
   * The request's from and to (both {@link #instant} parameters): to after from, and the range at
   * most {@code maxRange} long (api.max-range).
   */
  static Span span(Values q, Duration maxRange) {
    long from = q.instant("from").toEpochMilli();
    long to = q.instant("to").toEpochMilli();
    if (to <= from) {
      throw new BadParameter("to", "must be after from");
    }
    if (to - from > maxRange.toMillis()) {
      throw new BadParameter(
          "to", "range exceeds the maximum of " + maxRange.toDays() + " days (api.max-range)");
    }
    return new Span(from, to);
  }

  /** The values of one request, by parameter name. */
  static final class Values {
    private final Map<String, Object> values;

    private Values(Map<String, Object> values) {
      this.values = values;
    }

    Instant instant(String name) {
      return (Instant) values.get(name);
    }

    Duration duration(String name) {
      return (Duration) values.get(name);
    }

    int integer(String name) {
      return (Integer) values.get(name);
    }

    /** A parameter of any other kind; null when absent without a default. */
    Object value(String name) {
      return values.get(name);
    }

    /** A text or choice parameter; null when absent without a default. */
    String text(String name) {
      return (String) values.get(name);
    }
  }

  private final Map<String, Param> params = new LinkedHashMap<>();

  QueryParams(Param... params) {
    for (Param p : params) {
      this.params.put(p.name(), p);
    }
  }

  /** Parses a request's query string; throws {@link BadParameter} for the first problem. */
  Values parse(MultiMap query) {
    for (String name : query.names()) {
      if (!params.containsKey(name)) {
        throw new BadParameter(
            name,
            "is not a parameter of this route"
                + (params.isEmpty()
                    ? ""
                    : " (it takes " + String.join(", ", params.keySet()) + ")"));
      }
      if (query.getAll(name).size() > 1) {
        throw new BadParameter(name, "is given more than once");
      }
    }
    Map<String, Object> values = new HashMap<>();
    for (Param p : params.values()) {
      String raw = query.get(p.name());
      if (raw == null) {
        raw = p.fallback();
      }
      if (raw == null) {
        if (p.whenMissing() != null) {
          throw new BadParameter(p.name(), p.whenMissing());
        }
        continue;
      }
      values.put(p.name(), p.parse().apply(raw));
    }
    return new Values(values);
  }
}
