package io.gputelemetry.event;

import java.util.List;

/** An event, or why there is none. */
public record ParseResult(Event event, List<Violation> violations) {

  public static ParseResult ok(Event e) {
    return new ParseResult(e, List.of());
  }

  public static ParseResult rejected(List<Violation> v) {
    return new ParseResult(null, List.copyOf(v));
  }

  public static ParseResult rejected(Violation v) {
    return new ParseResult(null, List.of(v));
  }

  public boolean ok() {
    return event != null;
  }

  /**
   * A short, bounded-cardinality reason for metrics and DLQ headers: the first violation's code.
   */
  public String reasonCode() {
    return violations.isEmpty() ? "none" : violations.get(0).code();
  }
}
