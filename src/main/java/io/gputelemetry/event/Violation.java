package io.gputelemetry.event;

/**
 * One reason an event was rejected: the field (JSON path without "$.", or "" for the whole event)
 * and why.
 */
public record Violation(String field, String reason, String code) {

  public Violation(String field, String reason) {
    this(field, reason, "invalid");
  }

  @Override
  public String toString() {
    return field.isEmpty() ? reason : field + ": " + reason;
  }
}
