package io.gputelemetry.event;

import java.util.List;
import java.util.Set;

/**
 * One reason an event was rejected: the field (JSON path without "$.", or "" for the whole event)
 * and why. The code is one of {@link #CODES}: it labels metrics, which exist at zero for each code
 * from start-up, so a new code is added there.
 */
public record Violation(String field, String reason, String code) {

  /** Every code a violation can carry, in the order the docs list them. */
  public static final List<String> CODES =
      List.of(
          "parse_error",
          "duplicate_key",
          "not_object",
          "unknown_field",
          "missing_field",
          "wrong_type",
          "out_of_range",
          "bad_format",
          "conflict",
          "too_old",
          "too_far_in_future",
          "forbidden",
          "invalid");

  private static final Set<String> KNOWN = Set.copyOf(CODES);

  public Violation {
    if (!KNOWN.contains(code)) {
      throw new IllegalArgumentException("unknown violation code: " + code);
    }
  }

  public Violation(String field, String reason) {
    this(field, reason, "invalid");
  }

  @Override
  public String toString() {
    return field.isEmpty() ? reason : field + ": " + reason;
  }
}
